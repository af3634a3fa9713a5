// A small SVG chart of a rate history: uplink and downlink as two lines, scaled to their peak.
import { svg } from './dom.js';
import { SAMPLES } from './rates.js';

const W = 60;
const H = 16;

export function makeSparkline() {
  const root = svg('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, width: W, height: H, 'aria-hidden': 'true' });
  root.append(svg('polyline', { class: 'up', points: '' }), svg('polyline', { class: 'down', points: '' }));
  return root;
}

/** The samples taken so far, right-aligned (a new page has only a few). */
function points(values, peak, count) {
  let out = '';
  for (let i = SAMPLES - count; i < SAMPLES; i++) {
    const x = (i * W) / (SAMPLES - 1);
    const y = H - 1 - (values[i] / peak) * (H - 2);
    out += `${x.toFixed(1)},${y.toFixed(1)} `;
  }
  return out;
}

/** Redraws `root` from a Series (rates.js); an empty chart when there is none. */
export function drawSparkline(root, series) {
  const [up, down] = root.children;
  if (!series) {
    up.setAttribute('points', '');
    down.setAttribute('points', '');
    return;
  }
  let peak = 1;
  for (let i = 0; i < SAMPLES; i++) peak = Math.max(peak, series.up[i], series.down[i]);
  up.setAttribute('points', points(series.up, peak, series.count));
  down.setAttribute('points', points(series.down, peak, series.count));
}
