// The web console's routes under /ui: the page and its files, the live stream (/ui/events), one
// object's conditions and events (/ui/api/object), and the login that trades the token for a
// session cookie. Read-only: nothing here changes desired state.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resourceKey } from '../../api/meta.js';
import { VM_KIND } from '../../api/virtual-machine.js';
import { CLIENT_KIND } from '../../api/wimax-client.js';
import { LiveStream } from './live-stream.js';
import type { EventHistory } from './recent-events.js';
import { loadStaticFiles, SECURITY_HEADERS, type StaticFile } from './static-files.js';
import type { ViewSource } from './testbed-view.js';
import type { TrafficFeed } from './traffic-rates.js';
import { sessionCookie, tokenIsRight, uiAuthorized } from './ui-auth.js';

export interface UiConsoleOptions {
  source: ViewSource;
  /** A stored object with its status, for the detail view. */
  object: (key: string) => { spec?: unknown; status?: unknown } | undefined;
  events: EventHistory;
  traffic?: TrafficFeed;
  /** The API's token, when it has one: the console needs it too. */
  token?: string;
  streamIntervalMs?: number;
}

const KINDS = new Map([['vm', VM_KIND], ['wxc', CLIENT_KIND]]);
const EVENTS_SHOWN = 20;
const LOGIN_BODY_LIMIT = 4096;

function reply(res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

export class UiConsole {
  private readonly files: Map<string, StaticFile>;
  readonly stream: LiveStream;

  constructor(private readonly opts: UiConsoleOptions) {
    this.files = loadStaticFiles();
    this.stream = new LiveStream({ source: opts.source, ...(opts.traffic ? { traffic: opts.traffic } : {}), ...(opts.streamIntervalMs ? { intervalMs: opts.streamIntervalMs } : {}) });
  }

  /** Whether a path is the console's. */
  static owns(pathname: string): boolean {
    return pathname === '/ui' || pathname.startsWith('/ui/');
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (url.pathname === '/ui/login') return this.login(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'the console is read-only: only GET is served\n', undefined, { allow: 'GET, HEAD' });
    // Its own files show no data: the login page needs them before the token is given.
    const file = /^\/ui\/static\/([a-z0-9-]+\.[a-z]+)$/.exec(url.pathname);
    if (file) return this.serveFile(req, res, file[1]!);
    if (!uiAuthorized(req, this.opts.token)) {
      if (url.pathname === '/ui' || url.pathname === '/ui/') return this.serveFile(req, res, 'login.html', 401);
      return reply(res, 401, 'the console needs the API token: log in at /ui, or send Authorization: Bearer <token>\n', undefined, { 'www-authenticate': 'Bearer' });
    }
    if (url.pathname === '/ui' || url.pathname === '/ui/') return this.serveFile(req, res, 'index.html');
    if (url.pathname === '/ui/events') {
      if (!this.stream.attach(res)) reply(res, 503, 'too many console pages open\n', undefined, { 'retry-after': '5' });
      return;
    }
    if (url.pathname === '/ui/api/object') return this.object(res, url.searchParams);
    return reply(res, 404, 'not found\n');
  }

  close(): void {
    this.stream.close();
  }

  private serveFile(req: IncomingMessage, res: ServerResponse, name: string, status = 200): void {
    const file = this.files.get(name);
    if (!file) return reply(res, 404, 'not found\n');
    if (status === 200 && req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, { etag: file.etag, 'cache-control': 'no-cache' });
      return void res.end();
    }
    // no-cache: revalidated each time (cheap, by ETag), so an upgraded controller serves its new page.
    reply(res, status, req.method === 'HEAD' ? '' : file.body, file.type, { etag: file.etag, 'cache-control': 'no-cache' });
  }

  /** One object's conditions and recent events, for the detail view. */
  private object(res: ServerResponse, query: URLSearchParams): void {
    const kind = KINDS.get(query.get('kind') ?? '');
    const namespace = query.get('ns') ?? '';
    const name = query.get('name') ?? '';
    if (!kind || !namespace || !name || namespace.includes('/') || name.includes('/')) {
      return reply(res, 400, 'expected kind=vm|wxc, ns and name\n');
    }
    const key = resourceKey(kind, namespace, name);
    const object = this.opts.object(key);
    if (!object) return reply(res, 404, `${kind} ${namespace}/${name} is not known\n`);
    const status = object.status as { conditions?: unknown[] } | undefined;
    const body = { kind, namespace, name, spec: object.spec, conditions: status?.conditions ?? [], events: this.opts.events(key, EVENTS_SHOWN) };
    reply(res, 200, JSON.stringify(body), 'application/json; charset=utf-8');
  }

  /** POST /ui/login with token=...: sets the session cookie and goes back to the console. */
  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return reply(res, 405, 'log in with the form at /ui\n', undefined, { allow: 'POST' });
    const site = req.headers['sec-fetch-site'];
    if (site && site !== 'same-origin' && site !== 'none') return reply(res, 403, `refused: a cross-site login (Sec-Fetch-Site: ${site})\n`);
    const token = this.opts.token;
    if (!token) return reply(res, 303, '', undefined, { location: '/ui/' });
    let body = '';
    for await (const chunk of req) {
      body += String(chunk);
      if (body.length > LOGIN_BODY_LIMIT) return reply(res, 413, 'too long\n');
    }
    const given = new URLSearchParams(body).get('token') ?? '';
    if (!tokenIsRight(given, token)) return reply(res, 303, '', undefined, { location: '/ui/?login=failed' });
    reply(res, 303, '', undefined, { location: '/ui/', 'set-cookie': sessionCookie(token) });
  }
}
