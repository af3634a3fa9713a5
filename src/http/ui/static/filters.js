// Filters by namespace, slice state, station state and name/MAC; they hide elements, never
// rebuild them. The selects offer what the testbed has.
import { el } from './dom.js';

export class Filters {
  constructor({ ns, slice, station, text }, onChange) {
    this.inputs = { ns, slice, station, text };
    for (const input of Object.values(this.inputs)) input.addEventListener('input', onChange);
  }

  get value() {
    const { ns, slice, station, text } = this.inputs;
    return { ns: ns.value, slice: slice.value, station: station.value, text: text.value.trim().toLowerCase() };
  }

  /** Keeps each select's options equal to the values present (and the chosen one). */
  offer(view) {
    const namespaces = new Set();
    const sliceStates = new Set();
    const stationStates = new Set();
    for (const s of view.slices.values()) {
      namespaces.add(s.row.ns);
      sliceStates.add(s.row.state);
    }
    for (const st of view.stations.values()) {
      namespaces.add(st.row.ns);
      stationStates.add(st.row.state);
    }
    setOptions(this.inputs.ns, namespaces);
    setOptions(this.inputs.slice, sliceStates);
    setOptions(this.inputs.station, stationStates);
  }

  /** Shows and hides slices and stations; returns how many of each are shown. */
  apply(view) {
    const f = this.value;
    const nsOk = (row) => !f.ns || row.ns === f.ns;
    const textIn = (...values) => values.some((v) => v.toLowerCase().includes(f.text));
    let shownSlices = 0;
    let shownStations = 0;
    const stationOk = (st, sliceText) => nsOk(st.row) && (!f.station || st.row.state === f.station)
      && (!f.text || sliceText || textIn(st.row.name, st.row.mac));
    for (const s of view.slices.values()) {
      const sliceText = !f.text || textIn(s.row.name, s.row.id);
      let any = false;
      for (const id of s.stationIds) {
        const st = view.stations.get(id);
        if (!st) continue;
        const ok = stationOk(st, f.text !== '' && textIn(s.row.name, s.row.id));
        show(st.el, ok);
        if (ok) { any = true; shownStations++; }
      }
      const visible = nsOk(s.row) && (!f.slice || s.row.state === f.slice)
        && (!f.text || sliceText || any) && (!f.station || any);
      show(s.el, visible);
      if (visible) shownSlices++;
    }
    for (const st of view.stations.values()) {
      if (st.sliceId !== undefined) continue;
      const ok = stationOk(st, false);
      show(st.el, ok);
      if (ok) shownStations++;
    }
    return { shownSlices, shownStations };
  }
}

/** Touches the element only when it changes (no style work for the 10k that stay as they are). */
function show(element, visible) {
  if (element.hidden === visible) element.hidden = !visible;
}

function setOptions(select, values) {
  const want = ['', ...[...values].sort()];
  if (select.value && !values.has(select.value)) want.push(select.value);
  const have = [...select.options].map((o) => o.value);
  if (have.length === want.length && have.every((v, i) => v === want[i])) return;
  const chosen = select.value;
  select.replaceChildren(...want.map((v) => el('option', { value: v }, v === '' ? 'all' : v)));
  select.value = chosen;
}
