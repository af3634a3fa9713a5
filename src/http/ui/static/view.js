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

  /** A whole snapshot: everything is built again. */
  replaceAll({ slices, stations }) {
    for (const s of this.slices.values()) this.observer.unobserve(s.el);
    this.slices.clear();
    this.stations.clear();
    this.visible.clear();
    this.unboundList.replaceChildren();
    this.conflictList.replaceChildren();
    const boxes = [...slices].sort(byId).map((row) => this.makeSlice(row).el);
    this.slicesRoot.replaceChildren(...boxes);
    for (const row of [...stations].sort(byId)) this.placeStation(this.makeStation(row), false);
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
    const parts = {
      name: el('span', { class: 'name' }),
      vlan: el('span', { class: 'vlan' }),
      state: el('span', { class: 'state' }),
      why: el('span', { class: 'why' }),
      rate: el('span', { class: 'rate' }),
      spark: makeSparkline(),
      list: el('ul', { class: 'stations' }),
    };
    parts.list.dataset.slice = row.id;
    const head = el('button', { type: 'button', class: 'slice-head' }, parts.name, parts.vlan, parts.state, parts.why, parts.spark, parts.rate);
    const box = el('article', { class: 'slice' }, head, parts.list);
    box.dataset.id = row.id;
    const s = { row, el: box, parts, stationIds: new Set() };
    head.addEventListener('click', () => this.onSelect('vm', s.row));
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
    const parts = {
      dot: el('span', { class: 'dot' }),
      name: el('span', { class: 'name' }),
      mac: el('span', { class: 'mac' }),
      why: el('span', { class: 'why' }),
      spark: makeSparkline(),
      rate: el('span', { class: 'rate' }),
    };
    const item = el('li', { class: 'station', tabindex: '0' }, parts.dot, parts.name, parts.mac, parts.why, parts.spark, parts.rate);
    item.dataset.id = row.id;
    const st = { row, el: item, parts, sliceId: undefined };
    item.addEventListener('click', () => this.onSelect('wxc', st.row));
    item.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.onSelect('wxc', st.row); });
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
    st.el.title = `${row.ns}/${row.name} → ${row.vm}${row.vlan === undefined ? '' : ` (VLAN ${row.vlan})`}`;
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
    drawSparkline(st.parts.spark, series);
    const drops = series?.current[2] ? ` ✕${series.current[2]}` : '';
    setText(st.parts.rate, series ? `↑${bitRate(series.current[0])} ↓${bitRate(series.current[1])}${drops}` : '');
  }
}

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
