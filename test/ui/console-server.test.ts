// The console's server side over real HTTP: its files, its live stream (whole testbed first,
// then only what changed), its detail view, and the API's token rule applied to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceKey } from '../../src/api/meta.js';
import { VM_KIND } from '../../src/api/virtual-machine.js';
import { CLIENT_KIND } from '../../src/api/wimax-client.js';
import { silentLogger } from '../../src/core/logger.js';
import type { LegacyApi } from '../../src/http/legacy-api.js';
import { HttpServer } from '../../src/http/server.js';
import { UiConsole } from '../../src/http/ui/console.js';
import { RecentEvents } from '../../src/http/ui/recent-events.js';
import { FakeEventRecorder } from '../fakes/fake-event-recorder.js';
import { client, clientStatus, generateTestbed, HandFedTraffic, ready, vm, vmStatus } from './generated-testbed.js';
import { SseClient } from './sse-client.js';

const TOKEN = 'ui-test-token-7f3a';

async function serve(token?: string) {
  const bed = generateTestbed(3, 6, 1);
  const traffic = new HandFedTraffic();
  const events = new RecentEvents(new FakeEventRecorder());
  const ui = new UiConsole({
    source: { declaredKeys: () => bed.store.keys(), declared: (k) => bed.store.get(k), statuses: (kind) => bed.statuses.list(kind) },
    object: (key) => {
      const stored = bed.statuses.get(key);
      return stored && { spec: stored.spec, status: stored.status };
    },
    events: events.history, traffic, streamIntervalMs: 50,
    ...(token ? { token } : {}),
  });
  const server = new HttpServer({ host: '127.0.0.1', port: 0, logger: silentLogger, legacy: {} as LegacyApi, ready: () => ({ ready: true }), ui, ...(token ? { token } : {}) });
  const address = await server.start();
  return { bed, traffic, events, ui, server, base: `http://127.0.0.1:${address.port}` };
}

describe('the web console over HTTP', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => { s = await serve(); });
  afterAll(async () => { await s.server.stop(); });

  it('serves its page and scripts from the package, under a strict Content-Security-Policy', async () => {
    const page = await fetch(`${s.base}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/ui/static/app.js">');
    const app = await fetch(`${s.base}/ui/static/app.js`);
    expect(app.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const again = await fetch(`${s.base}/ui/static/app.js`, { headers: { 'if-none-match': app.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${s.base}/ui/static/../../server.ts`)).status).toBe(404);
    expect((await fetch(`${s.base}/ui/events`, { method: 'POST' })).status).toBe(405);
  });

  it('streams the whole testbed, then only the rows that changed, then nothing while nothing changes', async () => {
    const sse = await SseClient.open(`${s.base}/ui/events`);
    try {
      const first = await sse.next((e) => e.event === 'snapshot', 'the snapshot');
      expect(first.data.slices.map((r: { id: string }) => r.id).sort()).toEqual(['ns-0/slice-0000', 'ns-0/slice-0001', 'ns-0/slice-0002']);
      expect(first.data.stations).toHaveLength(6);
      expect(first.data.slices[0]).toMatchObject({ state: 'Running', vlan: expect.any(Number) });

      const key = resourceKey(VM_KIND, 'ns-0', 'slice-0001');
      // The slice stops; a station is added for a slice nobody declared.
      const from = sse.events.length;
      await s.bed.statuses.write(key, { ...vm('slice-0001', 'ns-0'), status: vmStatus('Stopped', 3, [ready('False', 'Stopped', 'the guest is not running')]) });
      const stray = resourceKey(CLIENT_KIND, 'ns-0', 'stray');
      s.bed.store.set(stray, client('stray', '02:aa:00:00:00:01', 'nowhere', 'ns-0'));
      const diff = await sse.next((e) => e.event === 'diff', 'a diff', from);
      const all = sse.events.slice(from).filter((e) => e.event === 'diff');
      const slices = all.flatMap((e) => e.data.slices.upsert);
      const stations = all.flatMap((e) => e.data.stations.upsert);
      expect(slices).toEqual([{ id: 'ns-0/slice-0001', ns: 'ns-0', name: 'slice-0001', vlan: 3, state: 'Stopped', why: 'Stopped', declared: true }]);
      expect(stations).toEqual([expect.objectContaining({ id: 'ns-0/stray', vm: 'nowhere', state: 'Unknown', mac: '02:aa:00:00:00:01' })]);
      expect(diff.data.slices.remove).toEqual([]);

      // Removed: the row goes.
      s.bed.store.delete(stray);
      const gone = await sse.next((e) => e.event === 'diff' && e.data.stations.remove.length > 0, 'a removal', from + all.length);
      expect(gone.data.stations.remove).toEqual(['ns-0/stray']);
      // Ticks with nothing changed, or a rewrite with the same content (a new object, as every
      // store write makes), send nothing (ticks called by hand: no timing involved).
      s.ui.stream.tick();
      const count = sse.events.length;
      await s.bed.statuses.write(key, structuredClone(s.bed.statuses.get(key)!));
      s.ui.stream.tick();
      s.ui.stream.tick();
      await fetch(`${s.base}/healthz`); // a round trip: anything written before it has arrived
      expect(sse.events.slice(count).filter((e) => e.event === 'diff')).toEqual([]);
    } finally {
      sse.close();
    }
  });

  it('sends traffic rates, then only those that changed', async () => {
    s.traffic.publish(s.bed.traffic(0));
    const sse = await SseClient.open(`${s.base}/ui/events`);
    try {
      const full = await sse.next((e) => e.event === 'rates', 'the first rates');
      expect(full.data.stations).toHaveLength(6);
      expect(full.data.slices).toHaveLength(3);
      const from = sse.events.length;
      const next = s.bed.traffic(0);
      next.stations[2]!.uplinkBps = 123_456.7;
      s.traffic.publish(next);
      const diff = await sse.next((e) => e.event === 'rates', 'changed rates', from);
      expect(diff.data.stations).toEqual([['ns-0/station-00002', 123457, next.stations[2]!.downlinkBps, 0]]);
      expect(diff.data.slices).toEqual([]);
    } finally {
      sse.close();
    }
  });

  it('shows a VM\'s conditions and recent events', async () => {
    const key = resourceKey(VM_KIND, 'ns-0', 'slice-0002');
    s.events.record(key, 'Normal', 'Started', 'started <b>slice-0002</b>');
    s.events.record(key, 'Warning', 'StartFailed', 'boom');
    s.events.record(key, 'Warning', 'StartFailed', 'boom');
    const res = await fetch(`${s.base}/ui/api/object?kind=vm&ns=ns-0&name=slice-0002`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True' })]);
    expect(body.events.map((e: { reason: string; count: number; message: string }) => [e.reason, e.count, e.message]))
      .toEqual([['Started', 1, 'started <b>slice-0002</b>'], ['StartFailed', 2, 'boom']]);
    expect((await fetch(`${s.base}/ui/api/object?kind=vm&ns=ns-0&name=nope`)).status).toBe(404);
    expect((await fetch(`${s.base}/ui/api/object?kind=pod&ns=ns-0&name=x`)).status).toBe(400);
  });

  it('refuses another Host on loopback (DNS rebinding), for the console too', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${s.base}/ui/events`, { headers: { host: 'evil.example:80' } }, (res) => { resolve(res.statusCode!); res.resume(); });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe('the web console with a token', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => { s = await serve(TOKEN); });
  afterAll(async () => { await s.server.stop(); });

  it('shows the login form, and nothing of the testbed, without the token', async () => {
    const page = await fetch(`${s.base}/ui/`);
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('action="/ui/login"');
    expect((await fetch(`${s.base}/ui/events`)).status).toBe(401);
    expect((await fetch(`${s.base}/ui/api/object?kind=vm&ns=ns-0&name=slice-0000`)).status).toBe(401);
    expect((await fetch(`${s.base}/ui/events`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${s.base}/ui/static/login.js`)).status).toBe(200); // the form's own script
  });

  it('takes the bearer token, or a session cookie traded for it at /ui/login (never the token itself)', async () => {
    const bearer = await SseClient.open(`${s.base}/ui/events`, { authorization: `Bearer ${TOKEN}` });
    expect(bearer.status).toBe(200);
    bearer.close();

    const wrong = await fetch(`${s.base}/ui/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope' }), redirect: 'manual' });
    expect(wrong.status).toBe(303);
    expect(wrong.headers.get('location')).toBe('/ui/?login=failed');
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const login = await fetch(`${s.base}/ui/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^wimaxvm_ui=[\w-]+; Path=\/ui; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(TOKEN);
    const page = await fetch(`${s.base}/ui/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/ui/static/app.js');

    const crossSite = await fetch(`${s.base}/ui/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
  });
});
