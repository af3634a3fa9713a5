// The step runner (src/reconcilers/virtual-machine/steps/run.ts): order, stopping, owned
// conditions, a claimed printableStatus, spec errors and failures, and the whole list end to end.
import { describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/meta.js';
import { TerminalError } from '../../src/core/result.js';
import { VM_STEPS } from '../../src/reconcilers/virtual-machine/steps/index.js';
import type { VmStep } from '../../src/reconcilers/virtual-machine/steps/step.js';
import { planVirtualMachine } from '../../src/reconcilers/virtual-machine/plan.js';
import { stepHarness, vmNamed } from '../helpers/vm-steps.js';

function recorder() {
  const ran: string[] = [];
  const step = (name: string, body: VmStep['run'] = () => undefined, extra: Partial<VmStep> = {}): VmStep => ({
    name, ...extra, run: (ctx, deps) => { ran.push(name); return body(ctx, deps); },
  });
  return { ran, step };
}

describe('step runner', () => {
  it('runs the steps in order; a stop ends the reconcile there, status is still written, the soonest requeue wins', async () => {
    const h = stepHarness();
    const { ran, step } = recorder();
    const out = await h.run([
      step('a', (ctx) => ctx.requeueAfter(5_000)),
      step('b', (ctx) => { ctx.status.pending = true; return { stop: true, requeueAfterMs: 30_000 }; }),
      step('c'),
    ], vmNamed('st-order'));
    expect(ran).toEqual(['a', 'b']);
    expect(out.result).toEqual({ requeueAfterMs: 5_000 });
    expect(out.status?.printableStatus).toBe('Pending');
  });

  it('a step owns its conditions: set when it says so, removed when it ran and did not, kept when it was not reached', async () => {
    const h = stepHarness();
    const cond = (type: string) => ({ type, status: 'False' as const, reason: 'Dry', message: 'no address left' });
    let say = true;
    let stopFirst = false;
    const steps: VmStep[] = [
      { name: 'gate', run: () => (stopFirst ? { stop: true } : undefined) },
      { name: 'ip', conditions: ['IPAllocated'], run: (ctx) => { if (say) ctx.setCondition(cond('IPAllocated')); } },
    ];
    const vm = vmNamed('st-cond');
    let out = await h.run(steps, vm);
    expect(findCondition(out.status!.conditions, 'IPAllocated')).toMatchObject({ status: 'False', reason: 'Dry', observedGeneration: 1 });
    stopFirst = true;
    say = false;
    out = await h.run(steps, vm);
    expect(findCondition(out.status!.conditions, 'IPAllocated'), 'not reached: kept').toBeDefined();
    stopFirst = false;
    out = await h.run(steps, vm);
    expect(findCondition(out.status!.conditions, 'IPAllocated'), 'ran without it: removed').toBeUndefined();
  });

  it('a claimed printableStatus shows, with Ready False and the claim\'s reason', async () => {
    const h = stepHarness();
    const out = await h.run([{ name: 'lease', run: (ctx) => ctx.claimPrintableStatus('Stopped', 'LeaseExpired', 'the lease ended at noon') }], vmNamed('st-claim'));
    expect(out.status?.printableStatus).toBe('Stopped');
    expect(findCondition(out.status!.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'LeaseExpired', message: 'the lease ended at noon' });
  });

  it('a TerminalError ends the reconcile without a retry: Failed with its reason, said once as a Warning event', async () => {
    const h = stepHarness();
    const { ran, step } = recorder();
    const steps = [step('check', () => { throw new TerminalError('PoolUnknown', 'no IPPool named lab'); }), step('after')];
    const out = await h.run(steps, vmNamed('st-term'));
    expect(out.result).toEqual({});
    expect(ran).toEqual(['check']);
    expect(out.status?.printableStatus).toBe('Failed');
    expect(findCondition(out.status!.conditions, 'Ready')).toMatchObject({ reason: 'PoolUnknown', message: 'no IPPool named lab' });
    await h.run(steps, vmNamed('st-term'));
    expect(h.events.events.filter((e) => e.reason === 'PoolUnknown')).toHaveLength(1);
  });

  it('a failed action: later steps still run, status says ReconcileError, the error is thrown for a retry, afterStatus is skipped', async () => {
    const h = stepHarness();
    const after: string[] = [];
    const { ran, step } = recorder();
    const out = await h.run([
      step('power', (ctx) => { ctx.failure = new Error('start failed'); }, { afterStatus: () => after.push('power') }),
      step('port'),
    ], vmNamed('st-fail'));
    expect(ran).toEqual(['power', 'port']);
    expect((out.error as Error).message).toBe('start failed');
    expect(findCondition(out.status!.conditions, 'Ready')).toMatchObject({ reason: 'ReconcileError', message: 'start failed' });
    expect(after).toEqual([]);
  });

  it('a pooled address goes into status.allocations.ip', async () => {
    const h = stepHarness();
    const out = await h.run([{ name: 'ip', run: (ctx) => { ctx.ip = '10.41.0.7'; } }], vmNamed('st-ip'));
    expect(out.status?.allocations.ip).toBe('10.41.0.7');
  });

  it('the whole list defines and starts a new VM, and a second reconcile changes nothing', async () => {
    const h = stepHarness();
    const vm = vmNamed('st-all');
    let out = await h.run(VM_STEPS, vm);
    expect(out.error).toBeUndefined();
    expect((await h.hv.getDomain('st-all'))?.state).toBe('running');
    expect(out.status).toMatchObject({ printableStatus: 'Running', startedOnce: true });
    expect(out.status?.allocations.mac).toMatch(/^52:54:00:/);
    const before = JSON.stringify(out.status);
    out = await h.run(VM_STEPS, vm);
    expect(JSON.stringify(out.status)).toBe(before);
  });
});

describe('plan: fields a later step applies live', () => {
  const facts = { memoryKiB: 262144, vcpus: 1, diskPaths: [], nics: [] };
  const grown = { ...facts, memoryKiB: 524288 };
  const observed = { state: 'running' as const, persistent: grown, live: facts, owner: { uid: 'u', namespace: 'default', name: 'x', generation: 2, specHash: 'h', mac: 'm', controller: 'c' } };
  const desired = { facts: grown, specHash: 'h', generation: 2, controller: 'c' };
  const base = { desired, observed, startedOnce: true, nowMs: 0, shutdownTimeoutMs: 30_000 };
  it.each([
    ['Always', undefined, ['shutdown'], []],
    ['Always', ['memory'], [], []],
    ['Manual', undefined, [], ['memory']],
    ['Manual', ['memory'], [], []],
  ] as const)('runStrategy %s, applied live %j: actions %j, RestartRequired %j', (runStrategy, appliedLive, actions, restartRequired) => {
    const plan = planVirtualMachine({ ...base, runStrategy, ...(appliedLive ? { appliedLive } : {}) });
    expect(plan.actions.map((a) => a.type)).toEqual(actions);
    expect(plan.restartRequired).toEqual(restartRequired);
  });
});
