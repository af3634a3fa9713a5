// The selected slice's (or station's) conditions and recent events, read from /ui/api/object
// when selected, when its row changes, and every few seconds while open.
import { el } from './dom.js';
import { age } from './format.js';

const REFRESH_MS = 5000;

export class Detail {
  constructor(root) {
    this.root = root;
    this.selected = undefined;
    this.timer = undefined;
  }

  select(kind, row) {
    this.selected = { kind, ns: row.ns, name: row.name, id: row.id };
    this.root.hidden = false;
    this.root.replaceChildren(el('p', { class: 'hint' }, 'loading…'));
    this.refresh();
  }

  close() {
    this.selected = undefined;
    clearTimeout(this.timer);
    this.root.hidden = true;
    this.root.replaceChildren();
  }

  /** A row changed: the open view follows it. */
  changed(kind, id) {
    if (this.selected && this.selected.kind === kind && this.selected.id === id) this.refresh();
  }

  async refresh() {
    clearTimeout(this.timer);
    const want = this.selected;
    if (!want) return;
    const query = new URLSearchParams({ kind: want.kind, ns: want.ns, name: want.name });
    let body;
    try {
      const res = await fetch(`/ui/api/object?${query}`, { credentials: 'same-origin' });
      body = res.ok ? await res.json() : { error: await res.text() };
    } catch (err) {
      body = { error: String(err) };
    }
    if (this.selected !== want) return; // another was selected meanwhile
    this.render(want, body);
    this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }

  render(want, body) {
    const close = el('button', { type: 'button', class: 'close', 'aria-label': 'close' }, '×');
    close.addEventListener('click', () => this.close());
    const title = el('h2', {}, `${want.kind === 'vm' ? 'VirtualMachine' : 'WimaxClient'} ${want.ns}/${want.name}`);
    if (body.error) return this.root.replaceChildren(close, title, el('p', { class: 'error' }, body.error));
    const conditions = el('table', { class: 'conditions' },
      el('thead', {}, el('tr', {}, ...['Type', 'Status', 'Reason', 'Message', 'Since'].map((h) => el('th', {}, h)))),
      el('tbody', {}, ...body.conditions.map((c) => {
        const row = el('tr', {}, el('td', {}, c.type), el('td', {}, c.status), el('td', {}, c.reason ?? ''), el('td', {}, c.message ?? ''), el('td', {}, c.lastTransitionTime ? age(c.lastTransitionTime) : ''));
        row.dataset.status = c.status;
        return row;
      })));
    const events = body.events.length
      ? el('ol', { class: 'events' }, ...[...body.events].reverse().map((e) => {
        const item = el('li', {}, el('span', { class: 'when' }, age(e.lastTimestamp)), el('span', { class: 'reason' }, e.reason),
          el('span', { class: 'message' }, e.message), e.count > 1 ? el('span', { class: 'count' }, `×${e.count}`) : null);
        item.dataset.type = e.type;
        return item;
      }))
      : el('p', { class: 'hint' }, 'no events recorded');
    this.root.replaceChildren(close, title, el('h3', {}, 'Conditions'), conditions, el('h3', {}, 'Recent events'), events);
  }
}
