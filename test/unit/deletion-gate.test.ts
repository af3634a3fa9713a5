// The deletion gate: permits only on a witness's positive evidence, and adapters that refuse
// to delete without one (the real libvirt adapter on test:///default included).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { assertPermit, DeletionGate, DeletionPermit } from '../../src/core/deletion-gate.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { FakeWitness } from '../fakes/fake-witness.js';
import type { VirtualMachine } from '../../src/api/virtual-machine.js';
import type { LeaseRecord } from '../../src/leases/lease-clock.js';

const KEY = 'VirtualMachine/default/vm1';

function setup() {
  const store = new DesiredStore();
  const witness = new FakeWitness();
  const logs: string[] = [];
  let current: FakeWitness | undefined = witness;
  const gate = new DeletionGate(store, () => current, createLogger({ level: 'info', format: 'json', write: (l) => logs.push(l) }));
  return { store, witness, gate, logs, unsetWitness: () => (current = undefined) };
}

describe('DeletionGate', () => {
  it('gives a permit for the domain when the witness confirms the declaration was deleted', () => {
    const { gate } = setup();
    const decision = gate.decide(KEY, 'vm1');
    expect('permit' in decision && decision.permit.domainName).toBe('vm1');
    expect('permit' in decision && decision.permit.evidence).toBe('removed by the test');
    expect(gate.withheldCount).toBe(0);
  });

  it.each([
    ['the resource is declared', (s: ReturnType<typeof setup>) => s.store.set(KEY, { apiVersion: 'v', kind: 'VirtualMachine', metadata: { name: 'vm1', namespace: 'default', uid: 'u', generation: 1, creationTimestamp: '' }, spec: {} }), 'it is declared'],
    ['no source runs', (s: ReturnType<typeof setup>) => s.unsetWitness(), 'no source of desired state is running'],
    ['the source cannot read', (s: ReturnType<typeof setup>) => s.witness.block('the cluster has not been listed successfully yet'), 'the cluster has not been listed successfully yet'],
    ['the source keeps this one', (s: ReturnType<typeof setup>) => s.witness.keep(KEY), 'kept by the test'],
  ])('withholds the deletion when %s, logs it once, and counts it', (_, arrange, why) => {
    const s = setup();
    arrange(s);
    expect(s.gate.decide(KEY, 'vm1')).toEqual({ withheld: why });
    expect(s.gate.decide(KEY, 'vm1')).toEqual({ withheld: why });
    expect(s.logs.filter((l) => l.includes('not deleting vm1'))).toHaveLength(1);
    expect(s.gate.withheldCount).toBe(1);
    s.gate.settled(KEY);
    expect(s.gate.withheldCount).toBe(0);
  });

  it('a withheld deletion goes through once the witness can vouch again', () => {
    const { gate, witness } = setup();
    witness.block('the watch of the cluster is down');
    expect(gate.decide(KEY, 'vm1')).toEqual({ withheld: 'the watch of the cluster is down' });
    expect(gate.blocked()).toBe('the watch of the cluster is down');
    witness.block(undefined);
    expect('permit' in gate.decide(KEY, 'vm1')).toBe(true);
    expect(gate.withheldCount).toBe(0);
  });
});

describe('permits', () => {
  it('cannot be made outside the gate', () => {
    expect(() => new DeletionPermit(Symbol('deletion-gate') as never, KEY, 'vm1', 'forged', () => undefined)).toThrow(/from the deletion gate only/);
  });

  it.each([
    ['no permit', undefined],
    ['a look-alike object', { key: KEY, domainName: 'vm1', evidence: 'x' }],
  ])('assertPermit refuses %s', (_, permit) => {
    expect(() => assertPermit(permit as DeletionPermit | undefined, 'vm1')).toThrow(/no deletion permit/);
  });

  it('a permit is refused once its resource is declared again', () => {
    const s = setup();
    const decision = s.gate.decide(KEY, 'vm1');
    if (!('permit' in decision)) throw new Error('expected a permit');
    s.store.set(KEY, { apiVersion: 'v', kind: 'VirtualMachine', metadata: { name: 'vm1', namespace: 'default', uid: 'u', generation: 1, creationTimestamp: '' }, spec: {} });
    expect(() => assertPermit(decision.permit, 'vm1')).toThrow(/declared again/);
  });

  it('a permit for one domain does not delete another', () => {
    const { gate } = setup();
    const decision = gate.decide(KEY, 'vm1');
    if (!('permit' in decision)) throw new Error('expected a permit');
    expect(() => assertPermit(decision.permit, 'vm2')).toThrow(/no deletion permit/);
    expect(() => assertPermit(decision.permit, 'vm1')).not.toThrow();
  });
});

describe('the lease rule: a declaration whose lease says Delete, expired', () => {
  const T0 = Date.parse('2026-12-03T10:00:00.000Z');
  const H = 3_600_000;
  const expired: LeaseRecord = { startedAt: new Date(T0 - 3 * H).toISOString(), expiresAt: new Date(T0 - H).toISOString() };
  const vm = (lease: VirtualMachine['spec']['lease'], annotations?: Record<string, string>): VirtualMachine => ({
    apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
    metadata: { name: 'vm1', namespace: 'default', uid: 'u', generation: 1, creationTimestamp: '', ...(annotations ? { annotations } : {}) },
    spec: { runStrategy: 'Always', memory: '256Mi', vcpus: 1, ...(lease ? { lease } : {}) },
  });
  function leaseSetup(declared: VirtualMachine | undefined) {
    const store = new DesiredStore();
    if (declared) store.set(KEY, declared);
    let clock = T0;
    const gate = new DeletionGate(store, () => new FakeWitness(), silentLogger, () => clock);
    return { store, gate, setClock: (ms: number) => (clock = ms) };
  }

  it('gives a permit, with the lease as its evidence, while the VM stays declared', () => {
    const { gate } = leaseSetup(vm({ duration: '2h', onExpiry: 'Delete' }));
    const decision = gate.decideLeaseExpired(KEY, 'vm1', expired);
    if (!('permit' in decision)) throw new Error(`expected a permit: ${decision.withheld}`);
    expect(decision.permit.evidence).toBe('its lease (2h, onExpiry Delete) expired at 2026-12-03T09:00:00.000Z');
    expect(() => assertPermit(decision.permit, 'vm1')).not.toThrow();
    expect(() => assertPermit(decision.permit, 'vm2')).toThrow(/no deletion permit/);
  });

  it.each([
    ['not declared', undefined, expired, /it is not declared/],
    ['declared without a lease', vm(undefined), expired, /has no lease/],
    ['onExpiry Stop', vm({ duration: '2h', onExpiry: 'Stop' }), expired, /onExpiry Stop, not Delete/],
    ['onExpiry left out (Stop)', vm({ duration: '2h' }), expired, /onExpiry Stop, not Delete/],
    ['Save', vm({ duration: '2h', onExpiry: 'Save' }), expired, /onExpiry Save, not Delete/],
    ['not expired yet', vm({ duration: '2h', onExpiry: 'Delete' }), { startedAt: new Date(T0 - H).toISOString(), expiresAt: new Date(T0 + H).toISOString() }, /runs until 2026-12-03T11:00:00.000Z/],
    ['a record of another duration (the lease was edited)', vm({ duration: '3h', onExpiry: 'Delete' }), expired, /lease was changed since/],
    ['renewed by annotation', vm({ duration: '2h', onExpiry: 'Delete' }, { 'wimaxvm.io/renewedAt': '2026-12-03T10:00:00Z' }), expired, /lease was renewed since/],
    ['a bad duration', vm({ duration: '2 hours', onExpiry: 'Delete' }), expired, /invalid lease duration/],
    ['a record started in the future', vm({ duration: '2h', onExpiry: 'Delete' }), { startedAt: new Date(T0 + H).toISOString(), expiresAt: new Date(T0 + 3 * H).toISOString() }, /changed since/],
  ])('withholds the permit when %s', (_, declared, record, why) => {
    const { gate } = leaseSetup(declared);
    const decision = gate.decideLeaseExpired(KEY, 'vm1', record);
    expect('withheld' in decision && decision.withheld).toMatch(why);
    expect('withheld' in decision && decision.withheld).toMatch(/^not removing vm1 for its lease: /);
  });

  it.each([
    ['renewed', (s: ReturnType<typeof leaseSetup>) => s.store.set(KEY, vm({ duration: '2h', onExpiry: 'Delete' }, { 'wimaxvm.io/renewedAt': 'now' })), /renewed since/],
    ['edited to Stop', (s: ReturnType<typeof leaseSetup>) => s.store.set(KEY, vm({ duration: '2h', onExpiry: 'Stop' })), /not Delete/],
    ['its declaration removed', (s: ReturnType<typeof leaseSetup>) => s.store.delete(KEY), /not declared/],
    ['the clock set back before expiry', (s: ReturnType<typeof leaseSetup>) => s.setClock(T0 - 2 * H), /runs until/],
  ])('a permit given is refused at use once the lease is %s', (_, change, why) => {
    const s = leaseSetup(vm({ duration: '2h', onExpiry: 'Delete' }));
    const decision = s.gate.decideLeaseExpired(KEY, 'vm1', expired);
    if (!('permit' in decision)) throw new Error('expected a permit');
    change(s);
    expect(() => assertPermit(decision.permit, 'vm1')).toThrow(why);
  });

  it('an undeclared-resource permit is not what decide gives a declared VM with an expired lease', () => {
    const { gate } = leaseSetup(vm({ duration: '2h', onExpiry: 'Delete' }));
    expect(gate.decide(KEY, 'vm1')).toEqual({ withheld: 'it is declared' });
  });
});

describe('the libvirt adapter on test:///default', () => {
  const hv = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  beforeAll(() => hv.connect());
  afterAll(() => hv.close());

  it('refuses to undefine a domain without the gate\'s permit, and undefines with it', async () => {
    await hv.define(`<domain type='test'><name>gate-probe</name><memory unit='KiB'>65536</memory><os><type>hvm</type></os></domain>`);
    await expect(hv.undefine('gate-probe', { domainName: 'gate-probe' } as unknown as DeletionPermit)).rejects.toThrow(/no deletion permit/);
    expect(await hv.getDomain('gate-probe', true)).toBeDefined();
    const { gate } = setup();
    const decision = gate.decide('VirtualMachine/default/gate-probe', 'gate-probe');
    if (!('permit' in decision)) throw new Error('expected a permit');
    await hv.undefine('gate-probe', decision.permit);
    expect(await hv.getDomain('gate-probe', true)).toBeUndefined();
  });
});
