// The rule that lets a moved VM's old definition go (the deletion gate's decideMigrated), the
// permit it gives (only on the old host, never for disks but the files the move copied), and the
// move itself over two fake hosts with a failure at every call: never zero definitions, never two
// running guests, and the host the engine routes to always holds the guest.
import { describe, expect, it } from 'vitest';
import { assertPermit, DeletionGate, DeletionPermit, type Absence } from '../../src/core/deletion-gate.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { copiedPaths, moveDomain, MovedButKept, removeOldDefinition, type MoveHosts } from '../../src/hosts/domain-move.js';
import { DiskCarryError, type CarriedDisk, type DiskCarrier } from '../../src/ports/disk-carrier.js';
import { movedEvidence, type MoveSides } from '../../src/hosts/moved-evidence.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { FakeDiskImages } from '../fakes/fake-disk-images.js';
import { FakeHypervisor, type FakeHypervisorOp } from '../fakes/fake-hypervisor.js';
import { FakeWitness } from '../fakes/fake-witness.js';
import { vmNamed } from '../helpers/vm-steps.js';

const KEY = 'VirtualMachine/default/vm1';
const U = '11111111-1111-4111-8111-111111111111';
const sides = (over: { declared?: boolean; from?: Partial<MoveSides['from']['domain']> | null; to?: Partial<MoveSides['to']['domain']> | null; toUri?: string } = {}): MoveSides => ({
  declared: over.declared ?? true,
  from: { host: 'a', uri: 'qemu+ssh://a/system', ...(over.from === null ? {} : { domain: { uuid: U, state: 'shutoff', persistent: true, saved: false, ...over.from } }) },
  to: { host: 'b', uri: over.toUri ?? 'qemu+ssh://b/system', ...(over.to === null ? {} : { domain: { uuid: U, state: 'running', persistent: true, ...over.to } }) },
});

describe('movedEvidence: when the old definition of a moved VM may go', () => {
  it.each<[string, MoveSides, string | RegExp]>([
    ['the destination runs the same guest, persistent; the source is shut off', sides(), /^b holds vm1 \(uuid 1111.*, running, persistent\); a's copy is shutoff$/],
    ['a cold move: the destination holds it shut off', sides({ to: { state: 'shutoff' } }), /^b holds vm1 .*shutoff, persistent/],
    ['not declared any more: a deletion, not a move', sides({ declared: false }), 'vm1 is not declared any more: removing it is a deletion, not a move'],
    ['the same URI on both sides', sides({ toUri: 'qemu+ssh://a/system' }), 'a and b are the same libvirt URI'],
    ['nothing at the source', sides({ from: null }), 'a holds no domain vm1: nothing to remove'],
    ['nothing at the destination', sides({ to: null }), "b holds no domain vm1: the source's definition is the only one"],
    ['another guest of that name at the destination', sides({ to: { uuid: '22222222-2222-4222-8222-222222222222' } }), /^b's vm1 has uuid 2222.*, a's 1111.*: not the same guest$/],
    ['a transient domain at the destination', sides({ to: { persistent: false } }), "b's vm1 is not persistent (it would vanish when it stops)"],
    ['still running at the source', sides({ from: { state: 'running' } }), 'vm1 is still running on a'],
    ['paused at the source', sides({ from: { state: 'paused' } }), 'vm1 is still paused on a'],
    ['a saved state at the source', sides({ from: { saved: true } }), 'vm1 has a saved state on a that removing it would lose'],
  ])('%s', (_name, input, expected) => {
    const judged = movedEvidence('vm1', input);
    const text = 'evidence' in judged ? judged.evidence : judged.why;
    if (typeof expected === 'string') expect(text).toBe(expected);
    else expect(text).toMatch(expected);
    expect('evidence' in judged).toBe(_name.startsWith('the destination runs') || _name.startsWith('a cold move'));
  });
});

function gateWithVm() {
  const store = new DesiredStore();
  store.set(KEY, vmNamed('vm1'));
  return { store, gate: new DeletionGate(store, () => new FakeWitness(), silentLogger) };
}

describe('DeletionGate.decideMigrated and its permit', () => {
  it('permits on the evidence, for the old host only and never for disks; a removed declaration revokes it', async () => {
    const { store, gate } = gateWithVm();
    const decision = await gate.decideMigrated(KEY, 'vm1', async () => sides());
    if (!('permit' in decision)) throw new Error(decision.withheld);
    expect(decision.permit.onlyOnHost).toBe('qemu+ssh://a/system');
    expect(() => assertPermit(decision.permit, 'vm1', { hostUri: 'qemu+ssh://a/system' })).not.toThrow();
    expect(() => assertPermit(decision.permit, 'vm1', { hostUri: 'qemu+ssh://b/system' }))
      .toThrow('refusing to delete domain vm1 at qemu+ssh://b/system: the permit is for its moved definition at qemu+ssh://a/system only');
    expect(() => assertPermit(decision.permit, 'vm1')).toThrow('refusing to delete the disks of vm1: the permit is for its moved definition at qemu+ssh://a/system only');
    await expect(new FakeDiskImages().removeOverlays('vm1', decision.permit)).rejects.toThrow(/disks of vm1/);
    store.delete(KEY);
    expect(() => assertPermit(decision.permit, 'vm1', { hostUri: 'qemu+ssh://a/system' })).toThrow(`${KEY} is not declared any more`);
  });

  it('withholds when the evidence is missing, and for a VM the store does not declare whatever the caller says', async () => {
    const { store, gate } = gateWithVm();
    expect(await gate.decideMigrated(KEY, 'vm1', async () => sides({ to: null }))).toEqual({ withheld: "not removing vm1 from a: b holds no domain vm1: the source's definition is the only one" });
    store.delete(KEY);
    expect(await gate.decideMigrated(KEY, 'vm1', async () => sides())).toEqual({ withheld: 'not removing vm1 from a: vm1 is not declared any more: removing it is a deletion, not a move' });
  });

  it('Kubernetes mode: a VM handed over to the destination\'s node (declared there, not here) may lose its old definition; to another node, or deleted, it may not; no ordinary permit either', async () => {
    const store = new DesiredStore();
    const witness = { absence: (): Absence => ({ confirmed: false, why: 'it is declared and runs on node b now', movedTo: 'b' }), blocked: () => undefined };
    const gate = new DeletionGate(store, () => witness, silentLogger);
    expect(gate.movedAway(KEY)).toBe('b');
    expect(gate.decide(KEY, 'vm1')).toEqual({ withheld: 'it is declared and runs on node b now' });
    const decision = await gate.decideMigrated(KEY, 'vm1', async () => sides());
    if (!('permit' in decision)) throw new Error(decision.withheld);
    expect(() => assertPermit(decision.permit, 'vm1')).toThrow(/disks of vm1/);
    const elsewhere = new DeletionGate(store, () => ({ ...witness, absence: (): Absence => ({ confirmed: false, why: 'x', movedTo: 'c' }) }), silentLogger);
    expect(await elsewhere.decideMigrated(KEY, 'vm1', async () => sides())).toMatchObject({ withheld: expect.stringContaining('not declared any more') });
    const deleted = new DeletionGate(store, () => new FakeWitness(), silentLogger);
    expect(deleted.movedAway(KEY)).toBeUndefined();
    expect(await deleted.decideMigrated(KEY, 'vm1', async () => sides())).toMatchObject({ withheld: expect.stringContaining('not declared any more') });
  });

  it('a move that carried disk files: its permit covers those files, at the old host only; no other file, host or permit does', async () => {
    const { store, gate } = gateWithVm();
    const A = 'qemu+ssh://a/system';
    const carried = ['/ov/vm1/disk0.qcow2', '/ov/vm1/seed.iso'];
    const decision = await gate.decideMigrated(KEY, 'vm1', async () => sides(), carried);
    if (!('permit' in decision)) throw new Error(decision.withheld);
    for (const path of carried) expect(() => assertPermit(decision.permit, 'vm1', { hostUri: A, carriedDisk: path })).not.toThrow();
    expect(() => assertPermit(decision.permit, 'vm1', { hostUri: A, carriedDisk: '/ov/vm1/disk1.qcow2' }))
      .toThrow("refusing to delete /ov/vm1/disk1.qcow2 at qemu+ssh://a/system: the permit does not name it as a file vm1's move copied away from there");
    expect(() => assertPermit(decision.permit, 'vm1', { hostUri: 'qemu+ssh://b/system', carriedDisk: carried[0]! })).toThrow(/refusing to delete \/ov\/vm1\/disk0.qcow2 at qemu\+ssh:\/\/b/);
    expect(() => assertPermit(decision.permit, 'vm1')).toThrow(/disks of vm1/); // all of its disks: still never
    // A move that copied nothing (shared storage) removes no file.
    const shared = await gate.decideMigrated(KEY, 'vm1', async () => sides());
    if (!('permit' in shared)) throw new Error(shared.withheld);
    expect(() => assertPermit(shared.permit, 'vm1', { hostUri: A, carriedDisk: carried[0]! })).toThrow(/does not name it/);
    // An ordinary deletion permit is not a move's: it removes a domain's disks by removeOverlays, not files one by one.
    store.delete(KEY);
    const d = gate.decide(KEY, 'vm1');
    if (!('permit' in d)) throw new Error(d.withheld);
    expect(() => assertPermit(d.permit, 'vm1', { hostUri: A, carriedDisk: carried[0]! })).toThrow(/does not name it/);
    // Declared no more: the move's permit is revoked for its files too.
    expect(() => assertPermit(decision.permit, 'vm1', { hostUri: A, carriedDisk: carried[0]! })).toThrow(`${KEY} is not declared any more`);
  });

  it('an ordinary deletion permit still works on any host and for disks', () => {
    const { gate, store } = gateWithVm();
    store.delete(KEY);
    const d = gate.decide(KEY, 'vm1');
    if (!('permit' in d)) throw new Error(d.withheld);
    expect(d.permit).toBeInstanceOf(DeletionPermit);
    expect(() => assertPermit(d.permit, 'vm1', { hostUri: 'qemu+ssh://b/system' })).not.toThrow();
    expect(() => assertPermit(d.permit, 'vm1')).not.toThrow();
  });
});

/** Two fake hosts; a live migration defines and starts at the destination and stops the source in one step, as libvirt's hand-over does. */
function twoHosts() {
  const hv = { a: new FakeHypervisor({ uri: 'fake://a' }), b: new FakeHypervisor({ uri: 'fake://b' }) };
  const failMigration: Error[] = [];
  const transientAt = new Set<string>();
  const hosts: MoveHosts = {
    portOf: (host) => hv[host as 'a' | 'b'],
    uriOf: (host) => hv[host as 'a' | 'b'].uri,
    migrateLive: async (name, from, to) => {
      const error = failMigration.shift();
      if (error) throw error;
      const src = hv[from as 'a' | 'b'];
      const dst = hv[to as 'a' | 'b'];
      const xml = src.peek(name)!.persistentXml;
      await dst.define(xml); // a failure here leaves the guest running at the source, as libvirt's does
      await src.destroy(name);
      await dst.start(name);
    },
    isPersistent: async (name, host) => !transientAt.has(`${host}/${name}`) && hv[host as 'a' | 'b'].peek(name) !== undefined,
  };
  return { hv, hosts, failMigration, transientAt };
}

const ACTIVE = new Set(['running', 'paused', 'blocked', 'shutdown', 'crashed', 'pmsuspended']);

describe('moveDomain over two hosts, a failure at each call: never zero definitions, never two running, routed to where it is', () => {
  const faults: [string, (t: ReturnType<typeof twoHosts>) => void][] = [
    ['none', () => undefined],
    ...(['getDomain', 'define', 'undefine'] as const).flatMap((op): [string, (t: ReturnType<typeof twoHosts>) => void][] => [
      [`a.${op}`, (t) => t.hv.a.failNext(op as FakeHypervisorOp, new Error(`a ${op} failed`))],
      [`b.${op}`, (t) => t.hv.b.failNext(op as FakeHypervisorOp, new Error(`b ${op} failed`))],
    ]),
    ['the live migration', (t) => t.failMigration.push(new Error('migration failed'))],
    ['the destination transient', (t) => t.transientAt.add('b/vm1')],
  ];
  it.each(faults.flatMap(([name, fault]) => [true, false].map((running) => ({ name, fault, running }))))('fault: $name, running: $running', async ({ name, fault, running }) => {
    const t = twoHosts();
    const { gate } = gateWithVm();
    const xml = buildDomainXml({ name: 'vm1', uuid: U, type: 'test', memoryKiB: 65536, vcpus: 1, diskPaths: [], mac: '52:54:00:00:00:01', nic: { type: 'user' },
      owner: { uid: 'u1', namespace: 'default', name: 'vm1', generation: 1, specHash: 'h', mac: '52:54:00:00:00:01' } });
    await t.hv.a.define(xml);
    if (running) await t.hv.a.start('vm1');
    fault(t);
    let routedTo = 'a';
    const outcome = await moveDomain({ key: KEY, domainName: 'vm1', from: 'a', to: 'b' }, t.hosts, gate, { moved: () => { routedTo = 'b'; } })
      .then((mode) => mode, (err: Error) => err);
    const defined = (['a', 'b'] as const).filter((h) => t.hv[h].peek('vm1'));
    const runningOn = (['a', 'b'] as const).filter((h) => ACTIVE.has(t.hv[h].peek('vm1')?.state ?? 'none'));
    expect(defined.length, 'definitions').toBeGreaterThanOrEqual(1);
    expect(runningOn.length, 'running copies').toBe(running ? 1 : 0);
    expect(defined, 'the routed host holds it').toContain(routedTo);
    if (running) expect(runningOn).toEqual([routedTo]);
    if (outcome === (running ? 'live' : 'cold')) expect(defined).toEqual(['b']);
    else if (outcome instanceof MovedButKept) expect(defined).toEqual(['a', 'b']);
    // The engine's next look tries again from where it started: the fault was once, so it ends on b alone.
    if (!(outcome instanceof Error)) return;
    const again = await moveDomain({ key: KEY, domainName: 'vm1', from: 'a', to: 'b' }, t.hosts, gate, { moved: () => { routedTo = 'b'; } }).catch((e: Error) => e);
    if (name === 'the destination transient') expect(again).toBeInstanceOf(MovedButKept);
    else expect([typeof again, (['a', 'b'] as const).filter((h) => t.hv[h].peek('vm1')), routedTo]).toEqual(['string', ['b'], 'b']);
    expect((['a', 'b'] as const).filter((h) => ACTIVE.has(t.hv[h].peek('vm1')?.state ?? 'none')).length).toBe(running ? 1 : 0);
  });
});

describe('moveDomain carrying disk files (a fake DiskCarrier in front of the real one)', () => {
  const DISKS = ['/ov/vm1/disk0.qcow2', '/ov/vm1/disk1.qcow2'];
  function setup(carry: (paths: readonly string[]) => Promise<CarriedDisk[]>, unseen: readonly string[] = []) {
    const t = twoHosts();
    const removed: { paths: readonly string[]; permit: DeletionPermit }[] = [];
    const carrier: DiskCarrier = {
      carry: async (_from, _to, paths) => carry(paths),
      unseen: async (_to, paths) => paths.filter((p) => unseen.includes(p)),
      removeCarried: async (_from, _to, _name, paths, permit) => {
        removed.push({ paths, permit });
        return [...paths];
      },
    };
    t.hosts.disks = carrier;
    const xml = buildDomainXml({ name: 'vm1', uuid: U, type: 'test', memoryKiB: 65536, vcpus: 1, diskPaths: DISKS, mac: '52:54:00:00:00:01', nic: { type: 'user' },
      owner: { uid: 'u1', namespace: 'default', name: 'vm1', generation: 1, specHash: 'h', mac: '52:54:00:00:00:01' } });
    return { ...t, removed, xml };
  }
  const req = { key: KEY, domainName: 'vm1', from: 'a', to: 'b' };

  it('a carry that fails leaves the guest where it was: not defined at the destination, nothing removed', async () => {
    const t = setup(async () => { throw new DiskCarryError('base image /img/base.qcow2 is not on b: put it there'); });
    await t.hv.a.define(t.xml);
    const { gate } = gateWithVm();
    let moved = false;
    await expect(moveDomain(req, t.hosts, gate, { moved: () => { moved = true; } })).rejects.toThrow('base image /img/base.qcow2 is not on b');
    expect([moved, !!t.hv.a.peek('vm1'), !!t.hv.b.peek('vm1'), t.removed]).toEqual([false, true, false, []]);
  });

  it("the disks go before the definition; only the files copied leave the old host, after its definition, with that removal's permit", async () => {
    const order: string[] = [];
    const t = setup(async (paths) => {
      order.push(`carry ${paths.join(' ')} (b defined: ${!!t.hv.b.peek('vm1')})`);
      return [{ path: paths[0]!, copied: true, dataBytes: 1, holeBytes: 0 }, { path: paths[1]!, copied: false, dataBytes: 0, holeBytes: 0 }];
    });
    await t.hv.a.define(t.xml);
    const { gate } = gateWithVm();
    expect(await moveDomain(req, t.hosts, gate, { moved: () => undefined })).toBe('cold');
    expect(order).toEqual([`carry ${DISKS.join(' ')} (b defined: false)`]);
    expect([!!t.hv.a.peek('vm1'), !!t.hv.b.peek('vm1')]).toEqual([false, true]);
    expect(t.removed.map((r) => [r.paths, r.permit.onlyOnHost, r.permit.carriedDisks])).toEqual([[[DISKS[0]], 'fake://a', [DISKS[0]]]]);
  });

  it('a running guest whose disks the destination does not see is not migrated: it keeps running where it is, with the reason', async () => {
    const t = setup(async () => { throw new Error('a live move carries nothing'); }, [DISKS[1]!]);
    await t.hv.a.define(t.xml);
    await t.hv.a.start('vm1');
    const { gate } = gateWithVm();
    await expect(moveDomain(req, t.hosts, gate, { moved: () => undefined })).rejects.toThrow(`vm1 is running and b does not see its disk files (${DISKS[1]}): a running guest moves live only where both hosts see them`);
    expect([t.hv.a.peek('vm1')?.state, t.hv.b.peek('vm1')]).toEqual(['running', undefined]);
  });

  it('stop, move the overlay, start: a running guest that may be stopped is shut down (powered off if it ignores that), carried and defined at the destination; said first', async () => {
    for (const ignores of [false, true]) {
      const t = setup(async (paths) => paths.map((path) => ({ path, copied: true, dataBytes: 1, holeBytes: 0 })), [DISKS[1]!]);
      await t.hv.a.define(t.xml);
      await t.hv.a.start('vm1');
      if (ignores) t.hv.a.ignoreShutdown.add('vm1');
      const said: string[][] = [];
      const { gate } = gateWithVm();
      expect(await moveDomain({ ...req, mayStop: true }, { ...t.hosts, stopTimeoutMs: 300 }, gate, { moved: () => undefined, stopping: (unseen) => said.push(unseen) })).toBe('cold');
      expect(said).toEqual([[DISKS[1]]]);
      expect([t.hv.a.peek('vm1'), t.hv.b.peek('vm1')?.state]).toEqual([undefined, 'shutoff']);
      expect(t.removed.map((r) => r.paths)).toEqual([DISKS]);
    }
  });

  it('no stopping without both the VM\'s leave (mayStop: its runStrategy starts it again) and a stop timeout', async () => {
    for (const [mayStop, stopTimeoutMs] of [[false, 300], [true, undefined]] as const) {
      const t = setup(async () => { throw new Error('nothing is carried'); }, [DISKS[1]!]);
      await t.hv.a.define(t.xml);
      await t.hv.a.start('vm1');
      const { gate } = gateWithVm();
      const hosts = stopTimeoutMs === undefined ? t.hosts : { ...t.hosts, stopTimeoutMs };
      await expect(moveDomain({ ...req, mayStop }, hosts, gate, { moved: () => undefined })).rejects.toThrow(/does not see its disk files/);
      expect(t.hv.a.peek('vm1')?.state).toBe('running');
    }
  });

  it('Kubernetes mode keeps the old definition for later: its files stay with it until removeOldDefinition is given them; a withheld removal removes no file', async () => {
    let carried: CarriedDisk[] = [];
    const t = setup(async (paths) => paths.map((path) => ({ path, copied: true, dataBytes: 1, holeBytes: 0 })));
    await t.hv.a.define(t.xml);
    const { gate, store } = gateWithVm();
    await moveDomain(req, t.hosts, gate, { moved: () => undefined, carried: (d) => { carried = d; } }, true);
    expect([!!t.hv.a.peek('vm1'), t.removed]).toEqual([true, []]);
    store.delete(KEY);
    await expect(removeOldDefinition(req, t.hosts, gate, copiedPaths(carried))).rejects.toBeInstanceOf(MovedButKept);
    expect([!!t.hv.a.peek('vm1'), t.removed]).toEqual([true, []]);
    store.set(KEY, vmNamed('vm1'));
    await removeOldDefinition(req, t.hosts, gate, copiedPaths(carried));
    expect([!!t.hv.a.peek('vm1'), t.removed.map((r) => r.paths)]).toEqual([false, [DISKS]]);
  });
});
