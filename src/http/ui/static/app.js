// The console's entry: one server-sent event stream (/ui/events) feeds the view; the first
// message is the whole testbed, then changed rows and changed rates, at most once a second.
import { setText } from './dom.js';
import { Detail } from './detail.js';
import { Filters } from './filters.js';
import { RateHistory } from './rates.js';
import { TestbedView } from './view.js';

const $ = (id) => document.getElementById(id);
const detail = new Detail($('detail'));
const view = new TestbedView({
  slicesRoot: $('slices'), unboundList: $('unbound'), conflictList: $('conflicts'),
  onSelect: (kind, row) => detail.select(kind, row),
});
const rates = new RateHistory();
const filters = new Filters({ ns: $('filter-ns'), slice: $('filter-slice'), station: $('filter-station'), text: $('filter-text') }, () => refilter());
$('filters').addEventListener('submit', (e) => e.preventDefault());

function refilter() {
  const { shownSlices, shownStations } = filters.apply(view);
  const count = (what, pick) => { let n = 0; for (const x of what.values()) if (pick(x.row)) n++; return n; };
  const running = count(view.slices, (r) => r.state === 'Running');
  const bound = count(view.stations, (r) => r.state === 'Bound');
  const pending = count(view.stations, (r) => r.state === 'Pending');
  const conflicts = count(view.stations, (r) => r.state === 'Conflict');
  setText($('counts'), `${view.slices.size} slices (${running} running) · ${view.stations.size} stations: ${bound} bound, ${pending} pending, ${conflicts} conflicting`
    + (shownSlices < view.slices.size || shownStations < view.stations.size ? ` · shown: ${shownSlices} slices, ${shownStations} stations` : ''));
  setText($('unbound-count'), String($('unbound').children.length));
  setText($('conflict-count'), String($('conflicts').children.length));
}

function connected(state, text) {
  $('connection').dataset.state = state;
  setText($('connection'), text);
}

const source = new EventSource('/ui/events');
source.addEventListener('open', () => connected('live', 'live'));
source.addEventListener('error', () => {
  if (source.readyState === EventSource.CLOSED) {
    // Refused (the token changed, or the session is gone): the console page asks for it again.
    connected('closed', 'disconnected: reload to log in again');
  } else connected('connecting', 'reconnecting…');
});
source.addEventListener('snapshot', (e) => {
  const started = performance.now();
  document.body.dataset.snapshotAt = started.toFixed(0);
  const snapshot = JSON.parse(e.data);
  view.replaceAll(snapshot);
  filters.offer(view);
  refilter();
  // For the browser tests' figures: how long the whole testbed took to build, and that it did.
  document.body.dataset.renderMs = (performance.now() - started).toFixed(1);
  document.body.dataset.ready = 'true';
  // Shown: after the browser laid the page out and painted it.
  requestAnimationFrame(() => setTimeout(() => { document.body.dataset.shownAt = performance.now().toFixed(0); }));
});
source.addEventListener('diff', (e) => {
  const diff = JSON.parse(e.data);
  view.applyDiff(diff);
  filters.offer(view);
  refilter();
  for (const row of diff.slices.upsert) detail.changed('vm', row.id);
  for (const row of diff.stations.upsert) detail.changed('wxc', row.id);
});
let firstRates = true;
source.addEventListener('snapshot', () => { firstRates = true; });
source.addEventListener('rates', (e) => {
  const message = JSON.parse(e.data);
  const entries = [...message.stations, ...message.slices.map(([id, ...rest]) => [`slice:${id}`, ...rest])];
  if (firstRates) rates.reset(entries);
  else rates.apply(entries);
  firstRates = false;
  view.applyRates(rates);
  document.body.dataset.ratesSeen = String(Number(document.body.dataset.ratesSeen ?? 0) + 1);
});
