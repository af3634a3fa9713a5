// The routing port: a domain's calls go to the host its VM is placed on; a nodeName that is no
// declared Hypervisor stays on the own connection; a declared host not connected is unavailable.
import { describe, expect, it } from 'vitest';
import { HostConnections, type HostConnection } from '../../src/hosts/host-connections.js';
import { PlacedHypervisor } from '../../src/hosts/placed-hypervisor.js';
import { HypervisorUnavailableError } from '../../src/ports/hypervisor.js';
import { FakeHypervisor } from '../fakes/fake-hypervisor.js';
import { FakeStatusStore } from '../fakes/fake-status-store.js';
import { FakeWitness } from '../fakes/fake-witness.js';
import { DeletionGate, type DeletionPermit } from '../../src/core/deletion-gate.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { silentLogger } from '../../src/core/logger.js';

class FakeHost extends FakeHypervisor {
  connected = true;
  unreachableBecause: string | undefined = undefined;
  async connectOrWait(): Promise<'connected'> { return 'connected'; }
  async close(): Promise<void> {}
  onReconnect(): void {}
}

const xml = (name: string) => `<domain type="test"><name>${name}</name><uuid>6b3c1a7e-0000-4000-8000-${name.padStart(12, "0")}</uuid><memory unit="KiB">65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

describe('PlacedHypervisor', () => {
  async function setup() {
    const local = new FakeHost();
    const remote = new FakeHost();
    const statuses = new FakeStatusStore();
    const hosts = new HostConnections<FakeHost & HostConnection>(() => remote as FakeHost & HostConnection, () => undefined);
    await hosts.ensure('b', 'qemu+ssh://b/system');
    const declared = new Set(['a', 'b', 'c']);
    const placed = new PlacedHypervisor(local, () => 'a', hosts, statuses, undefined, (h) => declared.has(h));
    return { local, remote, statuses, placed };
  }

  it('defines and starts where the placement step assigned; status.nodeName routes later reconciles', async () => {
    const { local, remote, statuses, placed } = await setup();
    placed.assign('v1', 'b');
    await placed.define(xml('v1'));
    await placed.start('v1');
    expect((await remote.getDomain('v1'))?.state).toBe('running');
    expect(await local.getDomain('v1')).toBeUndefined();
    await statuses.write('VirtualMachine/default/v2', { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'v2', namespace: 'default', uid: 'u', generation: 1, creationTimestamp: '' }, spec: {}, status: { nodeName: 'b' } });
    await placed.define(xml('v2'));
    expect(await remote.getDomain('v2')).toBeDefined();
    expect((await placed.listDomains()).map((d) => d.name).sort()).toEqual(['v1', 'v2']);
  });

  it("the own host, no placement, or a nodeName that is no declared Hypervisor: the own connection", async () => {
    const { local, placed } = await setup();
    placed.assign('v3', 'a');
    await placed.define(xml('v3'));
    await placed.define(xml('v4'));
    placed.assign('v5', 'node-7');
    await placed.define(xml('v5'));
    expect((await local.listDomains()).map((d) => d.name).sort()).toEqual(['v3', 'v4', 'v5']);
  });

  it('a declared host without a connection, or not connected: unavailable (the reconcile waits), nothing defined elsewhere', async () => {
    const { local, remote, placed } = await setup();
    placed.assign('v6', 'c');
    await expect(placed.define(xml('v6'))).rejects.toBeInstanceOf(HypervisorUnavailableError);
    remote.connected = false;
    remote.unreachableBecause = 'Failed to connect socket';
    placed.assign('v7', 'b');
    await expect(placed.getDomain('v7')).rejects.toThrow('hypervisor b is not connected (Failed to connect socket)');
    expect(await local.getDomain('v6')).toBeUndefined();
    expect(await local.getDomain('v7')).toBeUndefined();
  });

  it("a removed VM's placement is forgotten once its domain is undefined here and its status gone; not before, nor while declared", async () => {
    const { remote, statuses, placed } = await setup();
    const gate = new DeletionGate(new DesiredStore(), () => new FakeWitness(), silentLogger);
    const permit = (name: string) => (gate.decide(`VirtualMachine/default/${name}`, name) as { permit: DeletionPermit }).permit;
    const status = { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'gone', namespace: 'default', uid: 'u', generation: 1, creationTimestamp: '' }, spec: {}, status: { nodeName: 'b' } };
    const declared = new Set(['kept']);
    for (const name of ['gone', 'kept', 'pending']) {
      placed.assign(name, 'b');
      await placed.define(xml(name));
    }
    await statuses.write('VirtualMachine/default/gone', status);
    await placed.undefine('gone', permit('gone'));
    await placed.undefine('kept', permit('kept')); // defined again next (a declared VM's domain replaced)
    placed.prune((d) => declared.has(d));
    expect([...placed.assignments().keys()].sort()).toEqual(['gone', 'kept', 'pending']); // gone's status is still there
    await statuses.remove('VirtualMachine/default/gone');
    placed.prune((d) => declared.has(d));
    expect([...placed.assignments().keys()].sort()).toEqual(['kept', 'pending']); // pending: its domain is still defined
    expect(placed.hostOf('gone')).toBeUndefined();
    expect(placed.hostOf('kept')).toBe('b');
    expect((await remote.listDomains()).map((d) => d.name).sort()).toEqual(['pending']);
  });
});

