// The declared power state (spec.powerState) in plan.ts and status.ts: what each runStrategy
// does with Running, Paused and Saved in each state of the guest, and what status says.
import { describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/meta.js';
import type { PowerState, RunStrategy } from '../../src/api/virtual-machine.js';
import type { DomainState } from '../../src/ports/hypervisor.js';
import type { DomainFacts, OwnerMetadata } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { planVirtualMachine, type ObservedDomain, type PlanInput } from '../../src/reconcilers/virtual-machine/plan.js';
import { computeStatus, type StatusInput } from '../../src/reconcilers/virtual-machine/status.js';

const FACTS: DomainFacts = { memoryKiB: 262144, vcpus: 1, diskPaths: [], nics: [{ mac: '52:54:00:00:00:1e', type: 'user' }] };
const OWNER: OwnerMetadata = { uid: 'u1', namespace: 'default', name: 'vm', generation: 1, specHash: 'h', mac: '52:54:00:00:00:1e', startedOnce: true };
const NOW = 1_000_000;

/** running | paused (by a user) | paused-io (libvirt paused it) | off | saved (off with a managed-save image) | off-destroyed */
type Seen = 'running' | 'paused' | 'paused-io' | 'off' | 'saved' | 'crashed';

function seen(s: Seen): ObservedDomain {
  const state: DomainState = s === 'paused' || s === 'paused-io' ? 'paused' : s === 'off' || s === 'saved' ? 'shutoff' : s;
  const reason = s === 'paused' ? 'user' : s === 'paused-io' ? 'ioerror' : s === 'saved' ? 'saved' : s === 'off' ? 'shutdown' : 'booted';
  const active = state !== 'shutoff';
  return { state, reason, persistent: FACTS, ...(active ? { live: FACTS } : {}), owner: OWNER, ...(s === 'saved' ? { saved: true } : {}) };
}

function plan(runStrategy: RunStrategy, powerState: PowerState | undefined, s: Seen, extra: Partial<PlanInput> = {}) {
  return planVirtualMachine({
    runStrategy, ...(powerState ? { powerState } : {}),
    desired: { facts: FACTS, specHash: 'h', generation: 1 }, observed: seen(s),
    startedOnce: true, nowMs: NOW, shutdownTimeoutMs: 30_000, ...extra,
  });
}
const types = (p: ReturnType<typeof plan>) => p.actions.map((a) => a.type);

describe('plan: declared power state × runStrategy × what the guest is', () => {
  // [strategy, powerState, seen, actions]
  const rows: [RunStrategy, PowerState | undefined, Seen, string[]][] = [
    // Undeclared: as before (a hand-paused guest stays paused; a saved RerunOnFailure guest stays saved).
    ['Always', undefined, 'paused', []],
    ['Always', undefined, 'saved', ['start']],
    ['RerunOnFailure', undefined, 'saved', []],
    // Running: resume what a user paused, restore what is saved; never what libvirt paused.
    ['Always', 'Running', 'paused', ['resume']],
    ['Always', 'Running', 'paused-io', []],
    ['Always', 'Running', 'saved', ['start']],
    ['RerunOnFailure', 'Running', 'saved', ['start']], // saved is not finished: restored
    ['Once', 'Running', 'saved', ['start']],
    ['RerunOnFailure', 'Running', 'off', []], // it shut itself down: finished
    ['Manual', 'Running', 'saved', []], // Manual: the user drives
    ['Manual', 'Running', 'paused', []],
    // Paused.
    ['Always', 'Paused', 'running', ['suspend']],
    ['Always', 'Paused', 'paused', []],
    ['Always', 'Paused', 'off', ['start', 'suspend']],
    ['Always', 'Paused', 'saved', ['start', 'suspend']],
    ['Once', 'Paused', 'running', ['suspend']],
    ['Once', 'Paused', 'off', []],
    ['Manual', 'Paused', 'running', []],
    ['Always', 'Paused', 'crashed', ['destroy', 'start']], // up first; paused at the next look
    // Saved: a running or paused guest is saved; an off one is never started just to be saved.
    ['Always', 'Saved', 'running', ['save']],
    ['Always', 'Saved', 'paused', ['save']],
    ['Always', 'Saved', 'saved', []], // not "restarted because it is off"
    ['Always', 'Saved', 'off', []],
    ['RerunOnFailure', 'Saved', 'running', ['save']],
    ['RerunOnFailure', 'Saved', 'saved', []], // stopped by save: no failure, not rerun
    ['Manual', 'Saved', 'running', []],
    // Halted wins over any power state; a user-paused guest is resumed to shut down cleanly.
    ['Halted', 'Saved', 'running', ['shutdown']],
    ['Halted', 'Paused', 'paused', ['resume', 'shutdown']],
    ['Halted', 'Paused', 'paused-io', ['destroy']],
    ['Halted', 'Saved', 'saved', []],
  ];
  it.each(rows)('%s, powerState %s, %s → %j', (runStrategy, powerState, s, expected) => {
    expect(types(plan(runStrategy, powerState, s))).toEqual(expected);
  });

  it('a user-paused guest being stopped waits for its shutdown (then forces it) like a running one', () => {
    const p = plan('Halted', undefined, 'paused');
    expect(p.stopping).toEqual({ intent: 'halt', sinceMs: NOW });
  });

  it('deleting a saved VM undefines it at once (the image goes with it); a user-paused one is resumed and shut down', () => {
    const gone = (s: Seen) => types(planVirtualMachine({ observed: seen(s), startedOnce: false, nowMs: NOW, shutdownTimeoutMs: 30_000 }));
    expect(gone('saved')).toEqual(['undefine']);
    expect(gone('paused')).toEqual(['resume', 'shutdown']);
  });

  it('a spec change while Saved redefines and stays saved; once restored, Always restarts to apply it, Manual says RestartRequired', () => {
    const bigger = { facts: { ...FACTS, memoryKiB: 524288 }, specHash: 'h2', generation: 2 };
    expect(types(plan('Always', 'Saved', 'saved', { desired: bigger }))).toEqual(['define']);
    // libvirt 9.0 restores the saved (old) configuration; the new one waits for the next boot.
    const restored = { ...seen('running'), persistent: bigger.facts, owner: { ...OWNER, specHash: 'h2', generation: 2 } };
    expect(types(plan('Always', 'Running', 'running', { desired: bigger, observed: restored }))).toEqual(['shutdown']);
    const manual = plan('Manual', 'Running', 'running', { desired: bigger, observed: restored });
    expect([types(manual), manual.restartRequired]).toEqual([[], ['memory']]);
  });

  it('a guest held paused is not restarted for a change: RestartRequired', () => {
    const bigger = { facts: { ...FACTS, memoryKiB: 524288 }, specHash: 'h', generation: 1 };
    const p = plan('Always', 'Paused', 'paused', { desired: bigger, observed: { ...seen('paused'), persistent: bigger.facts } });
    expect([types(p), p.restartRequired]).toEqual([[], ['memory']]);
  });
});

describe('status: printableStatus and Ready with a declared power state', () => {
  function status(runStrategy: RunStrategy, powerState: PowerState | undefined, state: DomainState, saved = false) {
    const input: StatusInput = {
      generation: 1, runStrategy, ...(powerState ? { powerState } : {}),
      domain: { name: 'vm', uuid: 'u', state, ...(saved ? { saved, reason: 'saved' } : {}) },
      allocations: {}, startedOnce: true, restarts: 0, startFailures: 0, restartRequired: [], now: '2025-01-01T00:00:00Z',
    };
    const s = computeStatus(input);
    const ready = findCondition(s.conditions, 'Ready')!;
    return [s.printableStatus, ready.status, ready.message];
  }
  it.each([
    ['Always', 'Saved', 'shutoff', true, 'Saved', 'True', 'the guest is saved, as powerState Saved asks'],
    ['Always', 'Running', 'shutoff', true, 'Starting', 'False', 'the guest is starting; runStrategy Always wants it running'],
    ['Always', undefined, 'shutoff', true, 'Starting', 'False', 'the guest is starting; runStrategy Always wants it running'],
    ['RerunOnFailure', undefined, 'shutoff', true, 'Saved', 'True', 'the guest is saved, as runStrategy RerunOnFailure asks'],
    ['Always', 'Paused', 'paused', false, 'Paused', 'True', 'the guest is paused, as powerState Paused asks'],
    ['Always', 'Paused', 'running', false, 'Running', 'False', 'the guest is running; runStrategy Always wants it running'],
    ['Always', 'Saved', 'running', false, 'Running', 'False', 'the guest is running; runStrategy Always wants it running'],
    ['Always', 'Paused', 'shutoff', false, 'Starting', 'False', 'the guest is starting; runStrategy Always wants it running'],
    ['Halted', 'Saved', 'shutoff', true, 'Saved', 'True', 'the guest is saved, as runStrategy Halted asks'],
  ] as const)('%s, powerState %s, %s saved=%s → %s, Ready %s', (runStrategy, powerState, state, saved, printable, ready, message) => {
    expect(status(runStrategy, powerState, state, saved)).toEqual([printable, ready, message]);
  });
});
