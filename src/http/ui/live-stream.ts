// The console's live feed over server-sent events: a page gets the whole testbed once, then at
// most one message a second with the rows that changed, and the traffic rates that changed. A
// page that cannot keep up (its socket's buffer is full) is skipped until it drains, then gets
// the whole testbed again: messages are never queued without bound.
import type { ServerResponse } from 'node:http';
import { VM_KIND } from '../../api/virtual-machine.js';
import { CLIENT_KIND } from '../../api/wimax-client.js';
import { RateDiffer, ratesOf, type TrafficFeed, type TrafficSnapshot } from './traffic-rates.js';
import { RowTable, sliceRow, stationRow, type SliceRow, type StationRow, type ViewSource } from './testbed-view.js';

export interface LiveStreamOptions {
  source: ViewSource;
  traffic?: TrafficFeed;
  /** The shortest time between two messages to a page (default 1 s). */
  intervalMs?: number;
  /** Pages served at once; more get 503. */
  maxClients?: number;
}

interface Client {
  res: ServerResponse;
  /** Its socket's buffer is full: nothing more is written until it drains. */
  backlogged: boolean;
  /** A message was skipped meanwhile: it gets everything once it drains. */
  missed: boolean;
}

/** Heartbeat comments keep proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

export class LiveStream {
  private readonly slices = new RowTable<SliceRow>(VM_KIND, sliceRow);
  private readonly stations = new RowTable<StationRow>(CLIENT_KIND, stationRow);
  private readonly rates = new RateDiffer();
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | undefined;
  private lastBeat = Date.now();
  private pendingTraffic: TrafficSnapshot | undefined;
  /** The traffic every page has been sent (as full rates or diffs), for pages that join. */
  private sentTraffic: TrafficSnapshot | undefined;
  private unsubscribe: (() => void) | undefined;
  /** What the last refresh cost (ms), for measurements. */
  lastRefreshMs = 0;

  constructor(private readonly opts: LiveStreamOptions) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Serves one page's stream until it goes away. Returns false when there are too many. */
  attach(res: ServerResponse): boolean {
    if (this.clients.size >= (this.opts.maxClients ?? 32)) return false;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const client: Client = { res, backlogged: false, missed: false };
    this.clients.add(client);
    res.on('close', () => this.detach(client));
    res.on('drain', () => {
      client.backlogged = false;
      if (client.missed) this.sendFull(client);
    });
    if (this.clients.size === 1) this.startTicking();
    this.sendFull(client);
    return true;
  }

  close(): void {
    for (const client of this.clients) client.res.end();
    this.clients.clear();
    this.stopTicking();
  }

  /** Looks for changes and sends them; called every interval while a page is attached. */
  tick(): void {
    const started = performance.now();
    const slices = this.slices.refresh(this.opts.source);
    const stations = this.stations.refresh(this.opts.source);
    this.lastRefreshMs = performance.now() - started;
    if (slices.upsert.length || slices.remove.length || stations.upsert.length || stations.remove.length) {
      this.broadcast('diff', JSON.stringify({ slices, stations }));
    }
    const traffic = this.pendingTraffic;
    this.pendingTraffic = undefined;
    if (traffic) {
      this.broadcast('rates', JSON.stringify(this.rates.next(traffic)));
      this.sentTraffic = traffic;
    }
    if (Date.now() - this.lastBeat > HEARTBEAT_MS) {
      for (const c of this.clients) if (!c.backlogged) c.res.write(': beat\n\n');
      this.lastBeat = Date.now();
    }
  }

  private startTicking(): void {
    this.slices.refresh(this.opts.source);
    this.stations.refresh(this.opts.source);
    this.sentTraffic = this.opts.traffic?.latest();
    if (this.sentTraffic) this.rates.full(this.sentTraffic);
    this.unsubscribe = this.opts.traffic?.subscribe((s) => { this.pendingTraffic = s; });
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  private stopTicking(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private detach(client: Client): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopTicking();
  }

  /** Everything, as of the last refresh (the ticks keep the tables current). */
  private sendFull(client: Client): void {
    const traffic = this.sentTraffic;
    const snapshot = { slices: this.slices.all(), stations: this.stations.all() };
    client.missed = false;
    let message = frame('snapshot', JSON.stringify(snapshot));
    if (traffic) message += frame('rates', JSON.stringify(ratesOf(traffic)));
    client.backlogged = !client.res.write(message);
  }

  private broadcast(event: string, data: string): void {
    const message = frame(event, data);
    for (const client of this.clients) {
      if (client.backlogged) {
        client.missed = true; // it gets everything once it drains
        continue;
      }
      if (!client.res.write(message)) client.backlogged = true;
    }
  }
}

/** One server-sent event; JSON has no raw newlines, so one data line. */
function frame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}
