// status.traffic: which changes are worth a write, the round a snapshot makes, the reconcilers'
// view without the field, and file mode's one transaction per round (on a real state database).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStateDatabase } from '../../src/adapters/store/state-database.js';
import { SqliteStatusStore } from '../../src/adapters/store/sqlite-status-store.js';
import type { TrafficSnapshot } from '../../src/traffic/traffic-feed.js';
import { keepTrafficStatus, meaningfulChange, trafficUpdates, TrafficStatusPublisher, type TrafficStatus } from '../../src/traffic/traffic-status.js';
import { FileTrafficStatusWriter } from '../../src/traffic/traffic-status-writers.js';
import { TrafficBroadcast } from '../../src/traffic/traffic-feed.js';
import { FakeStatusStore } from '../fakes/fake-status-store.js';

const T0 = '2026-01-01T00:00:00.000Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const traffic = (o: Partial<TrafficStatus> = {}): TrafficStatus => ({
  uplinkBytes: 1_000_000, uplinkPackets: 1000, downlinkBytes: 500_000, downlinkPackets: 500, uplinkBps: 100_000, downlinkBps: 50_000, droppedPackets: 0, sampledAt: T0, ...o,
});

describe('meaningfulChange', () => {
  it.each([
    ['nothing stored yet', undefined, traffic(), true],
    ['the same', traffic(), traffic({ sampledAt: at(30) }), false],
    ['totals grew at a steady rate', traffic(), traffic({ uplinkBytes: 4_000_000, uplinkBps: 105_000, sampledAt: at(30) }), false],
    ['a rate moved by 20 %', traffic(), traffic({ uplinkBps: 120_000, sampledAt: at(30) }), true],
    ['a small rate moved by 50 % but under 1 kB/s', traffic({ uplinkBps: 800 }), traffic({ uplinkBps: 1200, sampledAt: at(30) }), false],
    ['traffic stopped', traffic(), traffic({ uplinkBps: 0, downlinkBps: 0, sampledAt: at(30) }), true],
    ['a small rate stopped: idle is news, whatever the size (CI saw a stored 600 B/s linger)', traffic({ uplinkBps: 600 }), traffic({ uplinkBps: 0, sampledAt: at(30) }), true],
    ['a small rate started', traffic({ downlinkBps: 0 }), traffic({ downlinkBps: 300, sampledAt: at(30) }), true],
    ['drops rose', traffic(), traffic({ droppedPackets: 1, sampledAt: at(30) }), true],
    ['still flowing, last written 10 intervals ago', traffic(), traffic({ uplinkBytes: 9_000_000, sampledAt: at(300) }), true],
    ['idle, last written long ago', traffic({ uplinkBps: 0, downlinkBps: 0 }), traffic({ uplinkBps: 0, downlinkBps: 0, sampledAt: at(3000) }), false],
  ])('%s', (_what, previous, next, want) => {
    expect(meaningfulChange(previous, next, 30_000)).toBe(want);
  });
});

const snapshot = (atS: number, uplinkBps: number): TrafficSnapshot => ({
  at: at(atS), intervalMs: 5_000,
  stations: [{ namespace: 'default', name: 'st1', vm: 'vm7', vlan: 7, ...traffic({ uplinkBps }) }],
  slices: [{ namespace: 'default', vm: 'vm7', vlan: 7, ...traffic({ uplinkBps }) }],
});

async function storeWith(objects: [string, unknown][]): Promise<FakeStatusStore> {
  const store = new FakeStatusStore();
  for (const [key, status] of objects) {
    const [kind, namespace, name] = key.split('/');
    await store.write(key, { apiVersion: 'wimaxvm.io/v1alpha1', kind: kind!, metadata: { name: name!, namespace: namespace!, generation: 1 } as never, spec: {}, status });
  }
  return store;
}

describe('trafficUpdates', () => {
  it('writes stations and slices that have a status and changed; removes traffic of what left the switch', async () => {
    const store = await storeWith([
      ['WimaxClient/default/st1', { printableStatus: 'Bound' }],
      ['VirtualMachine/default/vm7', { printableStatus: 'Running', traffic: traffic({ uplinkBps: 100_000 }) }],
      ['WimaxClient/default/gone', { printableStatus: 'Pending', traffic: traffic() }],
    ]);
    const updates = trafficUpdates(snapshot(30, 100_000), store, 30_000);
    expect([...updates.keys()].sort()).toEqual(['WimaxClient/default/gone', 'WimaxClient/default/st1']);
    expect(updates.get('WimaxClient/default/gone')).toBeUndefined();
    expect(updates.get('WimaxClient/default/st1')).toMatchObject({ uplinkBps: 100_000, sampledAt: at(30) });
  });

  it('writes nothing for a resource without a status (not reconciled yet)', async () => {
    expect(trafficUpdates(snapshot(0, 1), await storeWith([]), 30_000).size).toBe(0);
  });
});

describe('TrafficStatusPublisher', () => {
  it('writes at most one round per interval, only while acting', async () => {
    const store = await storeWith([['WimaxClient/default/st1', { printableStatus: 'Bound' }], ['VirtualMachine/default/vm7', { printableStatus: 'Running' }]]);
    const rounds: number[] = [];
    let acting = false;
    const feed = new TrafficBroadcast();
    const publisher = new TrafficStatusPublisher({
      feed, statuses: store, intervalMs: 30_000, mayWrite: () => acting, logger: undefined as never,
      writer: { write: async (u) => { rounds.push(u.size); for (const [k, t] of u) await store.write(k, { ...store.get(k)!, status: { ...store.get(k)!.status, traffic: t } }); } },
    });
    publisher.start();
    feed.publish(snapshot(0, 100_000));
    acting = true;
    for (const s of [5, 30, 35, 40, 65]) {
      feed.publish(snapshot(s, s === 65 ? 300_000 : 100_000));
      await publisher.stop().then(() => publisher.start()); // lets the round in flight finish
    }
    // 0: not acting; 5: the first round (both); 30: too soon; 35: a round, nothing changed; 40: too soon; 65: the rate tripled.
    expect(rounds).toEqual([2, 2]);
    await publisher.stop();
  });
});

describe('keepTrafficStatus', () => {
  it('hides status.traffic from the reconcilers and keeps it when they write', async () => {
    const inner = await storeWith([['WimaxClient/default/st1', { printableStatus: 'Bound', traffic: traffic() }]]);
    const view = keepTrafficStatus(inner);
    expect(view.get('WimaxClient/default/st1')!.status).toEqual({ printableStatus: 'Bound' });
    await view.write('WimaxClient/default/st1', { ...view.get('WimaxClient/default/st1')!, status: { printableStatus: 'Pending' } });
    expect(inner.get('WimaxClient/default/st1')!.status).toEqual({ printableStatus: 'Pending', traffic: traffic() });
  });
});

describe('FileTrafficStatusWriter on a real state database', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('writes a round of 1000 resources in one transaction, keeping every other status field', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wx-traffic-status-'));
    const state = openStateDatabase(dir);
    try {
      const statuses = new SqliteStatusStore(state);
      const keys = Array.from({ length: 1000 }, (_, i) => `WimaxClient/default/st${i}`);
      for (const key of keys) await statuses.write(key, { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'WimaxClient', metadata: { name: key.split('/')[2]!, namespace: 'default', generation: 1 } as never, spec: {}, status: { printableStatus: 'Bound', vlan: 7 } });
      const changes = (): number => (state.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
      let transactions = 0;
      const original = state.db.transaction.bind(state.db);
      state.db.transaction = ((fn: never) => { transactions++; return original(fn); }) as never;
      const before = changes();
      await new FileTrafficStatusWriter(statuses).write(new Map(keys.map((k) => [k, traffic()])));
      expect(transactions).toBe(1);
      expect(changes() - before).toBe(1000);
      const row = JSON.parse((state.db.prepare('SELECT body FROM objects WHERE name = ?').get('st42') as { body: string }).body);
      expect(row.status).toEqual({ printableStatus: 'Bound', vlan: 7, traffic: traffic() });
      await new FileTrafficStatusWriter(statuses).write(new Map([['WimaxClient/default/st42', undefined]]));
      expect(statuses.get('WimaxClient/default/st42')!.status).toEqual({ printableStatus: 'Bound', vlan: 7 });
    } finally {
      state.close();
    }
  });
});
