// Rate history for the sparklines: the last SAMPLES values a direction, per station and per
// slice. Messages carry only what changed; an id not mentioned keeps its last rate.
export const SAMPLES = 60;

class Series {
  constructor() {
    this.up = new Float64Array(SAMPLES);
    this.down = new Float64Array(SAMPLES);
    this.count = 0;
    this.current = [0, 0, 0];
  }

  push() {
    this.up.copyWithin(0, 1);
    this.down.copyWithin(0, 1);
    this.up[SAMPLES - 1] = this.current[0];
    this.down[SAMPLES - 1] = this.current[1];
    this.count = Math.min(SAMPLES, this.count + 1);
  }
}

export class RateHistory {
  constructor() {
    this.series = new Map();
  }

  /** A full rates message (a new stream): starts over. */
  reset(entries) {
    this.series.clear();
    this.apply(entries);
  }

  /** Changed entries [id, upBps, downBps, dropped]; then every series takes a sample. */
  apply(entries) {
    for (const [id, up, down, dropped] of entries) {
      let s = this.series.get(id);
      if (!s) this.series.set(id, (s = new Series()));
      s.current = [up, down, dropped];
    }
    for (const s of this.series.values()) s.push();
  }

  get(id) {
    return this.series.get(id);
  }
}
