// The controller's HTTP surface: /healthz, /readyz, /metrics, the legacy OMF API under
// /wimaxvm/ and the web console under /ui. Loopback by default; when it listens elsewhere,
// writes and the console need a bearer token.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv4, type AddressInfo } from 'node:net';
import { errorMessage, type Logger } from '../core/logger.js';
import { UiConsole } from './ui/console.js';
import type { TrafficFeed } from '../traffic/traffic-feed.js';
import { WRITE_SERVICES, type LegacyApi, type LegacyResponse } from './legacy-api.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Required for writes when set (and it must be set to listen beyond loopback). */
  token?: string;
  legacy: LegacyApi;
  ready: () => { ready: boolean; reason?: string };
  metrics?: { render(): Promise<string>; contentType: string };
  logger: Logger;
  /** The web console; it follows the same token rule, for reads too. */
  ui?: UiConsole;
  /** /traffic: the latest per-station and per-slice traffic snapshot as JSON (`wimaxvm top`). */
  traffic?: TrafficFeed;
  /** Requests handled at once; more get 503 (with Retry-After) rather than piling up. */
  maxConcurrent?: number;
}

/** A loopback address, or localhost: 127.x.x.x as an IPv4 literal only (127.evil.example is a name anyone can point anywhere). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

/** The Host header's name, without port or IPv6 brackets. */
function hostName(req: IncomingMessage): string {
  return (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
}

function send(res: ServerResponse, r: LegacyResponse, extraHeaders: Record<string, string> = {}): void {
  res.writeHead(r.status, { 'content-type': r.contentType ?? 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extraHeaders });
  res.end(r.body);
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * A browser page must not be able to change desired state through a loopback API: refuse
 * requests a browser marks as cross-site, and Host names that are not this server's (DNS
 * rebinding).
 */
function crossSite(req: IncomingMessage, host: string): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site: ${site}`;
  if (req.headers.origin) return `Origin: ${req.headers.origin}`;
  if (isLoopback(host) && !isLoopback(hostName(req))) return `Host: ${req.headers.host}`;
  return undefined;
}

export class HttpServer {
  private server: Server | undefined;
  private inFlight = 0;

  constructor(private readonly opts: HttpServerOptions) {
    if (!isLoopback(opts.host) && !opts.token) {
      throw new Error(`refusing to serve the API on ${opts.host} without a token (--api-token-file): writes would be open to the network`);
    }
  }

  async start(): Promise<AddressInfo> {
    const server = createServer({ maxHeaderSize: 8192 }, (req, res) => {
      this.handle(req, res).catch((err) => {
        this.opts.logger.error('HTTP request failed', { url: req.url, error: errorMessage(err) });
        if (!res.headersSent) send(res, { status: 500, body: 'internal error\n' });
        else res.end();
      });
    });
    server.requestTimeout = 120_000;
    server.headersTimeout = 10_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    this.opts.logger.info('HTTP API listening', { address: `${address.address}:${address.port}` });
    return address;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.opts.ui?.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://wimaxvm');
    // DNS rebinding: as below, before the console's own rules (it has a login form that POSTs).
    if (this.opts.ui && UiConsole.owns(url.pathname)) {
      if (isLoopback(this.opts.host) && !isLoopback(hostName(req))) return send(res, { status: 403, body: `refused: Host ${req.headers.host ?? '(none)'} is not this server's (DNS rebinding)\n` });
      return this.opts.ui.handle(req, res, url);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, { status: 405, body: 'only GET is served\n' }, { allow: 'GET, HEAD' });
    // DNS rebinding: a page of another site, its name now resolving to 127.0.0.1, must not read either.
    if (isLoopback(this.opts.host) && !isLoopback(hostName(req))) {
      return send(res, { status: 403, body: `refused: Host ${req.headers.host ?? '(none)'} is not this server's (DNS rebinding)\n` });
    }
    if (url.pathname === '/healthz') return send(res, { status: 200, body: 'ok\n' });
    if (url.pathname === '/readyz') {
      const r = this.opts.ready();
      return send(res, { status: r.ready ? 200 : 503, body: r.ready ? 'ok\n' : `not ready: ${r.reason}\n` });
    }
    if (url.pathname === '/metrics' && this.opts.metrics) {
      return send(res, { status: 200, body: await this.opts.metrics.render(), contentType: this.opts.metrics.contentType });
    }
    if (url.pathname === '/traffic') {
      const snapshot = this.opts.traffic?.latest();
      if (!this.opts.traffic) return send(res, { status: 404, body: 'no traffic accounting: the controller runs without --nic ovs:BRIDGE, or with --traffic-interval off\n' });
      return send(res, snapshot ? { status: 200, body: JSON.stringify(snapshot), contentType: 'application/json' } : { status: 503, body: 'no traffic sample yet\n' }, snapshot ? {} : { 'retry-after': '1' });
    }
    const m = /^\/wimaxvm(?:\/([a-z]*))?\/?$/.exec(url.pathname);
    if (!m) return send(res, { status: 404, body: 'not found; the services are listed at /wimaxvm\n' });
    const service = m[1] ?? '';
    if (service && !this.opts.legacy.isService(service)) return send(res, await this.opts.legacy.handle(service, url.searchParams));
    const write = WRITE_SERVICES.has(service);
    if (write && req.method === 'HEAD') return send(res, { status: 405, body: 'writes need GET\n' }, { allow: 'GET' });
    const foreign = write ? crossSite(req, this.opts.host) : undefined;
    if (foreign) return send(res, { status: 403, body: `refused: a cross-site request may not change desired state (${foreign})\n` });
    if (write && this.opts.token && !tokenMatches(req.headers.authorization, this.opts.token)) {
      return send(res, { status: 401, body: 'this service changes desired state: send Authorization: Bearer <token>\n' }, { 'www-authenticate': 'Bearer' });
    }
    if (this.inFlight >= (this.opts.maxConcurrent ?? 64)) return send(res, { status: 503, body: 'busy, try again\n' }, { 'retry-after': '1' });
    this.inFlight++;
    try {
      const response = await this.opts.legacy.handle(service, url.searchParams);
      if (write) this.opts.logger.info(`legacy ${service}`, { query: url.search, status: response.status });
      send(res, response);
    } finally {
      this.inFlight--;
    }
  }

}
