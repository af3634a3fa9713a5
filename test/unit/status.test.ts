import { describe, expect, it } from 'vitest';
import type { Condition } from '../../src/api/meta.js';
import type { PrintableStatus, RunStrategy, VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import type { DomainState } from '../../src/ports/hypervisor.js';
import { computeStatus, CRASH_LOOP_THRESHOLD, type StatusInput } from '../../src/reconcilers/virtual-machine/status.js';
import { describeStopWait } from '../../src/reconcilers/virtual-machine/stop-wait.js';

const OLD = '2024-01-01T00:00:00Z';
const NOW = '2025-06-01T12:00:00Z';

function input(over: Partial<StatusInput> & { state?: DomainState } = {}): StatusInput {
  const { state, ...rest } = over;
  return {
    generation: 4,
    runStrategy: 'Always',
    ...(state ? { domain: { name: 'vm30', uuid: 'uuid-30', state } } : {}),
    allocations: { mac: '52:54:00:00:00:1e' },
    startedOnce: false,
    restarts: 0,
    startFailures: 0,
    restartRequired: [],
    now: NOW,
    ...rest,
  };
}

const cond = (s: VirtualMachineStatus, type: string) => s.conditions.find((c) => c.type === type);

describe('printableStatus', () => {
  it.each<[string, Partial<StatusInput> & { state?: DomainState }, PrintableStatus]>([
    ['no domain yet', {}, 'Provisioning'],
    ['shutoff, Always wants it running', { state: 'shutoff' }, 'Starting'],
    ['shutoff, Once not started yet', { state: 'shutoff', runStrategy: 'Once' }, 'Starting'],
    ['shutoff, Once already started', { state: 'shutoff', runStrategy: 'Once', startedOnce: true }, 'Stopped'],
    ['shutoff, Halted', { state: 'shutoff', runStrategy: 'Halted' }, 'Stopped'],
    ['shutoff, Manual', { state: 'shutoff', runStrategy: 'Manual' }, 'Stopped'],
    ['shutoff, RerunOnFailure completed', { state: 'shutoff', runStrategy: 'RerunOnFailure', startedOnce: true }, 'Stopped'],
    ['running', { state: 'running' }, 'Running'],
    ['blocked', { state: 'blocked' }, 'Running'],
    ['paused', { state: 'paused' }, 'Paused'],
    ['pmsuspended', { state: 'pmsuspended' }, 'Paused'],
    ['guest shutting down', { state: 'shutdown' }, 'Stopping'],
    ['crashed', { state: 'crashed' }, 'Failed'],
    ['nostate', { state: 'nostate' }, 'Unknown'],
    ['running, our halt pending', { state: 'running', runStrategy: 'Halted', stopping: { intent: 'halt', sinceMs: 1 } }, 'Stopping'],
    ['running, our restart pending', { state: 'running', stopping: { intent: 'restart', sinceMs: 1 } }, 'Stopping'],
    ['running, deletion pending', { state: 'running', stopping: { intent: 'delete', sinceMs: 1 } }, 'Terminating'],
    ['deletion beats a terminal error', { state: 'running', stopping: { intent: 'delete', sinceMs: 1 }, error: { reason: 'X', message: 'x', terminal: true } }, 'Terminating'],
    ['terminal error', { state: 'running', error: { reason: 'ImageMissing', message: 'no image', terminal: true } }, 'Failed'],
    ['terminal error, no domain', { error: { reason: 'ImageMissing', message: 'no image', terminal: true } }, 'Failed'],
    ['retryable error keeps the state', { state: 'running', error: { reason: 'Busy', message: 'busy', terminal: false } }, 'Running'],
    ['start failures below threshold', { state: 'shutoff', startFailures: CRASH_LOOP_THRESHOLD - 1 }, 'Starting'],
    ['start failures at threshold', { state: 'shutoff', startFailures: CRASH_LOOP_THRESHOLD }, 'CrashLoopBackOff'],
    ['start failures above threshold', { state: 'shutoff', startFailures: CRASH_LOOP_THRESHOLD + 5 }, 'CrashLoopBackOff'],
  ])('%s → %s', (_label, over, expected) => {
    expect(computeStatus(input(over)).printableStatus).toBe(expected);
  });

  it('the crash loop threshold is 3, as in KubeVirt', () => {
    expect(CRASH_LOOP_THRESHOLD).toBe(3);
  });
});

describe('Ready', () => {
  it.each<[string, RunStrategy, DomainState | undefined, boolean, 'True' | 'False', string, string]>([
    ['Always running', 'Always', 'running', false, 'True', 'Running', 'the guest is running, as runStrategy Always asks'],
    ['Always shutoff', 'Always', 'shutoff', false, 'False', 'Starting', 'the guest is starting; runStrategy Always wants it running'],
    ['Always paused', 'Always', 'paused', false, 'False', 'Paused', 'the guest is paused; runStrategy Always wants it running'],
    ['Always provisioning', 'Always', undefined, false, 'False', 'Provisioning', 'the guest is provisioning; runStrategy Always wants it running'],
    ['Halted shutoff', 'Halted', 'shutoff', false, 'True', 'Stopped', 'the guest is stopped, as runStrategy Halted asks'],
    ['Halted running', 'Halted', 'running', false, 'False', 'Running', 'the guest is running; runStrategy Halted wants it stopped'],
    ['Manual running', 'Manual', 'running', false, 'True', 'Running', 'the guest is running, as runStrategy Manual asks'],
    ['Manual shutoff', 'Manual', 'shutoff', false, 'True', 'Stopped', 'the guest is stopped, as runStrategy Manual asks'],
    ['Once completed', 'Once', 'shutoff', true, 'True', 'Stopped', 'the guest is stopped, as runStrategy Once asks'],
    ['RerunOnFailure completed', 'RerunOnFailure', 'shutoff', true, 'True', 'Stopped', 'the guest is stopped, as runStrategy RerunOnFailure asks'],
    ['RerunOnFailure crashed', 'RerunOnFailure', 'crashed', true, 'False', 'Failed', 'the guest is failed; runStrategy RerunOnFailure wants it running'],
  ])('%s', (_label, runStrategy, state, startedOnce, status, reason, message) => {
    const ready = cond(computeStatus(input({ runStrategy, ...(state ? { state } : {}), startedOnce })), 'Ready');
    expect(ready).toEqual({ type: 'Ready', status, reason, message, observedGeneration: 4, lastTransitionTime: NOW });
  });

  it.each([[true], [false]])('is False with the error reason on an error (terminal=%s)', (terminal) => {
    const ready = cond(computeStatus(input({ state: 'running', error: { reason: 'DefineFailed', message: 'libvirt said no', terminal } })), 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'DefineFailed', message: 'libvirt said no' });
  });

  // A running guest without the slice its spec asks for has not reached the desired state.
  it.each(['VLANConflict', 'VLANRangeExhausted'])('is False on a VLAN problem (%s), even with the guest running', (reason) => {
    const status = computeStatus(input({ state: 'running', vlanProblem: { reason, message: 'VLAN 5 is held by default/a' } }));
    expect(status.printableStatus).toBe('Running');
    expect(cond(status, 'Ready')).toMatchObject({ status: 'False', reason, message: 'VLAN 5 is held by default/a' });
    expect(cond(status, 'VLANAssigned')).toMatchObject({ status: 'False', reason });
  });

  // Manual asks for neither running nor stopped ("keep"), so the message must not claim it does.
  it('does not say Manual wants a paused guest stopped', () => {
    const ready = cond(computeStatus(input({ runStrategy: 'Manual', state: 'paused' })), 'Ready')!;
    expect(ready.status).toBe('False');
    expect(ready.message).not.toMatch(/wants it stopped/);
  });
});

describe('Stalled', () => {
  it.each<[string, StatusInput['error'], boolean]>([
    ['terminal error', { reason: 'ImageMissing', message: 'image a.qcow2 not found', terminal: true }, true],
    ['retryable error', { reason: 'HypervisorUnavailable', message: 'gone', terminal: false }, false],
    ['no error', undefined, false],
  ])('%s → present=%s', (_label, error, present) => {
    const s = computeStatus(input({ state: 'shutoff', ...(error ? { error } : {}) }));
    if (present) {
      expect(cond(s, 'Stalled')).toEqual({
        type: 'Stalled', status: 'True', reason: 'ImageMissing', message: 'image a.qcow2 not found', observedGeneration: 4, lastTransitionTime: NOW,
      });
    } else {
      expect(cond(s, 'Stalled')).toBeUndefined();
    }
  });

  it('disappears once the error is gone', () => {
    const first = computeStatus(input({ error: { reason: 'ImageMissing', message: 'x', terminal: true } }));
    expect(cond(first, 'Stalled')).toBeDefined();
    const second = computeStatus(input({ state: 'running', previous: first }));
    expect(cond(second, 'Stalled')).toBeUndefined();
  });
});

describe('RestartRequired and SourceValid', () => {
  it('RestartRequired lists the changed fields, then disappears', () => {
    const first = computeStatus(input({ runStrategy: 'Manual', state: 'running', restartRequired: ['memory', 'vcpus'] }));
    expect(cond(first, 'RestartRequired')).toEqual({
      type: 'RestartRequired', status: 'True', reason: 'SpecChangedWhileRunning', observedGeneration: 4, lastTransitionTime: NOW,
      message: 'memory, vcpus changed; runStrategy Manual leaves the restart to you',
    });
    const second = computeStatus(input({ runStrategy: 'Manual', state: 'running', previous: first }));
    expect(cond(second, 'RestartRequired')).toBeUndefined();
    expect(cond(second, 'Ready')).toBeDefined();
  });

  it('SourceValid is False while the source has a problem, then disappears', () => {
    const sourceProblem = { reason: 'InvalidManifest' as const, message: 'vm30.yaml:7: bad runStrategy' };
    const first = computeStatus(input({ state: 'running', sourceProblem }));
    expect(cond(first, 'SourceValid')).toEqual({
      type: 'SourceValid', status: 'False', reason: 'InvalidManifest', message: 'vm30.yaml:7: bad runStrategy', observedGeneration: 4, lastTransitionTime: NOW,
    });
    const second = computeStatus(input({ state: 'running', previous: first }));
    expect(cond(second, 'SourceValid')).toBeUndefined();
  });

  it('only Ready is present when nothing is wrong', () => {
    expect(computeStatus(input({ state: 'running' })).conditions.map((c) => c.type)).toEqual(['Ready']);
  });
});

describe('lastTransitionTime', () => {
  function previous(conditions: Condition[]): VirtualMachineStatus {
    return { printableStatus: 'Running', observedGeneration: 3, conditions, allocations: {} };
  }
  const readyTrue: Condition = { type: 'Ready', status: 'True', reason: 'Running', message: 'm', observedGeneration: 3, lastTransitionTime: OLD };
  const readyFalse: Condition = { ...readyTrue, status: 'False', reason: 'Starting' };

  it.each<[string, Condition, Partial<StatusInput> & { state?: DomainState }, string]>([
    ['True → True keeps the old time', readyTrue, { state: 'running' }, OLD],
    ['True → True with another reason keeps the old time', readyTrue, { state: 'shutoff', runStrategy: 'Halted' }, OLD],
    ['True → False moves it', readyTrue, { state: 'shutoff' }, NOW],
    ['False → True moves it', readyFalse, { state: 'running' }, NOW],
    ['False → False with another reason keeps the old time', readyFalse, { state: 'paused' }, OLD],
  ])('%s', (_label, prev, over, expected) => {
    const s = computeStatus(input({ ...over, previous: previous([prev]) }));
    expect(cond(s, 'Ready')!.lastTransitionTime).toBe(expected);
    expect(cond(s, 'Ready')!.observedGeneration).toBe(4);
  });

  it('a condition that stays True keeps its time while its message changes', () => {
    const prev = previous([readyTrue, { type: 'RestartRequired', status: 'True', reason: 'SpecChangedWhileRunning', message: 'memory changed', observedGeneration: 3, lastTransitionTime: OLD }]);
    const s = computeStatus(input({ runStrategy: 'Manual', state: 'running', restartRequired: ['vcpus'], previous: prev }));
    expect(cond(s, 'RestartRequired')).toMatchObject({ lastTransitionTime: OLD, message: 'vcpus changed; runStrategy Manual leaves the restart to you' });
  });

  it('does not change the previous status object', () => {
    const prev = previous([readyTrue]);
    const copy = structuredClone(prev);
    computeStatus(input({ state: 'shutoff', previous: prev, restartRequired: ['memory'] }));
    expect(prev).toEqual(copy);
  });
});

describe('other fields', () => {
  it('copies domain, allocations and counters', () => {
    const s = computeStatus(input({
      domain: { name: 'vm30', uuid: 'u', id: 7, state: 'running', vncPort: 5901 },
      startedOnce: true,
      restarts: 2,
    }));
    expect(s).toMatchObject({
      printableStatus: 'Running',
      observedGeneration: 4,
      allocations: { mac: '52:54:00:00:00:1e' },
      domain: { name: 'vm30', uuid: 'u', id: 7, state: 'running', vncPort: 5901 },
      startedOnce: true,
      restarts: 2,
    });
  });

  it('leaves out what is not there', () => {
    const s = computeStatus(input({ state: 'shutoff' }));
    expect(s.domain).toEqual({ name: 'vm30', uuid: 'uuid-30', state: 'shutoff' });
    expect('startedOnce' in s).toBe(false);
    expect('restarts' in s).toBe(false);
    expect('domain' in computeStatus(input())).toBe(false);
  });
});

describe('what a graceful stop waits for', () => {
  const since = Date.parse('2025-03-01T12:00:00.000Z');
  it.each<[string, Parameters<typeof describeStopWait>, ReturnType<typeof describeStopWait>]>([
    ['just asked', ['vm30', { intent: 'restart', sinceMs: since }, 'running', true, 30_000],
      { ignored: false, message: 'asked vm30 to shut down (ACPI); waiting up to 30s, will power off at 2025-03-01T12:00:30.000Z if it has not by then' }],
    ['not acted on', ['vm30', { intent: 'halt', sinceMs: since }, 'running', false, 30_000],
      { ignored: true, message: 'waiting up to 30s for vm30 to shut down (guest has not acted on ACPI shutdown); will power off at 2025-03-01T12:00:30.000Z' }],
    ['shutting down', ['vm30', { intent: 'delete', sinceMs: since }, 'shutdown', false, 1_500],
      { ignored: false, message: 'vm30 is shutting down; will power off at 2025-03-01T12:00:01.500Z if it has not by then' }],
    ['no stop', ['vm30', undefined, 'running', false, 30_000], undefined],
    ['a withdrawn halt forces nothing', ['vm30', { intent: 'withdrawn', sinceMs: since }, 'running', false, 30_000], undefined],
    ['down already', ['vm30', { intent: 'halt', sinceMs: since }, 'shutoff', false, 30_000], undefined],
  ])('%s', (_label, args, expected) => expect(describeStopWait(...args)).toEqual(expected));
});
