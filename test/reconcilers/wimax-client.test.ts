// The WimaxClient reconciler through its ports: in-memory store, statuses and datapath.
import { beforeEach, describe, expect, it } from 'vitest';
import type { VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import type { WimaxClient, WimaxClientStatus } from '../../src/api/wimax-client.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { createLogger } from '../../src/core/logger.js';
import { ClientIndex } from '../../src/reconcilers/wimax-client/client-index.js';
import { WimaxClientReconciler } from '../../src/reconcilers/wimax-client/reconciler.js';
import { FakeDatapath } from '../fakes/fake-datapath.js';
import { FakeEventRecorder } from '../fakes/fake-event-recorder.js';
import { FakeStatusStore } from '../fakes/fake-status-store.js';

const MAC = '00:11:22:33:44:55';

function setup(opts: { datapath?: boolean; shaping?: boolean } = {}) {
  const store = new DesiredStore();
  const statuses = new FakeStatusStore();
  const index = new ClientIndex(store);
  store.onChange((key) => key.startsWith('WimaxClient/') && index.update(key));
  const datapath = opts.datapath === false ? undefined : new FakeDatapath();
  let shaping = opts.shaping ?? true;
  const events = new FakeEventRecorder();
  const logs: { level: string; msg: string; key?: string; reason?: string }[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (line) => logs.push(JSON.parse(line)) });
  const reconciler = new WimaxClientReconciler({
    store, statuses, index, events, logger,
    ...(datapath ? { datapath } : {}),
    shapingEnabled: () => shaping,
  });
  const t = {
    store, statuses, datapath: datapath!, reconciler, events, logs,
    vm(name: string, status?: Partial<VirtualMachineStatus>) {
      store.set(`VirtualMachine/default/${name}`, {
        apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
        metadata: { name, namespace: 'default', uid: `u-${name}`, generation: 1, creationTimestamp: 'x' },
        spec: { runStrategy: 'Always', memory: '64Mi', vcpus: 1 },
      });
      if (status) {
        statuses.seed(`VirtualMachine/default/${name}`, {
          apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
          metadata: { name, namespace: 'default', uid: `u-${name}`, generation: 1, creationTimestamp: 'x' }, spec: {},
          status: { printableStatus: 'Running', observedGeneration: 1, conditions: [], ...status } as VirtualMachineStatus,
        });
      }
    },
    runningVm(name: string, vlan: number, id = 1) {
      t.vm(name, { allocations: { vlan }, domain: { name, uuid: 'u', id, state: 'running', port: `wx-${name}` } });
    },
    client(name: string, spec: Partial<WimaxClient['spec']> = {}) {
      store.set(`WimaxClient/default/${name}`, {
        apiVersion: 'wimaxvm.io/v1alpha1', kind: 'WimaxClient',
        metadata: { name, namespace: 'default', uid: `c-${name}`, generation: 1, creationTimestamp: 'x' },
        spec: { mac: MAC, vmName: 'vm-a', ...spec },
      });
    },
    status(name: string): WimaxClientStatus | undefined {
      return statuses.get(`WimaxClient/default/${name}`)?.status as WimaxClientStatus | undefined;
    },
    reconcile: (name: string) => reconciler.reconcile(`WimaxClient/default/${name}`),
    setShaping(on: boolean) { shaping = on; },
  };
  return t;
}

describe('WimaxClient reconciler', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => { t = setup(); });

  it('binds a station to its running VM: the VM VLAN and port, status Bound', async () => {
    t.runningVm('vm-a', 7);
    t.client('st1');
    await t.reconcile('st1');
    expect(t.datapath.paths.get(MAC)).toEqual({ mac: MAC, vlan: 7, vmPort: 'wx-vm-a' });
    expect(t.status('st1')).toMatchObject({ printableStatus: 'Bound', vlan: 7, vmName: 'vm-a', port: 'wx-vm-a' });
    expect(t.status('st1')!.conditions[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'Bound' });
  });

  it('a second reconcile changes nothing on the switch', async () => {
    t.runningVm('vm-a', 7);
    t.client('st1');
    await t.reconcile('st1');
    const writes = t.datapath.mutations().length;
    await t.reconcile('st1');
    expect(t.datapath.mutations().length).toBe(writes);
  });

  it('MAC case does not matter: the path is keyed by the canonical MAC', async () => {
    t.runningVm('vm-a', 7);
    t.client('st1', { mac: '00:11:22:AA:BB:CC' });
    await t.reconcile('st1');
    expect([...t.datapath.paths.keys()]).toEqual(['00:11:22:aa:bb:cc']);
  });

  it('rebinding to another VM moves the path to that VLAN and port', async () => {
    t.runningVm('vm-a', 7);
    t.runningVm('vm-b', 9);
    t.client('st1');
    await t.reconcile('st1');
    t.client('st1', { vmName: 'vm-b' });
    await t.reconcile('st1');
    expect(t.datapath.paths.get(MAC)).toMatchObject({ vlan: 9, vmPort: 'wx-vm-b' });
    expect(t.status('st1')).toMatchObject({ printableStatus: 'Bound', vmName: 'vm-b', vlan: 9 });
  });

  it.each([
    ['VMNotFound', (_tt: ReturnType<typeof setup>) => {}],
    ['VMHasNoVLAN', (tt: ReturnType<typeof setup>) => tt.vm('vm-a', { allocations: {} })],
    ['VMNotRunning', (tt: ReturnType<typeof setup>) => tt.vm('vm-a', { allocations: { vlan: 7 }, domain: { name: 'vm-a', uuid: 'u', state: 'shutoff' } })],
  ])('Pending with reason %s, and nothing programmed', async (reason, arrange) => {
    arrange(t);
    t.client('st1');
    const result = await t.reconcile('st1');
    expect(t.status('st1')).toMatchObject({ printableStatus: 'Pending' });
    expect(t.status('st1')!.conditions[0]).toMatchObject({ status: 'False', reason });
    expect(t.datapath.paths.size).toBe(0);
    expect(result.requeueAfterMs).toBeGreaterThan(0);
  });

  it('a station whose VM has no status yet (a fresh start) is not written Pending: it waits for the VM\'s first status', async () => {
    t.vm('vm-a');
    t.client('st1');
    const result = await t.reconcile('st1');
    expect([t.status('st1'), t.events.events.length, t.datapath.paths.size]).toEqual([undefined, 0, 0]);
    expect(result.requeueAfterMs).toBeGreaterThan(0); // a safety net: the VM's status write queues it
    t.runningVm('vm-a', 7);
    await t.reconcile('st1');
    expect(t.status('st1')).toMatchObject({ printableStatus: 'Bound', vlan: 7 });
  });

  it('a VM that stops takes its stations off the switch', async () => {
    t.runningVm('vm-a', 7);
    t.client('st1');
    await t.reconcile('st1');
    t.vm('vm-a', { allocations: { vlan: 7 }, domain: { name: 'vm-a', uuid: 'u', state: 'shutoff' } });
    await t.reconcile('st1');
    expect(t.datapath.paths.size).toBe(0);
    expect(t.status('st1')!.conditions[0]!.reason).toBe('VMNotRunning');
  });

  it('a VM restarted (new domain id, same port name) gets its stations re-programmed', async () => {
    t.runningVm('vm-a', 7, 1);
    t.client('st1');
    await t.reconcile('st1');
    t.runningVm('vm-a', 7, 2);
    await t.reconcile('st1');
    expect(t.datapath.mutations()).toEqual([`apply ${MAC}`, `apply ${MAC}`]);
  });

  it('a label-only edit reaches the stored object', async () => {
    t.runningVm('vm-a', 7);
    t.client('st1');
    await t.reconcile('st1');
    const client = t.store.get<WimaxClient>('WimaxClient/default/st1')!;
    t.store.set('WimaxClient/default/st1', { ...client, metadata: { ...client.metadata, labels: { site: 'b' } } });
    await t.reconcile('st1');
    expect(t.statuses.get('WimaxClient/default/st1')!.metadata.labels).toEqual({ site: 'b' });
  });

  it('two clients claiming one station: Conflict on both, neither programmed; removing one binds the other', async () => {
    t.runningVm('vm-a', 7);
    t.runningVm('vm-b', 9);
    t.client('st1');
    await t.reconcile('st1');
    t.client('st2', { vmName: 'vm-b' });
    await t.reconcile('st2');
    await t.reconcile('st1');
    expect(t.status('st1')).toMatchObject({ printableStatus: 'Conflict' });
    expect(t.status('st2')).toMatchObject({ printableStatus: 'Conflict' });
    expect(t.status('st2')!.conditions[0]).toMatchObject({ reason: 'DuplicateMAC' });
    expect(t.status('st2')!.conditions[0]!.message).toContain('default/st1');
    expect(t.datapath.paths.size).toBe(0);
    // Said once per station and cause, as a warning naming the station, and as an event; retries say nothing more.
    await t.reconcile('st2');
    await t.reconcile('st1');
    const warned = t.logs.filter((l) => l.reason === 'DuplicateMAC' && l.level !== 'info'); // info: st1's path removed
    expect(warned.map((l) => [l.level, l.key])).toEqual([['warn', 'WimaxClient/default/st2'], ['warn', 'WimaxClient/default/st1']]);
    expect(warned[0]!.msg).toContain('also declared by default/st1');
    expect(t.events.events.filter((e) => e.reason === 'DuplicateMAC').map((e) => [e.type, e.key])).toEqual([
      ['Warning', 'WimaxClient/default/st2'], ['Warning', 'WimaxClient/default/st1'],
    ]);
    t.store.delete('WimaxClient/default/st1');
    await t.reconcile('st1');
    await t.reconcile('st2');
    expect(t.datapath.paths.get(MAC)).toMatchObject({ vlan: 9 });
    expect(t.status('st1')).toBeUndefined();
  });

  it('deleting the client removes its path and status', async () => {
    t.runningVm('vm-a', 7);
    t.client('st1');
    await t.reconcile('st1');
    t.store.delete('WimaxClient/default/st1');
    await t.reconcile('st1');
    expect(t.datapath.paths.size).toBe(0);
    expect(t.status('st1')).toBeUndefined();
  });

  it('station rates become path rates; shaping off removes them and keeps the binding', async () => {
    t.runningVm('vm-a', 7);
    t.client('st1', { shaping: { downlink: '2Mbit', uplink: '512kbit' } });
    await t.reconcile('st1');
    expect(t.datapath.paths.get(MAC)).toMatchObject({ downlinkKbps: 2000, uplinkKbps: 512 });
    expect(t.status('st1')!.rates).toEqual({ downlinkKbps: 2000, uplinkKbps: 512 });
    t.setShaping(false);
    await t.reconcile('st1');
    expect(t.datapath.paths.get(MAC)).toEqual({ mac: MAC, vlan: 7, vmPort: 'wx-vm-a' });
    expect(t.status('st1')!.rates).toBeUndefined();
  });

  it('drift: a path changed behind our back is programmed again', async () => {
    t.runningVm('vm-a', 7);
    t.client('st1');
    await t.reconcile('st1');
    t.datapath.paths.set(MAC, { mac: MAC, vlan: 99, vmPort: 'wx-vm-a' });
    await t.reconcile('st1');
    expect(t.datapath.paths.get(MAC)!.vlan).toBe(7);
  });

  it('without a datapath: Pending NoDatapath', async () => {
    const u = setup({ datapath: false });
    u.runningVm('vm-a', 7);
    u.client('st1');
    await u.reconcile('st1');
    expect(u.status('st1')!.conditions[0]!.reason).toBe('NoDatapath');
  });
});
