// The lease step within the whole list of steps, over the fakes (test/helpers/vm-steps.ts), the
// clock moved by hand: start, warning, expiry with Stop, Save and Delete, renewal by annotation
// and by edit, removal of the lease, an invalid lease, and what survives a lost status.
import { describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/meta.js';
import type { VirtualMachine } from '../../src/api/virtual-machine.js';
import { parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { STOP_POLL_MS } from '../../src/reconcilers/virtual-machine/plan.js';
import { VM_STEPS } from '../../src/reconcilers/virtual-machine/steps/index.js';
import { STEP_T0, stepHarness, vmNamed } from '../helpers/vm-steps.js';

const S = 1000, M = 60 * S, H = 60 * M;
const iso = (ms: number) => new Date(ms).toISOString();
const KEY = (name: string) => `VirtualMachine/default/${name}`;

function leased(name: string, lease: VirtualMachine['spec']['lease'], annotations?: Record<string, string>, generation = 1): VirtualMachine {
  const vm = vmNamed(name, { ...(lease ? { lease } : {}) }, generation);
  if (annotations) vm.metadata.annotations = annotations;
  return vm;
}

/** Runs the whole list until nothing is left to wait on but the lease (a stop finished). */
async function converge(h: ReturnType<typeof stepHarness>, vm: VirtualMachine) {
  let out = await h.run(VM_STEPS, vm);
  // A stop in progress asks for another look within STOP_POLL_MS.
  for (let i = 0; i < 10 && (out.result?.requeueAfterMs ?? Infinity) <= STOP_POLL_MS; i++) out = await h.run(VM_STEPS, vm);
  return out;
}

async function metadataLease(h: ReturnType<typeof stepHarness>, name: string) {
  const d = await h.hv.getDomain(name);
  return d && parseDomainXml(d.persistentXml).owner?.lease;
}

describe('the lease step', () => {
  it('starts the lease at the first reconcile: status, domain metadata, condition, one event, a wake-up capped at an hour', async () => {
    const h = stepHarness();
    const out = await h.run(VM_STEPS, leased('ls-start', { duration: '2h' }));
    expect(out.status).toMatchObject({ printableStatus: 'Running', expiresAt: iso(STEP_T0 + 2 * H), lease: { startedAt: iso(STEP_T0) } });
    expect(findCondition(out.status!.conditions, 'Lease')).toMatchObject({ status: 'True', reason: 'Active' });
    expect(await metadataLease(h, 'ls-start')).toEqual({ startedAt: iso(STEP_T0), expiresAt: iso(STEP_T0 + 2 * H) });
    expect(h.events.reasons()).toContain('LeaseStarted');
    expect(out.result).toEqual({ requeueAfterMs: H });
  });

  it('warns once at the warning time, then stops the guest at expiry and keeps it stopped, Expired', async () => {
    const h = stepHarness();
    const vm = leased('ls-stop', { duration: '2h' });
    await h.run(VM_STEPS, vm);
    h.advance(108 * M); // 12 min left: the warning time of a 2h lease
    let out = await h.run(VM_STEPS, vm);
    expect(findCondition(out.status!.conditions, 'Lease')).toMatchObject({ status: 'True', reason: 'Expiring' });
    expect(out.result).toEqual({ requeueAfterMs: 12 * M });
    h.advance(M);
    await h.run(VM_STEPS, vm);
    expect(h.events.reasons().filter((r) => r === 'LeaseExpiring')).toHaveLength(1);
    h.advance(11 * M);
    out = await converge(h, vm);
    expect((await h.hv.getDomain('ls-stop'))?.state).toBe('shutoff');
    expect(h.hv.calls.filter((c) => c.op === 'shutdown')).toHaveLength(1); // gracefully, as Halted does
    expect(out.status?.printableStatus).toBe('Expired');
    expect(findCondition(out.status!.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'LeaseExpired' });
    expect(findCondition(out.status!.conditions, 'Lease')).toMatchObject({ status: 'False', reason: 'Expired' });
    h.advance(H);
    out = await converge(h, vm);
    expect((await h.hv.getDomain('ls-stop'))?.state).toBe('shutoff');
    expect(h.hv.calls.filter((c) => c.op === 'start')).toHaveLength(1);
    expect(h.events.reasons().filter((r) => r === 'LeaseExpired')).toHaveLength(1);
    expect(out.result).toEqual({}); // nothing to wake for until renewed
  });

  it('a lost status does not revive an expired lease: the domain metadata remembers it', async () => {
    const h = stepHarness();
    const vm = leased('ls-lost', { duration: '1h' });
    await h.run(VM_STEPS, vm);
    h.advance(2 * H);
    await converge(h, vm);
    expect((await h.hv.getDomain('ls-lost'))?.state).toBe('shutoff');
    await h.statuses.remove(KEY('ls-lost'));
    const out = await converge(h, vm);
    expect(out.status).toMatchObject({ printableStatus: 'Expired', expiresAt: iso(STEP_T0 + H) });
    expect((await h.hv.getDomain('ls-lost'))?.state).toBe('shutoff');
    expect(h.hv.calls.filter((c) => c.op === 'start')).toHaveLength(1);
  });

  it('renewal by annotation brings it back as declared, from when it is seen; the same value does not renew twice', async () => {
    const h = stepHarness();
    const vm = leased('ls-renew', { duration: '1h' });
    await h.run(VM_STEPS, vm);
    h.advance(2 * H);
    await converge(h, vm);
    const renewed = leased('ls-renew', { duration: '1h' }, { 'wimaxvm.io/renewedAt': '2020-01-01T00:00:00Z' });
    let out = await h.run(VM_STEPS, renewed);
    expect(out.status).toMatchObject({ printableStatus: 'Running', expiresAt: iso(STEP_T0 + 3 * H), lease: { renewedAt: '2020-01-01T00:00:00Z' } });
    expect((await metadataLease(h, 'ls-renew'))?.renewedAt).toBe('2020-01-01T00:00:00Z');
    expect(h.events.reasons()).toContain('LeaseRenewed');
    h.advance(10 * M);
    out = await h.run(VM_STEPS, renewed);
    expect(out.status?.expiresAt).toBe(iso(STEP_T0 + 3 * H));
  });

  it('an edited duration counts from when the edit is seen; removing the lease lifts it', async () => {
    const h = stepHarness();
    await h.run(VM_STEPS, leased('ls-edit', { duration: '1h' }));
    h.advance(2 * H);
    await converge(h, leased('ls-edit', { duration: '1h' }));
    let out = await h.run(VM_STEPS, leased('ls-edit', { duration: '3h' }, undefined, 2));
    expect(out.status).toMatchObject({ printableStatus: 'Running', expiresAt: iso(STEP_T0 + 5 * H) });
    out = await h.run(VM_STEPS, leased('ls-edit', { duration: '180m' }, undefined, 3));
    expect(out.status?.expiresAt, 'the same span written differently').toBe(iso(STEP_T0 + 5 * H));
    out = await h.run(VM_STEPS, leased('ls-edit', undefined, undefined, 4));
    expect(out.status?.expiresAt).toBeUndefined();
    expect(out.status?.lease).toBeUndefined();
    expect(findCondition(out.status!.conditions, 'Lease')).toBeUndefined();
    expect(await metadataLease(h, 'ls-edit')).toBeUndefined();
  });

  it('Save: the running guest is saved to disk (powerState Saved), whatever its runStrategy', async () => {
    const h = stepHarness();
    const vm = leased('ls-save', { duration: '1h', onExpiry: 'Save' });
    vm.spec.runStrategy = 'Manual';
    await h.run(VM_STEPS, vm);
    await h.hv.start('ls-save');
    h.advance(2 * H);
    const out = await h.run(VM_STEPS, vm);
    expect(out.ctx.power).toEqual({ runStrategy: 'Always', powerState: 'Saved', overriddenBy: 'lease' });
    expect(out.status?.printableStatus).toBe('Expired');
  });

  it('Save: a managed save at expiry, the guest stays saved, and a renewal restores it', async () => {
    const h = stepHarness();
    const vm = leased('ls-saved', { duration: '1h', onExpiry: 'Save' });
    await h.run(VM_STEPS, vm);
    h.advance(2 * H);
    let out = await converge(h, vm);
    expect(h.hv.calls.filter((c) => c.op === 'managedSave')).toHaveLength(1);
    expect(await h.hv.hasManagedSave('ls-saved')).toBe(true);
    expect(out.status?.printableStatus).toBe('Expired');
    out = await converge(h, vm);
    expect((await h.hv.getDomain('ls-saved'))?.state).toBe('shutoff');
    out = await converge(h, leased('ls-saved', { duration: '1h', onExpiry: 'Save' }, { 'wimaxvm.io/renewedAt': 'r1' }));
    expect((await h.hv.getDomain('ls-saved'))?.state).toBe('running');
    expect(out.status?.printableStatus).toBe('Running');
  });

  it('Delete: the domain and its overlays go with the gate\'s lease permit, the declaration stays, nothing is defined again until renewed', async () => {
    const h = stepHarness();
    const vm = leased('ls-del', { duration: '1h', onExpiry: 'Delete' });
    vm.spec.disks = [{ image: 'base.qcow2' }];
    (h.deps.disks as unknown as { images: Set<string> }).images.add('base.qcow2');
    await h.run(VM_STEPS, vm);
    expect(await h.hv.getDomain('ls-del')).toBeDefined();
    h.advance(2 * H);
    let out = await converge(h, vm);
    expect(await h.hv.getDomain('ls-del')).toBeUndefined();
    expect(h.hv.calls.map((c) => c.op)).toContain('shutdown');
    expect([...(h.deps.disks as unknown as { overlays: Set<string> }).overlays]).toEqual([]);
    expect(out.status).toMatchObject({ printableStatus: 'Expired', expiresAt: iso(STEP_T0 + H) });
    expect(out.status?.domain).toBeUndefined();
    expect(h.store.get(KEY('ls-del'))).toBeDefined();
    expect(h.events.reasons()).toContain('Deleted');
    out = await converge(h, vm);
    expect(await h.hv.getDomain('ls-del'), 'not defined again while expired').toBeUndefined();
    out = await h.run(VM_STEPS, leased('ls-del', { duration: '1h', onExpiry: 'Delete' }, { 'wimaxvm.io/renewedAt': 'again' }));
    expect((await h.hv.getDomain('ls-del'))?.state).toBe('running');
  });

  it('an invalid duration (past a schema) never stops the guest: the Lease condition says why', async () => {
    const h = stepHarness();
    const vm = leased('ls-bad', { duration: '2 hours' });
    h.advance(10 * H);
    const out = await h.run(VM_STEPS, vm);
    expect(out.status?.printableStatus).toBe('Running');
    expect(findCondition(out.status!.conditions, 'Lease')).toMatchObject({ status: 'False', reason: 'InvalidLease' });
  });

  it('a spec error after expiry keeps the lease in status (a reconcile that stops early forgets nothing)', async () => {
    const h = stepHarness();
    await h.run(VM_STEPS, leased('ls-keep', { duration: '1h' }));
    const broken = leased('ls-keep', { duration: '1h' }, undefined, 2);
    broken.spec.memory = '2Ti';
    const out = await h.run(VM_STEPS, broken);
    expect(out.status?.printableStatus).toBe('Failed');
    expect(out.status?.expiresAt).toBe(iso(STEP_T0 + H));
  });
});
