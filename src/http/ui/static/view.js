// The testbed as a picture: a box per slice (its VLAN, its VM's state, its rates) with its
// stations inside; stations whose slice does not exist and conflicting stations apart. Elements
// are kept by id and changed in place, so a diff touches only what changed; sparklines are drawn
// only for boxes on screen.
import { el, setText } from './dom.js';
import { bitRate } from './format.js';
import { drawSparkline, makeSparkline } from './sparkline.js';

export class TestbedView {
  constructor({ slicesRoot, unboundList, conflictList, onSelect }) {
    this.slicesRoot = slicesRoot;
    this.unboundList = unboundList;
    this.conflictList = conflictList;
    this.onSelect = onSelect;
    this.slices = new Map();
    this.stations = new Map();
    this.visible = new Set();
    this.rates = undefined;
    // One listener for every box and station (10k listeners would cost more than the boxes).
    for (const root of [slicesRoot, unboundList, conflictList]) {
      root.addEventListener('click', (e) => this.clicked(e.target));
      root.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.clicked(e.target); });
    }
    this.observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const id = e.target.dataset.id;
        if (e.isIntersecting) {
          this.visible.add(id);
          this.drawSlice(id);
        } else this.visible.delete(id);
      }
    });
  }

  clicked(target) {
    const station = target.closest('li.station');
    if (station) {
      const st = this.stations.get(station.dataset.id);
      return st && this.onSelect('wxc', st.row);
    }
    const head = target.closest('.slice-head');
    const s = head && this.slices.get(head.parentElement.dataset.id);
    if (s) this.onSelect('vm', s.row);
  }

  /** A whole snapshot: everything is built again. */
  replaceAll({ slices, stations }) {
    for (const s of this.slices.values()) this.observer.unobserve(s.el);
    this.slices.clear();
    this.stations.clear();
    this.visible.clear();
    this.unboundList.replaceChildren();
    this.conflictList.replaceChildren();
    // Built detached, then put in at once: one layout for the whole testbed.
    const boxes = [...slices].sort(byId).map((row) => this.makeSlice(row).el);
    for (const row of [...stations].sort(byId)) this.placeStation(this.makeStation(row), false);
    this.slicesRoot.replaceChildren(...boxes);
  }

  applyDiff({ slices, stations }) {
    for (const id of stations.remove) this.removeStation(id);
    for (const id of slices.remove) this.removeSlice(id);
    let slicesAdded = false;
    for (const row of slices.upsert) {
      const s = this.slices.get(row.id);
      if (s) this.updateSlice(s, row);
      else {
        insertSorted(this.slicesRoot, this.makeSlice(row).el, row.id);
        slicesAdded = true;
      }
    }
    for (const row of stations.upsert) {
      const st = this.stations.get(row.id);
      if (st) {
        this.updateStation(st, row);
        this.placeStation(st, true);
      } else this.placeStation(this.makeStation(row), true);
    }
    // A slice that appeared takes in the stations that waited for it.
    if (slicesAdded || slices.remove.length) for (const st of this.stations.values()) this.placeStation(st, true);
  }

  /** New rates arrived (rates.js RateHistory): redraw what is on screen. */
  applyRates(history) {
    this.rates = history;
    for (const id of this.visible) this.drawSlice(id);
    for (const st of this.stations.values()) if (st.el.parentElement !== null && st.el.parentElement.dataset.slice === undefined) this.drawStation(st);
  }

  makeSlice(row) {
    const box = SLICE_TEMPLATE.cloneNode(true);
    const head = box.firstChild;
    const [name, vlan, state, why, spark, rate] = head.children;
    const parts = { name, vlan, state, why, spark, rate, list: box.lastChild };
    parts.list.dataset.slice = row.id;
    box.dataset.id = row.id;
    const s = { row, el: box, parts, stationIds: new Set() };
    this.slices.set(row.id, s);
    this.updateSlice(s, row);
    this.observer.observe(box);
    return s;
  }

  updateSlice(s, row) {
    s.row = row;
    setText(s.parts.name, row.ns === 'default' ? row.name : `${row.ns}/${row.name}`);
    setText(s.parts.vlan, row.vlan === undefined ? 'no VLAN' : `VLAN ${row.vlan}`);
    setText(s.parts.state, row.state);
    setText(s.parts.why, row.why ?? '');
    s.el.dataset.state = row.state;
  }

  removeSlice(id) {
    const s = this.slices.get(id);
    if (!s) return;
    this.observer.unobserve(s.el);
    this.visible.delete(id);
    s.el.remove();
    this.slices.delete(id);
  }

  makeStation(row) {
    const item = STATION_TEMPLATE.cloneNode(true);
    const [dot, name, mac, why, rate] = item.children;
    // The sparkline is made when it first has traffic: most of 10k stations never need one on screen.
    const parts = { dot, name, mac, why, rate, spark: undefined };
    item.dataset.id = row.id;
    const st = { row, el: item, parts, sliceId: undefined };
    this.stations.set(row.id, st);
    this.updateStation(st, row);
    return st;
  }

  updateStation(st, row) {
    st.row = row;
    setText(st.parts.name, row.name);
    setText(st.parts.mac, row.mac);
    setText(st.parts.why, row.state === 'Bound' ? '' : `${row.state}${row.why ? `: ${row.why}` : ''}`);
    st.el.dataset.state = row.state;
  }

  /** Its slice's box, or the unbound or conflict list. */
  placeStation(st, sorted) {
    const row = st.row;
    const slice = row.state === 'Conflict' ? undefined : this.slices.get(`${row.ns}/${row.vm}`);
    const list = row.state === 'Conflict' ? this.conflictList : slice ? slice.parts.list : this.unboundList;
    if (st.el.parentElement === list) return;
    if (st.sliceId !== undefined) this.slices.get(st.sliceId)?.stationIds.delete(row.id);
    st.sliceId = slice?.row.id;
    slice?.stationIds.add(row.id);
    if (sorted) insertSorted(list, st.el, row.id);
    else list.append(st.el);
  }

  removeStation(id) {
    const st = this.stations.get(id);
    if (!st) return;
    if (st.sliceId !== undefined) this.slices.get(st.sliceId)?.stationIds.delete(id);
    st.el.remove();
    this.stations.delete(id);
  }

  drawSlice(id) {
    const s = this.slices.get(id);
    if (!s || !this.rates) return;
    const series = this.rates.get(`slice:${id}`);
    drawSparkline(s.parts.spark, series);
    setText(s.parts.rate, series ? `↑${bitRate(series.current[0])} ↓${bitRate(series.current[1])}` : '');
    for (const stationId of s.stationIds) {
      const st = this.stations.get(stationId);
      if (st) this.drawStation(st);
    }
  }

  drawStation(st) {
    const series = this.rates?.get(st.row.id);
    if (series && !st.parts.spark) st.el.insertBefore((st.parts.spark = makeSparkline()), st.parts.rate);
    if (st.parts.spark) drawSparkline(st.parts.spark, series);
    const drops = series?.current[2] ? ` ✕${series.current[2]}` : '';
    setText(st.parts.rate, series ? `↑${bitRate(series.current[0])} ↓${bitRate(series.current[1])}${drops}` : '');
  }
}

/** Cloned for every box and station: much cheaper than building each node. */
const SLICE_TEMPLATE = el('article', { class: 'slice' },
  el('button', { type: 'button', class: 'slice-head' },
    el('span', { class: 'name' }), el('span', { class: 'vlan' }), el('span', { class: 'state' }), el('span', { class: 'why' }),
    makeSparkline(), el('span', { class: 'rate' })),
  el('ul', { class: 'stations' }));
const STATION_TEMPLATE = el('li', { class: 'station', tabindex: '0' },
  el('span', { class: 'dot' }), el('span', { class: 'name' }), el('span', { class: 'mac' }), el('span', { class: 'why' }), el('span', { class: 'rate' }));

function byId(a, b) {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Inserts before the first child whose id sorts after `id`. */
function insertSorted(parent, node, id) {
  for (const child of parent.children) {
    if (child !== node && child.dataset.id > id) return parent.insertBefore(node, child);
  }
  parent.append(node);
}
