// What of a spec change reaches a running guest without a restart: the balloon within the
// maximum the guest was started with, more vCPUs up to theirs, disks after the boot disk and NICs after the first
// hot-plugged in and out. Everything else waits for a restart (RestartRequired). Pure: desired
// facts and the live definition's facts in, operations out; every branch is a table row.
import { diffFacts, maxMemoryOf, maxVcpusOf, type DomainFacts } from './domain-xml.js';
import { diskTarget } from './device-xml.js';

type Nic = DomainFacts['nics'][number];

export type LiveOperation =
  | { type: 'setMemory'; kib: number }
  | { type: 'setVcpus'; count: number }
  | { type: 'attachDisk'; index: number; path: string }
  | { type: 'detachDisk'; index: number; path: string }
  | { type: 'attachNic'; mac: string; network: string }
  | { type: 'detachNic'; mac: string; network: string };

export interface LivePlan {
  /** Calls on the running guest, in order: detaches first, so a freed target can be plugged again. */
  operations: LiveOperation[];
  /** Changed fields the running guest cannot take: they wait for a restart. */
  restartRequired: string[];
  /** Changed fields that only the definition takes (the guest is off: its next start has them). */
  configOnly: string[];
  /**
   * A device is still on its way out (the guest has not released it yet), so what replaces it
   * is plugged on a later look: look again soon.
   */
  waiting: boolean;
}

export interface LiveInput {
  desired: DomainFacts;
  /** The running guest's live definition; undefined when the guest is not running. */
  live?: DomainFacts;
  /** The persistent definition, for what a guest that is off takes at its next start. */
  persistent?: DomainFacts;
}

/** The operations a spec change turns into, by the field they belong to (for status and events). */
export function fieldOf(op: LiveOperation): 'memory' | 'vcpus' | 'disks' | 'interfaces' {
  switch (op.type) {
    case 'setMemory': return 'memory';
    case 'setVcpus': return 'vcpus';
    case 'attachDisk': case 'detachDisk': return 'disks';
    case 'attachNic': case 'detachNic': return 'interfaces';
  }
}

export function planLiveChanges({ desired, live, persistent }: LiveInput): LivePlan {
  if (!live) {
    // Off: redefining is all there is to do, and the next start takes it whole.
    return { operations: [], restartRequired: [], configOnly: persistent ? diffFacts(persistent, desired) : [], waiting: false };
  }
  const plan: LivePlan = { operations: [], restartRequired: [], configOnly: [], waiting: false };
  planMemory(desired, live, plan);
  planVcpus(desired, live, plan);
  planDisks(desired.diskPaths, live.diskPaths, plan);
  planNics(desired.nics, live.nics, plan);
  plan.operations.sort((a, b) => rank(a) - rank(b));
  return plan;
}

/** Detaches before attaches (a target or MAC is free only once its device is gone). */
function rank(op: LiveOperation): number {
  return op.type === 'detachDisk' || op.type === 'detachNic' ? 0 : 1;
}

/**
 * Without a declared maximum (spec.maxMemory) the maximum is the memory itself, so a change of
 * memory is a change of maximum and waits for a restart, as before maxima existed.
 */
function planMemory(desired: DomainFacts, live: DomainFacts, plan: LivePlan): void {
  if (maxMemoryOf(desired) !== maxMemoryOf(live)) {
    const declared = desired.maxMemoryKiB !== undefined || live.maxMemoryKiB !== undefined;
    plan.restartRequired.push(declared ? 'maxMemory' : 'memory');
    if (!declared) return;
  }
  if (desired.memoryKiB === live.memoryKiB) return;
  // The balloon gives at most what the guest was started with.
  if (desired.memoryKiB <= maxMemoryOf(live)) plan.operations.push({ type: 'setMemory', kib: desired.memoryKiB });
  else plan.restartRequired.push('memory');
}

/**
 * vCPUs are plugged in up to the maximum the guest was started with (spec.maxVcpus); fewer wait
 * for a restart, as in KubeVirt: libvirt 9.0 will not unplug the vCPUs a guest booted with
 * ("failed to find appropriate hotpluggable vcpus"), and a guest need not let one go (the
 * tiny test guest timed out on one of two it had been given).
 */
function planVcpus(desired: DomainFacts, live: DomainFacts, plan: LivePlan): void {
  if (maxVcpusOf(desired) !== maxVcpusOf(live)) {
    const declared = desired.maxVcpus !== undefined || live.maxVcpus !== undefined;
    plan.restartRequired.push(declared ? 'maxVcpus' : 'vcpus');
    if (!declared) return;
  }
  if (desired.vcpus === live.vcpus) return;
  if (desired.vcpus > live.vcpus && desired.vcpus <= maxVcpusOf(live)) plan.operations.push({ type: 'setVcpus', count: desired.vcpus });
  else plan.restartRequired.push('vcpus');
}

/**
 * Disks are matched by path (a path names the disk's position and image, see DiskImages). The
 * boot disk (the first) is never plugged or pulled: a change there waits for a restart.
 */
function planDisks(desired: string[], live: string[], plan: LivePlan): void {
  if (desired[0] !== live[0]) {
    plan.restartRequired.push('disks');
    return;
  }
  const wanted = new Set(desired);
  const present = new Set(live);
  live.forEach((path, index) => {
    if (index > 0 && !wanted.has(path)) plan.operations.push({ type: 'detachDisk', index, path });
  });
  desired.forEach((path, index) => {
    if (index === 0 || present.has(path)) return;
    // Its target still holds the disk being pulled: plug the new one once that is gone.
    if (live[index] !== undefined) plan.waiting = true;
    else plan.operations.push({ type: 'attachDisk', index, path });
  });
}

const sameNic = (a: Nic, b: Nic): boolean => a.type === b.type && a.source === b.source && a.port === b.port;

/**
 * The first NIC (spec.network) is the slice's: any change but its VLAN (which the switch
 * applies) waits for a restart. The others (spec.interfaces) are matched by MAC.
 */
function planNics(desired: Nic[], live: Nic[], plan: LivePlan): void {
  const [first, ...extras] = desired;
  const liveFirst = live[0];
  if (!first || !liveFirst || first.mac !== liveFirst.mac || !sameNic(first, liveFirst)) plan.restartRequired.push('network');
  const liveExtras = live.slice(1);
  for (const nic of liveExtras) {
    const wanted = extras.find((e) => e.mac === nic.mac);
    if (!wanted || !sameNic(wanted, nic)) plan.operations.push({ type: 'detachNic', mac: nic.mac, network: nic.source ?? '' });
  }
  for (const nic of extras) {
    const present = liveExtras.find((l) => l.mac === nic.mac);
    if (present && sameNic(present, nic)) continue;
    if (present) plan.waiting = true; // the same MAC on another network: plugged once the old one is gone
    else plan.operations.push({ type: 'attachNic', mac: nic.mac, network: nic.source ?? '' });
  }
}

/** A short account of the operations, for events and the status message: "memory 512Mi, vcpus 2, disk vdb added". */
export function describeOperations(ops: LiveOperation[]): string {
  return ops.map((op) => {
    switch (op.type) {
      case 'setMemory': return `memory ${op.kib % 1024 === 0 ? `${op.kib / 1024}Mi` : `${op.kib}Ki`}`;
      case 'setVcpus': return `vcpus ${op.count}`;
      case 'attachDisk': return `disk ${diskTarget(op.index)} added`;
      case 'detachDisk': return `disk ${diskTarget(op.index)} removed`;
      case 'attachNic': return `NIC ${op.mac} on ${op.network} added`;
      case 'detachNic': return `NIC ${op.mac} removed`;
    }
  }).join(', ');
}
