// The adopted-definition rule, as a table: while the spec is the adopted one, power is managed
// and the definition is never replaced; once it changes, the usual plan applies.
import { describe, expect, it } from 'vitest';
import { claimUpdate, keepsOwnDefinition, planAdoptedDomain } from '../../src/adoption/adopted-definition.js';
import { adoptionFingerprint } from '../../src/adoption/fingerprint.js';
import type { RunStrategy, VirtualMachineSpec } from '../../src/api/virtual-machine.js';
import type { DomainState } from '../../src/ports/hypervisor.js';
import type { DomainFacts, OwnerMetadata } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { planVirtualMachine, type ObservedDomain, type Stopping } from '../../src/reconcilers/virtual-machine/plan.js';

const SPEC: VirtualMachineSpec = { runStrategy: 'Always', memory: '512Mi', vcpus: 2, disks: [{ image: 'debian.qcow2' }], network: { mac: '52:52:52:52:52:52', vlan: 7 } };
const CLAIM: OwnerMetadata = { uid: 'adopted-x', namespace: 'default', name: 'vm30', generation: 0, specHash: adoptionFingerprint(SPEC), mac: '52:52:52:52:52:52', vlan: 7, adopted: true, startedOnce: true };
/** The domain's own definition: nothing like what wimaxvm writes (the image itself, not an overlay; libvirt's port name). */
const OWN: DomainFacts = { memoryKiB: 524288, vcpus: 2, diskPaths: ['/var/lib/wimaxvm/images/debian.qcow2'], nics: [{ mac: '52:52:52:52:52:52', type: 'bridge', source: 'br-wimax' }] };
const LIVE: DomainFacts = { ...OWN, nics: [{ ...OWN.nics[0]!, port: 'vnet3', vlan: 7 }] };

describe('keepsOwnDefinition', () => {
  it.each([
    ['the adopted spec', CLAIM, SPEC, true],
    ['a power change only', CLAIM, { ...SPEC, runStrategy: 'Halted' as const }, true],
    ['a VLAN change (the switch retags it)', CLAIM, { ...SPEC, network: { mac: '52:52:52:52:52:52', vlan: 9 } }, true],
    ['more memory', CLAIM, { ...SPEC, memory: '1Gi' }, false],
    ['another disk', CLAIM, { ...SPEC, disks: [...SPEC.disks!, { image: 'data.qcow2' }] }, false],
    ['a domain wimaxvm defined', { ...CLAIM, adopted: undefined }, SPEC, false],
    ['no claim', undefined, SPEC, false],
  ])('%s → %s', (_what, owner, spec, keeps) => {
    expect(keepsOwnDefinition(owner as OwnerMetadata | undefined, spec)).toBe(keeps);
  });
});

const NOW = 1_000_000;
function plan(state: DomainState, runStrategy: RunStrategy, extra: { restartRequested?: boolean; stopping?: Stopping; owner?: OwnerMetadata; reason?: string } = {}) {
  const active = state !== 'shutoff';
  const observed: ObservedDomain = { state, persistent: OWN, ...(active ? { live: LIVE } : {}), owner: extra.owner ?? CLAIM, ...(extra.reason ? { reason: extra.reason } : {}) };
  return planAdoptedDomain({
    runStrategy, observed, startedOnce: (extra.owner ?? CLAIM).startedOnce === true, nowMs: NOW, shutdownTimeoutMs: 30_000,
    ...(extra.restartRequested ? { restartRequested: true } : {}), ...(extra.stopping ? { stopping: extra.stopping } : {}),
  });
}
const types = (p: ReturnType<typeof plan>) => p.actions.map((a) => a.type);

describe('planAdoptedDomain: power is managed, the definition is its own', () => {
  it.each([
    ['running, Always: nothing at all (its live XML differs from anything wimaxvm would write)', 'running', 'Always', {}, []],
    ['running, Manual: nothing', 'running', 'Manual', {}, []],
    ['running, RerunOnFailure: nothing', 'running', 'RerunOnFailure', {}, []],
    ['off, Halted: nothing', 'shutoff', 'Halted', {}, []],
    ['off, Always: started as it is defined', 'shutoff', 'Always', {}, ['start']],
    ['destroyed from outside, RerunOnFailure: started again', 'shutoff', 'RerunOnFailure', { reason: 'destroyed' }, ['start']],
    ['running, Halted: ACPI shutdown', 'running', 'Halted', {}, ['shutdown']],
    ['crashed, Always: powered off and started', 'crashed', 'Always', {}, ['destroy', 'start']],
    ['a restart request: ACPI shutdown', 'running', 'Always', { restartRequested: true }, ['shutdown']],
    ['the restart\'s shutdown done: started again', 'shutoff', 'Always', { stopping: { intent: 'restart', sinceMs: NOW - 1000 } }, ['start']],
  ] as [string, DomainState, RunStrategy, Parameters<typeof plan>[2], string[]][])('%s', (_what, state, strategy, extra, actions) => {
    const p = plan(state, strategy, extra);
    expect(types(p)).toEqual(actions);
    expect(p.restartRequired).toEqual([]);
  });

  it('without the rule, the ordinary plan would redefine and restart the same running domain', () => {
    const wimaxvms: DomainFacts = { ...OWN, diskPaths: ['/var/lib/wimaxvm/overlays/vm30/vm30-0.qcow2'], nics: [{ ...OWN.nics[0]!, port: 'wx0123456789a', vlan: 7 }] };
    const p = planVirtualMachine({
      runStrategy: 'Always', startedOnce: true, nowMs: NOW, shutdownTimeoutMs: 30_000,
      observed: { state: 'running', persistent: OWN, live: LIVE, owner: CLAIM },
      desired: { facts: wimaxvms, specHash: 'h', generation: 1, controller: 'file://h/d' },
    });
    expect(types(p)).toEqual(['define', 'shutdown']);
  });

  it('a first start of a Once domain that never ran is recorded (by the claim), never by a define', () => {
    const { startedOnce: _ran, ...neverRan } = CLAIM;
    const p = plan('shutoff', 'Once', { owner: neverRan });
    expect(types(p)).toEqual(['start']);
    expect(p.recordsStart).toBe(true);
  });
});

describe('claimUpdate', () => {
  const want = { uid: 'uid-1', generation: 3, controller: 'file://h/d', startedOnce: true, vlan: 7 };
  it.each([
    ['in line: nothing to write', CLAIM, want, undefined],
    ['a claim naming no controller, in line: nothing to write (the declaring controller has it)', { ...CLAIM, controller: undefined }, want, undefined],
    ['the first start to remember', { ...CLAIM, startedOnce: undefined }, want, { ...CLAIM, uid: 'uid-1', generation: 3, controller: 'file://h/d', startedOnce: true }],
    ['a restart request handled', CLAIM, { ...want, restartedAt: 't1' }, { ...CLAIM, uid: 'uid-1', generation: 3, controller: 'file://h/d', restartedAt: 't1' }],
    ['a new VLAN', CLAIM, { ...want, vlan: 9 }, { ...CLAIM, uid: 'uid-1', generation: 3, controller: 'file://h/d', vlan: 9 }],
    ['taken over from another controller (--adopt-from)', { ...CLAIM, controller: 'file://old/d' }, want, { ...CLAIM, uid: 'uid-1', generation: 3, controller: 'file://h/d' }],
  ])('%s', (_what, current, w, expected) => {
    const current_ = Object.fromEntries(Object.entries(current).filter(([, v]) => v !== undefined)) as unknown as OwnerMetadata;
    const update = claimUpdate(current_, w);
    expect(update).toEqual(expected);
    if (update) {
      expect(update.adopted).toBe(true); // the definition stays the domain's own
      expect(update.specHash).toBe(CLAIM.specHash);
    }
  });
});
