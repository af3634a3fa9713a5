// DaemonSet mode, two nodes: one controller per node (--node-name), one API server (the double),
// libvirt's test driver. A slice's VLAN is unique across the testbed, not per node (issue 8,
// defect 6: both nodes ran VMs on VLAN 5, and each handed out VLAN 3).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { createLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { eventually } from '../helpers/harness.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const run = Math.random().toString(36).slice(2, 6);

interface Condition { type: string; status: string; reason: string; message: string }

describe('VLANs across nodes (DaemonSet mode)', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  let api: CustomObjectsApi;
  let leases: CoordinationV1Api;
  const running: RunningController[] = [];
  const logs: string[] = [];

  const node = async (name: string) => {
    const config = buildConfig({
      source: 'kube', kubeconfig, 'node-name': name, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-vn-')),
      listen: 'off', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s',
    });
    const r = await startController(config, createLogger({ level: 'info', format: 'json', write: (l) => logs.push(`${name} ${l}`) }));
    running.push(r);
    return r;
  };
  const create = (name: string, nodeName: string, network?: Record<string, unknown>) => api.createNamespacedCustomObject({
    ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { memory: '64Mi', nodeName, ...(network ? { network } : {}) } },
  });
  const status = async (name: string) => (await api.getNamespacedCustomObject({ ...VMS, name })).status as
    { printableStatus?: string; allocations?: { vlan?: number }; conditions?: Condition[] } | undefined;
  const condition = async (name: string, type: string) => (await status(name))?.conditions?.find((c) => c.type === type);

  beforeAll(async () => {
    ({ server, kubeconfig } = await startCluster());
    api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    leases = server.kubeConfig().makeApiClient(CoordinationV1Api);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
  });
  afterAll(async () => server.stop());

  it('the same explicit VLAN on two nodes: exactly one VM is Ready, the other reports the conflict naming the holder', async () => {
    await node('node-a');
    await node('node-b');
    const [onA, onB] = [`vn-${run}-a`, `vn-${run}-b`];
    await Promise.all([create(onA, 'node-a', { vlan: 5 }), create(onB, 'node-b', { vlan: 5 })]);
    // Each VM settles: Ready, or a VLAN conflict.
    const settled = async (name: string) => {
      const ready = await condition(name, 'Ready');
      return ready?.status === 'True' || (await condition(name, 'VLANAssigned'))?.reason === 'VLANConflict';
    };
    await eventually(async () => (await settled(onA)) && (await settled(onB)), 'both VMs settled');
    const ready = [];
    for (const name of [onA, onB]) if ((await condition(name, 'Ready'))?.status === 'True') ready.push(name);
    expect(ready).toHaveLength(1);
    const [winner, loser] = ready[0] === onA ? [onA, onB] : [onB, onA];
    expect(await condition(loser, 'VLANAssigned')).toMatchObject({ status: 'False', reason: 'VLANConflict', message: `VLAN 5 is held by default/${winner}` });
    expect(await condition(loser, 'Ready')).toMatchObject({ status: 'False', reason: 'VLANConflict' });
    expect((await status(loser))?.allocations?.vlan).toBeUndefined();
    expect((await status(winner))?.allocations?.vlan).toBe(5);
    expect((await leases.readNamespacedLease({ name: 'wimaxvm-vlan-5', namespace: 'wimaxvm-system' })).spec?.holderIdentity).toBe(`default/${winner}`);

    // The holder goes: the VLAN is given back, and the other node's VM gets it.
    await api.deleteNamespacedCustomObject({ ...VMS, name: winner });
    await eventually(async () => (await condition(loser, 'Ready'))?.status === 'True', `${loser} Ready on VLAN 5`);
    expect((await status(loser))?.allocations?.vlan).toBe(5);
    expect(await condition(loser, 'VLANAssigned')).toBeUndefined();
    expect((await leases.readNamespacedLease({ name: 'wimaxvm-vlan-5', namespace: 'wimaxvm-system' })).spec?.holderIdentity).toBe(`default/${loser}`);
  });

  it('automatic allocation on two nodes gives distinct VLANs', async () => {
    await node('node-a');
    await node('node-b');
    const placed = [0, 1, 2].flatMap((i) => [[`vn-${run}-auto-a${i}`, 'node-a'], [`vn-${run}-auto-b${i}`, 'node-b']] as const);
    const names = placed.map(([name]) => name);
    await Promise.all(placed.map(([name, nodeName]) => create(name, nodeName)));
    const vlans = await eventually(async () => {
      const got: number[] = [];
      for (const name of names) {
        const s = await status(name);
        if (s?.printableStatus !== 'Running' || s.allocations?.vlan === undefined) return undefined;
        got.push(s.allocations.vlan);
      }
      return got;
    }, 'every VM Running with a VLAN');
    expect(new Set(vlans).size).toBe(names.length);
    const claimed = (await leases.listNamespacedLease({ namespace: 'wimaxvm-system', labelSelector: 'wimaxvm.io/vlan-claim' })).items;
    for (const [i, name] of names.entries()) {
      expect(claimed.find((l) => l.metadata?.name === `wimaxvm-vlan-${vlans[i]}`)?.spec?.holderIdentity).toBe(`default/${name}`);
    }
  });

  it('an explicit VLAN on one node wins over the same VLAN handed out automatically on another: that VM moves', async () => {
    await node('node-a');
    await node('node-b');
    const [auto, named] = [`vn-${run}-auto`, `vn-${run}-named`];
    await create(auto, 'node-a');
    const taken = await eventually(async () => {
      const s = await status(auto);
      return s?.printableStatus === 'Running' ? s.allocations?.vlan : undefined;
    }, `${auto} Running with a VLAN`);
    const claim = await leases.readNamespacedLease({ name: `wimaxvm-vlan-${taken}`, namespace: 'wimaxvm-system' });
    expect(claim.metadata?.annotations?.['wimaxvm.io/explicit']).toBe('false');
    await create(named, 'node-b', { vlan: taken });
    await eventually(async () => (await status(named))?.allocations?.vlan === taken && (await condition(named, 'Ready'))?.status === 'True', `${named} Ready on VLAN ${taken}`);
    const moved = (await status(auto))?.allocations?.vlan;
    expect(moved).toBeDefined();
    expect(moved).not.toBe(taken);
    expect((await status(auto))?.printableStatus).toBe('Running');
    const now = await leases.readNamespacedLease({ name: `wimaxvm-vlan-${taken}`, namespace: 'wimaxvm-system' });
    expect(now.spec?.holderIdentity).toBe(`default/${named}`);
    expect(now.metadata?.annotations?.['wimaxvm.io/explicit']).toBe('true');
    expect(now.metadata?.annotations?.['wimaxvm.io/wanted-by']).toBeUndefined();
    expect((await leases.readNamespacedLease({ name: `wimaxvm-vlan-${moved}`, namespace: 'wimaxvm-system' })).spec?.holderIdentity).toBe(`default/${auto}`);
  });
});
