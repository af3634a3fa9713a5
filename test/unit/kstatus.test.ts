// Issue 8 (11): Flux and Argo CD judge custom resources by kstatus; a crash-looping VM had no
// Stalled and a starting one no Reconciling, so both counted as healthy ("Current").
import { describe, expect, it } from 'vitest';
import { setKstatusConditions } from '../../src/api/kstatus.js';
import type { Condition } from '../../src/api/meta.js';
import type { DomainState } from '../../src/ports/hypervisor.js';
import { computeStatus, CRASH_LOOP_THRESHOLD, type StatusInput } from '../../src/reconcilers/virtual-machine/status.js';
import { progressOfClient } from '../../src/reconcilers/wimax-client/reconciler.js';

const NOW = '2025-06-01T12:00:00Z';

/**
 * sigs.k8s.io/cli-utils/pkg/kstatus/status checkGenericProperties, for a custom resource:
 * deletion, then observedGeneration, then the first True Reconciling or Stalled condition.
 */
function kstatus(obj: { generation: number; deleting?: boolean; status: { observedGeneration?: number; conditions: Condition[] } }): { status: string; reason?: string } {
  if (obj.deleting) return { status: 'Terminating' };
  if (obj.status.observedGeneration !== undefined && obj.status.observedGeneration !== obj.generation) return { status: 'InProgress', reason: 'LatestGenerationNotObserved' };
  for (const c of obj.status.conditions) {
    if (c.type === 'Reconciling' && c.status === 'True') return { status: 'InProgress', reason: c.reason };
    if (c.type === 'Stalled' && c.status === 'True') return { status: 'Failed', reason: c.reason };
  }
  return { status: 'Current' };
}

function input(over: Partial<StatusInput> & { state?: DomainState } = {}): StatusInput {
  const { state, ...rest } = over;
  return {
    generation: 4, runStrategy: 'Always', allocations: {}, startedOnce: false, restarts: 0, startFailures: 0, restartRequired: [], now: NOW,
    ...(state ? { domain: { name: 'vm30', uuid: 'u', state } } : {}),
    ...rest,
  };
}

describe('VirtualMachine status through kstatus', () => {
  it.each<[string, Partial<StatusInput> & { state?: DomainState }, string, string | undefined]>([
    ['no domain yet (Provisioning)', {}, 'InProgress', 'Provisioning'],
    ['defined, about to start (Starting)', { state: 'shutoff' }, 'InProgress', 'Starting'],
    ['shutting down for Halted (Stopping)', { state: 'running', runStrategy: 'Halted', stopping: { intent: 'halt', sinceMs: 0 } }, 'InProgress', 'Stopping'],
    ['being deleted (Terminating)', { state: 'running', stopping: { intent: 'delete', sinceMs: 0 } }, 'InProgress', 'Terminating'],
    ['waiting for a VLAN (Pending)', { pending: true }, 'InProgress', 'Pending'],
    ['a start failed once: retried', { state: 'shutoff', startFailures: 1, error: { reason: 'ReconcileError', message: 'qemu died', terminal: false } }, 'InProgress', 'ReconcileError'],
    ['CrashLoopBackOff', { state: 'shutoff', startFailures: CRASH_LOOP_THRESHOLD, error: { reason: 'ReconcileError', message: 'qemu died', terminal: false } }, 'Failed', 'CrashLoopBackOff'],
    ['a terminal error (bad spec)', { error: { reason: 'InvalidMemory', message: 'memory "0"', terminal: true } }, 'Failed', 'InvalidMemory'],
    ['no VLAN to be had', { pending: true, vlanProblem: { reason: 'VLANConflict', message: 'VLAN 5 is taken' } }, 'Failed', 'VLANConflict'],
    ['running, as Always asks', { state: 'running' }, 'Current', undefined],
    ['stopped, as Halted asks', { state: 'shutoff', runStrategy: 'Halted' }, 'Current', undefined],
  ])('%s → %s', (_label, over, expected, reason) => {
    const s = computeStatus(input(over));
    const deleting = over.stopping?.intent === 'delete';
    expect(kstatus({ generation: 4, status: s })).toEqual({ status: expected, ...(reason ? { reason } : {}) });
    // Never both: kstatus would read whichever comes first.
    expect(s.conditions.filter((c) => (c.type === 'Reconciling' || c.type === 'Stalled') && c.status === 'True').length).toBe(expected === 'Current' ? 0 : 1);
    expect(s.observedGeneration).toBe(4);
    if (deleting) expect(kstatus({ generation: 4, deleting, status: s }).status).toBe('Terminating');
  });

  it('Reconciling and Stalled go away when the guest converges', () => {
    const crashing = computeStatus(input({ state: 'shutoff', startFailures: CRASH_LOOP_THRESHOLD, error: { reason: 'ReconcileError', message: 'x', terminal: false } }));
    const running = computeStatus(input({ state: 'running', previous: crashing }));
    expect(running.conditions.map((c) => c.type)).toEqual(['Ready']);
    expect(kstatus({ generation: 4, status: running })).toEqual({ status: 'Current' });
  });
});

describe('setKstatusConditions', () => {
  it.each([
    [{ state: 'done' } as const, []],
    [{ state: 'reconciling', why: { reason: 'Starting', message: 'm' } } as const, ['Reconciling']],
    [{ state: 'stalled', why: { reason: 'DuplicateMAC', message: 'm' } } as const, ['Stalled']],
  ])('%o sets exactly %o', (progress, types) => {
    const before: Condition[] = [
      { type: 'Ready', status: 'False', reason: 'x', message: '', observedGeneration: 1, lastTransitionTime: NOW },
      { type: 'Reconciling', status: 'True', reason: 'old', message: '', observedGeneration: 1, lastTransitionTime: NOW },
      { type: 'Stalled', status: 'True', reason: 'old', message: '', observedGeneration: 1, lastTransitionTime: NOW },
    ];
    const after = setKstatusConditions(before, progress, 2, NOW);
    expect(after.filter((c) => c.type !== 'Ready').map((c) => c.type)).toEqual(types);
    for (const c of after.filter((c) => c.type !== 'Ready')) expect(c).toMatchObject({ status: 'True', observedGeneration: 2 });
  });
});

describe('WimaxClient progress', () => {
  it.each([
    ['DuplicateMAC', 'stalled'], ['NoDatapath', 'stalled'], ['InvalidShaping', 'stalled'],
    ['VMNotFound', 'reconciling'], ['VMHasNoVLAN', 'reconciling'], ['VMNotRunning', 'reconciling'],
  ])('%s → %s', (reason, state) => {
    expect(progressOfClient({ reason, message: 'm' })).toEqual({ state, why: { reason, message: 'm' } });
  });
});
