// What the VM placement step reads and calls, over the hosts part and the PlacedHypervisor: the
// declared Hypervisors, where VMs are placed (in status, decided in this process, or on their
// way to a host), and moves (src/hosts/domain-move.ts) run in the background by Migrations.
import { hypervisorKey, type Hypervisor as HypervisorObject } from '../api/hypervisor.js';
import { LibvirtDiskCarrier } from '../adapters/libvirt/disk-carrier.js';
import type { LibvirtHypervisor } from '../adapters/libvirt/libvirt-hypervisor.js';
import type { DeletionGate } from '../core/deletion-gate.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { Logger } from '../core/logger.js';
import type { DiskCarrier } from '../ports/disk-carrier.js';
import type { PlacementView } from '../reconcilers/virtual-machine/steps/placement.js';
import { vmKeyForDomain } from '../api/virtual-machine.js';
import { LIVE_MIGRATION, moveDomain, type MoveHosts } from './domain-move.js';
import { withAssignments } from './host-vms.js';
import type { HostsPart } from './hosts-part.js';
import { ANY_ATTEMPT, Migrations } from './migrations.js';
import type { PlacedHypervisor } from './placed-hypervisor.js';


export function placementFor(opts: {
  hosts: HostsPart;
  placed: PlacedHypervisor<LibvirtHypervisor>;
  store: DesiredStore;
  gate: DeletionGate;
  logger: Logger;
  /** The VM of a domain looks again (a move finished). */
  requeue: (key: string) => void;
  /** Carries a cold-moved guest's disk files to a host that does not see them (default: through libvirt). */
  disks?: DiskCarrier;
  /** A guest stopped for a move (its disks cannot follow it live) is powered off after this long (--shutdown-timeout). */
  stopTimeoutMs: number;
}): PlacementView {
  const { hosts, placed, store, gate, logger } = opts;
  const migrations = new Migrations();
  const uriOf = (host: string): string => store.get<HypervisorObject>(hypervisorKey(host))?.spec.uri ?? '';
  const moveHosts: MoveHosts = {
    portOf: (host) => placed.portOf(host),
    uriOf,
    migrateLive: (name, from, to) => placed.migrate(name, from, uriOf(to), LIVE_MIGRATION),
    isPersistent: (name, host) => placed.isPersistent(name, host),
    disks: opts.disks ?? new LibvirtDiskCarrier(),
    stopTimeoutMs: opts.stopTimeoutMs,
  };
  return {
    ...hosts.view,
    // Decided in this process but maybe not in status yet, and the destinations of moves under
    // way: counted at once, so two VMs placed in parallel reconciles never both take the last room.
    placed: () => {
      placed.prune((domainName) => store.has(vmKeyForDomain(domainName)));
      const assigned = new Map(placed.assignments());
      for (const [domainName, job] of migrations.inFlight()) assigned.set(domainName, job.to);
      return withAssignments(hosts.view.placed(), assigned, store);
    },
    drives: (host: string) => store.has(hypervisorKey(host)),
    assign: (domainName: string, host: string) => placed.assign(domainName, host),
    hostOf: (domainName: string) => placed.hostOf(domainName),
    migrate: (domainName: string, from: string, to: string, attempt = ANY_ATTEMPT) => migrations.start(domainName, from, to, attempt,
      (observer) => moveDomain({ key: vmKeyForDomain(domainName), domainName, from, to, mayStop: attempt.mayStop }, moveHosts, gate, {
        ...observer,
        // From here on the guest is the destination's: its calls go there.
        moved: () => { placed.assign(domainName, to); observer.moved(); },
      }),
      () => placed.migrationProgress(domainName, from),
      (job) => {
        if (job.error) logger.warn(`moving ${domainName} from ${from} to ${to}: ${job.error}`, { moved: job.moved === true });
        else logger.info(`moved ${domainName} from ${from} to ${to} (${job.mode})`);
        opts.requeue(vmKeyForDomain(domainName));
      }),
    clearMigration: (domainName: string) => migrations.clear(domainName),
    moveUnderWay: (domainName: string) => migrations.inFlight().get(domainName),
  };
}
