// Issue 8 (4): once the server expired an Event (--event-ttl), the recorder kept patching it,
// got 404 (logged at debug) and never recorded again: `kubectl describe` showed no events.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeEventRecorder } from '../../src/adapters/kube-event-recorder.js';
import { createLogger } from '../../src/core/logger.js';
import { eventually } from '../helpers/harness.js';
import { FakeApiServer } from './api-server.js';

describe('KubeEventRecorder against the API-server double', () => {
  let server: FakeApiServer;
  let core: CoreV1Api;
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) });
  const events = async () => (await core.listNamespacedEvent({ namespace: 'default' })).items;

  beforeAll(async () => {
    server = await FakeApiServer.start({ installCrds: true });
    core = server.kubeConfig().makeApiClient(CoreV1Api);
  });
  afterAll(async () => server.stop());

  it('folds repeats into one Event, and starts a new one when the server has expired it', async () => {
    const recorder = new KubeEventRecorder(server.kubeConfig(), () => ({ apiVersion: 'wimaxvm.io/v1alpha1', uid: 'uid-1' }), logger);
    const key = 'VirtualMachine/default/vm1';
    recorder.record(key, 'Normal', 'Started', 'started vm1');
    recorder.record(key, 'Normal', 'Started', 'started vm1');
    const first = await eventually(async () => (await events()).find((e) => e.count === 2), 'one Event, count 2');
    expect(await events()).toHaveLength(1);

    expect(server.expireEvents()).toBe(1);
    recorder.record(key, 'Normal', 'Started', 'started vm1');
    recorder.record(key, 'Normal', 'Started', 'started vm1');
    const second = await eventually(async () => (await events()).find((e) => e.count === 2), 'a new Event after expiry, count 2');
    expect(second.metadata?.name).not.toBe(first.metadata?.name);
    expect(second).toMatchObject({ reason: 'Started', message: 'started vm1', involvedObject: { name: 'vm1', uid: 'uid-1' } });
    expect(await events()).toHaveLength(1);
    // An expired Event is expected, not a failure worth a warning.
    expect(logs.filter((l) => l.includes('"level":"warn"'))).toEqual([]);
  });

  // Seen deleting a namespace of 200 VMs on a real server: 359 warnings, one per last event.
  it('an Event refused because its namespace is being deleted is not a warning', async () => {
    await core.createNamespace({ body: { metadata: { name: 'going', finalizers: ['example.com/hold'] } as never } });
    await core.deleteNamespace({ name: 'going' });
    const before = logs.length;
    const recorder = new KubeEventRecorder(server.kubeConfig(), () => ({ apiVersion: 'wimaxvm.io/v1alpha1', uid: 'uid-3' }), logger);
    recorder.record('VirtualMachine/going/vm3', 'Normal', 'Deleted', 'domain vm3 undefined');
    const line = await eventually(() => logs.slice(before).find((l) => l.includes('event not recorded')), 'the debug line');
    expect(JSON.parse(line)).toMatchObject({ level: 'debug', error: expect.stringContaining('because it is being terminated') });
  });

  it('a refused Event is a warning with the server\'s message', async () => {
    const recorder = new KubeEventRecorder(server.kubeConfig(), () => ({ apiVersion: 'wimaxvm.io/v1alpha1', uid: 'uid-2' }), logger);
    server.failNext('POST', /\/events$/, 403);
    const before = logs.length;
    recorder.record('VirtualMachine/default/vm2', 'Warning', 'Failed', 'it failed');
    const line = await eventually(() => logs.slice(before).find((l) => l.includes('event not recorded')), 'the warning');
    expect(JSON.parse(line)).toMatchObject({ level: 'warn', error: "403 Forbidden: injected by the fake API server's failNext (HTTP 403)" });
  });
});
