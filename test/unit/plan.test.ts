import { describe, expect, it } from 'vitest';
import type { RunStrategy } from '../../src/api/virtual-machine.js';
import type { DomainState } from '../../src/ports/hypervisor.js';
import type { DomainFacts, OwnerMetadata } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import {
  planVirtualMachine, STOP_POLL_MS,
  type Action, type DesiredDomain, type ObservedDomain, type PlanInput, type Stopping,
} from '../../src/reconcilers/virtual-machine/plan.js';

const MAC = '52:54:00:00:00:1e';
const FACTS: DomainFacts = { memoryKiB: 262144, vcpus: 1, diskPaths: ['/o/vm30-0.qcow2'], nics: [{ mac: MAC, type: 'user' }] };
const BIGGER: DomainFacts = { ...FACTS, memoryKiB: 524288 };
const OWNER: OwnerMetadata = { uid: 'u1', namespace: 'default', name: 'vm30', generation: 2, specHash: 'h2', mac: MAC, startedOnce: true };
const { startedOnce: _never, ...NEVER_STARTED } = OWNER;
const DESIRED: DesiredDomain = { facts: FACTS, specHash: 'h2', generation: 2 };
const NOW = 1_000_000;
const TIMEOUT = 30_000;

type Observed = DomainState | 'absent';

const ACTIVE = new Set<Observed>(['running', 'paused', 'crashed', 'shutdown', 'blocked', 'pmsuspended']);

/** A domain that matches DESIRED in every respect, in the given state. */
function observed(state: DomainState, extra: Partial<ObservedDomain> = {}): ObservedDomain {
  return { state, persistent: FACTS, ...(ACTIVE.has(state) ? { live: FACTS } : {}), owner: OWNER, ...extra };
}

function input(over: Partial<PlanInput> & { state?: Observed }): PlanInput {
  const { state = 'absent', ...rest } = over;
  return {
    runStrategy: 'Always',
    desired: DESIRED,
    ...(state === 'absent' ? {} : { observed: observed(state) }),
    startedOnce: false,
    nowMs: NOW,
    shutdownTimeoutMs: TIMEOUT,
    ...rest,
  };
}

const types = (actions: Action[]) => actions.map((a) => a.type);

describe('power table: runStrategy × observed state × startedOnce (no spec change)', () => {
  const S = 'stop-halt'; // marker: a graceful halt is begun
  // [strategy, startedOnce] → state → expected actions (plus S when a shutdown is now awaited).
  // The domain's metadata says whether it ran; a first start is written there first (define).
  const table: Record<string, Partial<Record<Observed, string[]>>> = {
    'Always/false': { absent: ['define', 'start'], shutoff: ['start'], running: [], paused: [], crashed: ['destroy', 'start'] },
    'Always/true': { absent: ['define', 'start'], shutoff: ['start'], running: [], paused: [], crashed: ['destroy', 'start'] },
    'RerunOnFailure/false': { absent: ['define', 'start'], shutoff: ['define', 'start'], running: [], paused: [], crashed: ['destroy', 'define', 'start'] },
    'RerunOnFailure/true': { absent: ['define'], shutoff: [], running: [], paused: [], crashed: ['destroy', 'start'] },
    'Manual/false': { absent: ['define'], shutoff: [], running: [], paused: [], crashed: [] },
    'Manual/true': { absent: ['define'], shutoff: [], running: [], paused: [], crashed: [] },
    'Halted/false': { absent: ['define'], shutoff: [], running: ['shutdown', S], paused: ['destroy'], crashed: ['destroy'] },
    'Halted/true': { absent: ['define'], shutoff: [], running: ['shutdown', S], paused: ['destroy'], crashed: ['destroy'] },
    'Once/false': { absent: ['define', 'start'], shutoff: ['define', 'start'], running: [], paused: [], crashed: ['destroy', 'define', 'start'] },
    'Once/true': { absent: ['define'], shutoff: [], running: [], paused: [], crashed: [] },
  };

  const rows = Object.entries(table).flatMap(([k, byState]) => {
    const [strategy, once] = k.split('/') as [RunStrategy, string];
    return Object.entries(byState).map(([state, expected]) => [strategy, state as Observed, once === 'true', expected!] as const);
  });

  it('covers 5 strategies × 5 states × 2', () => {
    expect(rows).toHaveLength(50);
  });

  it.each(rows)('%s, %s, startedOnce=%s → %j', (runStrategy, state, startedOnce, expected) => {
    const owner = startedOnce ? OWNER : NEVER_STARTED;
    const plan = planVirtualMachine(input({ runStrategy, startedOnce, ...(state === 'absent' ? {} : { observed: observed(state, { owner }) }) }));
    expect(types(plan.actions)).toEqual(expected.filter((a) => a !== S));
    const remembers = runStrategy === 'Once' || runStrategy === 'RerunOnFailure';
    expect(plan.recordsStart === true).toBe(remembers && expected.includes('start') && !(startedOnce && state !== 'absent'));
    if (expected.includes(S)) {
      expect(plan.stopping).toEqual({ intent: 'halt', sinceMs: NOW });
      expect(plan.requeueAfterMs).toBe(STOP_POLL_MS);
    } else {
      expect(plan.stopping).toBeUndefined();
      expect(plan.requeueAfterMs).toBeUndefined();
    }
    expect(plan.restartRequired).toEqual([]);
  });
});

describe('spec change on an active guest', () => {
  const changedLive = (state: DomainState, live: DomainFacts = BIGGER) => observed(state, { live });

  it.each<[RunStrategy, boolean]>([
    ['Always', true],
    ['Always', false],
    ['RerunOnFailure', false],
    // The controller started this guest itself (startedOnce), which is the usual case.
    ['RerunOnFailure', true],
  ])('%s (startedOnce=%s) restarts it: shutdown with intent restart', (runStrategy, startedOnce) => {
    const plan = planVirtualMachine(input({ runStrategy, startedOnce, observed: changedLive('running') }));
    expect(types(plan.actions)).toEqual(['shutdown']);
    expect(plan.stopping).toEqual({ intent: 'restart', sinceMs: NOW });
    expect(plan.requeueAfterMs).toBe(STOP_POLL_MS);
    expect(plan.restartRequired).toEqual([]);
  });

  it('redefines first when the persistent definition is stale too', () => {
    const plan = planVirtualMachine(input({ observed: observed('running', { persistent: BIGGER, live: BIGGER }) }));
    expect(types(plan.actions)).toEqual(['define', 'shutdown']);
    expect(plan.stopping?.intent).toBe('restart');
  });

  it('polls no later than the shutdown timeout', () => {
    const plan = planVirtualMachine(input({ shutdownTimeoutMs: 200, observed: changedLive('running') }));
    expect(plan.requeueAfterMs).toBe(200);
  });

  it.each<[RunStrategy, boolean, DomainFacts, string[]]>([
    ['Manual', false, BIGGER, ['memory']],
    ['Manual', true, { ...FACTS, vcpus: 4, diskPaths: [] }, ['vcpus', 'disks']],
    ['Once', true, BIGGER, ['memory']],
    ['Once', false, { ...FACTS, nics: [{ mac: MAC, type: 'bridge', source: 'br0' }] }, ['network']],
  ])('%s (startedOnce=%s) leaves the restart to the user', (runStrategy, startedOnce, live, changed) => {
    const plan = planVirtualMachine(input({ runStrategy, startedOnce, observed: changedLive('running', live) }));
    expect(plan.actions).toEqual([]);
    expect(plan.restartRequired).toEqual(changed);
    expect(plan.stopping).toBeUndefined();
    expect(plan.requeueAfterMs).toBeUndefined();
  });

  it('Manual still redefines the persistent definition', () => {
    const plan = planVirtualMachine(input({ runStrategy: 'Manual', observed: observed('running', { persistent: BIGGER, live: BIGGER }) }));
    expect(types(plan.actions)).toEqual(['define']);
    expect(plan.restartRequired).toEqual(['memory']);
  });

  it('an inactive guest has no restart to require', () => {
    const plan = planVirtualMachine(input({ runStrategy: 'Manual', observed: observed('shutoff', { live: BIGGER }) }));
    expect(plan.actions).toEqual([]);
    expect(plan.restartRequired).toEqual([]);
  });
});

describe('waiting on a graceful stop', () => {
  const since = NOW - 10_000;
  it.each<[string, RunStrategy, Stopping['intent'], DomainState, number, string[], number | undefined]>([
    ['just asked', 'Halted', 'halt', 'running', since + 100, [], STOP_POLL_MS],
    ['guest shutting down', 'Halted', 'halt', 'shutdown', since + 1_000, [], STOP_POLL_MS],
    ['close to the timeout', 'Halted', 'halt', 'running', since + TIMEOUT - 200, [], 200],
    ['one ms before the timeout', 'Always', 'restart', 'running', since + TIMEOUT - 1, [], 1],
    ['timed out, halt', 'Halted', 'halt', 'running', since + TIMEOUT, ['destroy'], undefined],
    ['long past, halt', 'Halted', 'halt', 'shutdown', since + 10 * TIMEOUT, ['destroy'], undefined],
    ['timed out, restart (Always)', 'Always', 'restart', 'running', since + TIMEOUT, ['destroy', 'start'], undefined],
    ['timed out, restart (RerunOnFailure)', 'RerunOnFailure', 'restart', 'running', since + TIMEOUT, ['destroy', 'start'], undefined],
  ])('%s', (_label, runStrategy, intent, state, nowMs, expected, requeue) => {
    const stopping: Stopping = { intent, sinceMs: since };
    const plan = planVirtualMachine(input({ runStrategy, state, startedOnce: true, stopping, nowMs }));
    expect(types(plan.actions)).toEqual(expected);
    expect(plan.requeueAfterMs).toBe(requeue);
    expect(plan.stopping).toEqual(requeue === undefined ? undefined : stopping);
  });

  it.each<[RunStrategy, Stopping['intent'], string[]]>([
    ['Always', 'restart', ['start']],
    ['RerunOnFailure', 'restart', ['start']],
    ['Halted', 'halt', []],
  ])('once stopped: %s with intent %s → %j', (runStrategy, intent, expected) => {
    const plan = planVirtualMachine(input({ runStrategy, state: 'shutoff', startedOnce: true, stopping: { intent, sinceMs: NOW - 1_000 } }));
    expect(types(plan.actions)).toEqual(expected);
    expect(plan.stopping).toBeUndefined();
    expect(plan.requeueAfterMs).toBeUndefined();
  });
});

describe('a halt withdrawn (stop, then start again before the guest went down)', () => {
  const since = NOW - 10_000;
  const withdrawn: Stopping = { intent: 'withdrawn', sinceMs: since };
  it.each<[string, RunStrategy, Stopping, DomainState, number, string[], Stopping | undefined]>([
    ['Always again while waiting: no power-off, keeps watching', 'Always', { intent: 'halt', sinceMs: since }, 'running', since + 100, [], withdrawn],
    ['RerunOnFailure again', 'RerunOnFailure', { intent: 'halt', sinceMs: since }, 'running', since + 100, [], withdrawn],
    ['past the timeout: never forced, nothing waited for any more', 'Always', { intent: 'halt', sinceMs: since }, 'running', since + TIMEOUT, [], undefined],
    ['withdrawn, past the timeout', 'Always', withdrawn, 'running', since + 10 * TIMEOUT, [], undefined],
    ['the guest acted on it and went down: started again', 'Always', withdrawn, 'shutoff', since + 1_000, ['start'], undefined],
    ['under RerunOnFailure too', 'RerunOnFailure', withdrawn, 'shutoff', since + 1_000, ['start'], undefined],
    ['going down: waits, then starts it', 'Always', withdrawn, 'shutdown', since + 1_000, [], withdrawn],
    ['Halted again: a halt again, forced at its timeout', 'Halted', withdrawn, 'running', since + TIMEOUT, ['destroy'], undefined],
    ['Halted again, before the timeout', 'Halted', withdrawn, 'running', since + 100, [], { intent: 'halt', sinceMs: since }],
    ['Manual meanwhile: never forced either', 'Manual', { intent: 'halt', sinceMs: since }, 'running', since + TIMEOUT, [], undefined],
    ['Manual, the guest went down: left down, as Manual leaves it to the user', 'Manual', withdrawn, 'shutoff', since + 1_000, [], undefined],
  ])('%s', (_label, runStrategy, stopping, state, nowMs, expected, after) => {
    const plan = planVirtualMachine(input({ runStrategy, state, startedOnce: true, stopping, nowMs }));
    expect(types(plan.actions)).toEqual(expected);
    expect(plan.stopping).toEqual(after);
  });
});

describe('deletion (no desired state)', () => {
  const since = NOW - 1_000;
  it.each<[string, Observed, Stopping | undefined, number, string[], Stopping | undefined]>([
    ['running: ask it to shut down', 'running', undefined, NOW, ['shutdown'], { intent: 'delete', sinceMs: NOW }],
    ['already shutting down: just wait', 'shutdown', undefined, NOW, [], { intent: 'delete', sinceMs: NOW }],
    ['running, waiting', 'running', { intent: 'delete', sinceMs: since }, NOW, [], { intent: 'delete', sinceMs: since }],
    ['running, timed out', 'running', { intent: 'delete', sinceMs: since }, since + TIMEOUT, ['destroy', 'undefine'], undefined],
    ['paused', 'paused', undefined, NOW, ['destroy', 'undefine'], undefined],
    ['crashed', 'crashed', undefined, NOW, ['destroy', 'undefine'], undefined],
    ['shutoff', 'shutoff', undefined, NOW, ['undefine'], undefined],
    ['shutoff after our shutdown', 'shutoff', { intent: 'delete', sinceMs: since }, NOW, ['undefine'], undefined],
    ['absent', 'absent', undefined, NOW, [], undefined],
  ])('%s', (_label, state, stopping, nowMs, expected, stillStopping) => {
    const plan = planVirtualMachine({
      startedOnce: true,
      nowMs,
      shutdownTimeoutMs: TIMEOUT,
      ...(state === 'absent' ? {} : { observed: observed(state) }),
      ...(stopping ? { stopping } : {}),
    });
    expect(types(plan.actions)).toEqual(expected);
    expect(plan.stopping).toEqual(stillStopping);
    expect(plan.requeueAfterMs).toBe(stillStopping ? STOP_POLL_MS : undefined);
    expect(plan.restartRequired).toEqual([]);
  });

  it('a runStrategy without desired facts is a deletion too', () => {
    const plan = planVirtualMachine({ runStrategy: 'Always', observed: observed('shutoff'), startedOnce: true, nowMs: NOW, shutdownTimeoutMs: TIMEOUT });
    expect(types(plan.actions)).toEqual(['undefine']);
  });
});

describe('needsDefine', () => {
  it.each<[string, Partial<ObservedDomain>, boolean]>([
    ['all equal', {}, false],
    ['persistent memory differs', { persistent: BIGGER }, true],
    ['persistent disks differ', { persistent: { ...FACTS, diskPaths: [] } }, true],
    ['persistent nic differs', { persistent: { ...FACTS, nics: [{ mac: '52:54:00:00:00:ff', type: 'user' }] } }, true],
    ['no owner metadata', { owner: undefined }, true],
    ['specHash differs', { owner: { ...OWNER, specHash: 'old' } }, true],
    ['generation differs', { owner: { ...OWNER, generation: 1 } }, true],
    ['only the live config differs', { state: 'running', live: BIGGER }, false],
  ])('%s → define=%s', (_label, extra, define) => {
    const plan = planVirtualMachine(input({ runStrategy: 'Manual', observed: observed('shutoff', extra) }));
    expect(types(plan.actions).includes('define')).toBe(define);
    expect(types(plan.actions).filter((t) => t !== 'define')).toEqual([]);
  });
});

describe('RerunOnFailure and the reason the guest stopped (KubeVirt: restarted only after a failure)', () => {
  // [reason libvirt gives for shutoff, actions for a guest that already ran]
  const rows: [string | undefined, string[]][] = [
    ['shutdown', []], // the guest powered itself off: it completed
    ['destroyed', ['start']], // virsh destroy: QEMU killed from outside, a failure to the guest
    ['crashed', ['start']],
    ['failed', ['start']], // QEMU failed (died, OOM-killed)
    ['saved', []], // managed save: deliberate
    ['migrated', []],
    ['from-snapshot', []],
    ['daemon', []],
    ['unknown', []],
    [undefined, []],
  ];
  it.each(rows)('shutoff, reason %s → %j', (reason, expected) => {
    const plan = planVirtualMachine(input({ runStrategy: 'RerunOnFailure', startedOnce: true, observed: observed('shutoff', reason === undefined ? {} : { reason }) }));
    expect(types(plan.actions)).toEqual(expected);
  });

  it.each(['Always', 'Manual', 'Once', 'Halted'] as RunStrategy[])('the reason changes nothing for %s', (runStrategy) => {
    const plans = ['shutdown', 'destroyed', 'crashed'].map((reason) => types(planVirtualMachine(input({ runStrategy, startedOnce: true, observed: observed('shutoff', { reason }) })).actions));
    expect(plans[1]).toEqual(plans[0]);
    expect(plans[2]).toEqual(plans[0]);
  });

  it('a halt the controller forced (destroyed after the timeout) is no failure: Halted wants it stopped', () => {
    const plan = planVirtualMachine(input({ runStrategy: 'Halted', startedOnce: true, observed: observed('shutoff', { reason: 'destroyed' }) }));
    expect(types(plan.actions)).toEqual([]);
  });
});
