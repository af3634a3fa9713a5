// The one way a VM can be deleted. A domain is undefined (and its disks removed) only with a
// DeletionPermit, and only this gate issues permits: on positive evidence, from the source
// that declares the resource, that its declaration was deleted. A source that has not read
// successfully, has lost its connection, or reads as empty vouches for nothing, so nothing is
// deleted; the gate says so (log, /readyz, metric). One narrow rule more: a declaration whose
// lease says onExpiry Delete and has expired, by the gate's own reading of the declaration it
// holds, gets a permit for its domain (decideLeaseExpired); the declaration stays. A VM moved to
// another host gets a permit for its old definition only, usable only on the old host's
// connection and never for its disks (decideMigrated: src/hosts/moved-evidence.ts says when),
// save the files the move itself copied to the new host (carried: the new host has its own copy).
// A new source or code path cannot go around it: the Hypervisor and DiskImages ports demand a
// permit, and their adapters check it.
import type { ResourceKey } from '../api/meta.js';
import type { VirtualMachine } from '../api/virtual-machine.js';
import { leaseExpiryEvidence } from '../leases/expiry-evidence.js';
import type { LeaseRecord } from '../leases/lease-clock.js';
import { movedEvidence, type MoveSides } from '../hosts/moved-evidence.js';
import type { DesiredStore } from './desired-store.js';
import type { Logger } from './logger.js';

/** What a source can say, now, about a resource that is not in the desired store. */
export type Absence =
  | { confirmed: true; evidence: string }
  /** movedTo: still declared, for another controller's node (Kubernetes DaemonSet mode): it moved there, nothing is deleted. */
  | { confirmed: false; why: string; movedTo?: string };

/** A source of desired state, as a witness of deletions. */
export interface AbsenceWitness {
  /** Whether the declaration of `key` is known to be deleted, and why (or why it cannot tell). */
  absence(key: ResourceKey): Absence;
  /** Why the source vouches for no deletion at all right now (not read yet, connection lost); undefined while it can. */
  blocked(): string | undefined;
}

/** Held only by this module: nothing else can make a permit. */
const GATE: unique symbol = Symbol('deletion-gate');

/** Leave to delete one domain: made only by DeletionGate.decide. */
export class DeletionPermit {
  constructor(
    token: typeof GATE, readonly key: ResourceKey, readonly domainName: string, readonly evidence: string,
    /** Why the permit no longer holds (declared again; a lease renewed), checked again when it is used. */
    readonly revokedBecause: () => string | undefined,
    /** A moved VM's old definition: only on the connection to this libvirt URI, never its disks. */
    readonly onlyOnHost?: string,
    /** A moved VM: the files its move copied to the new host, which may go from the old one (at onlyOnHost). */
    readonly carriedDisks: readonly string[] = [],
  ) {
    if (token !== GATE) throw new Error('deletion permits come from the deletion gate only');
  }
}

/**
 * Adapters call this before any destructive call: a missing or mismatched permit is refused, and
 * so is one whose resource was declared again since it was given (a stop takes seconds).
 */
export function assertPermit(permit: DeletionPermit | undefined, domainName: string, use: { hostUri: string; carriedDisk?: string } | 'disks' = 'disks'): void {
  if (!(permit instanceof DeletionPermit) || permit.domainName !== domainName) {
    throw new Error(`refusing to delete domain ${domainName}: no deletion permit from the deletion gate`);
  }
  if (use !== 'disks' && use.carriedDisk !== undefined) {
    if (permit.onlyOnHost !== use.hostUri || !permit.carriedDisks.includes(use.carriedDisk)) {
      throw new Error(`refusing to delete ${use.carriedDisk} at ${use.hostUri}: the permit does not name it as a file ${domainName}'s move copied away from there`);
    }
  } else if (permit.onlyOnHost !== undefined && (use === 'disks' || use.hostUri !== permit.onlyOnHost)) {
    const what = use === 'disks' ? `the disks of ${domainName}` : `domain ${domainName} at ${use.hostUri}`;
    throw new Error(`refusing to delete ${what}: the permit is for its moved definition at ${permit.onlyOnHost} only`);
  }
  const revoked = permit.revokedBecause();
  if (revoked) throw new Error(`refusing to delete domain ${domainName}: ${revoked}`);
}

const NO_SOURCE = 'no source of desired state is running';

export type Decision = { permit: DeletionPermit } | { withheld: string };

export class DeletionGate {
  /** Deletions asked for and withheld, with why: for /readyz, the metric and the log (once each). */
  private readonly withheldNow = new Map<ResourceKey, string>();

  /** `witness` is the running source of desired state; while there is none, nothing can be deleted. */
  constructor(
    private readonly store: DesiredStore, private readonly witness: () => AbsenceWitness | undefined, private readonly logger: Logger,
    /** The clock a lease's expiry is read by (the controller's). */
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the domain of `key` may be deleted now; a permit when it may. */
  decide(key: ResourceKey, domainName: string): Decision {
    const witness = this.witness();
    const why = this.store.has(key) ? 'it is declared' : witness === undefined ? NO_SOURCE : undefined;
    const absence = why === undefined ? witness!.absence(key) : { confirmed: false as const, why };
    if (absence.confirmed) {
      if (this.withheldNow.delete(key)) this.logger.info('deletion no longer withheld', { key, evidence: absence.evidence });
      return { permit: new DeletionPermit(GATE, key, domainName, absence.evidence, () => (this.store.has(key) ? `${key} is declared again` : undefined)) };
    }
    if (this.withheldNow.get(key) !== absence.why) {
      this.logger.warn(`not deleting ${domainName}: ${absence.why}`, { key });
      this.withheldNow.set(key, absence.why);
    }
    return { withheld: absence.why };
  }

  /**
   * Whether the domain of a declared VM may be removed because its lease expired: only if the
   * declaration in the store says onExpiry Delete and `record` is its lease in force, expired by
   * the gate's clock. Checked again when the permit is used: a renewal in between revokes it.
   */
  decideLeaseExpired(key: ResourceKey, domainName: string, record: LeaseRecord): Decision {
    const judge = () => leaseExpiryEvidence(this.store.get<VirtualMachine>(key), record, this.now());
    const first = judge();
    if ('why' in first) return { withheld: `not removing ${domainName} for its lease: ${first.why}` };
    this.logger.info('lease expiry permits removing the domain', { key, evidence: first.evidence });
    const revokedBecause = () => {
      const again = judge();
      return 'why' in again ? `${key}: ${again.why}` : undefined;
    };
    return { permit: new DeletionPermit(GATE, key, domainName, first.evidence, revokedBecause) };
  }

  /**
   * Whether a moved VM's definition may leave its old host: `look` reads both hosts now
   * (movedEvidence says what must hold). The permit works only on the old host's connection and
   * never for disks (they are the guest's, wherever it runs), save `carried`: the files the move
   * copied to the new host (no shared storage), whose old copies may go too. A declaration
   * removed meanwhile revokes it (the deletion path takes over).
   */
  async decideMigrated(key: ResourceKey, domainName: string, look: () => Promise<MoveSides>, carried: readonly string[] = []): Promise<Decision> {
    const sides = await look();
    // Declared here, or (Kubernetes DaemonSet mode) declared and handed over to the destination's node.
    const declared = () => this.store.has(key) || this.movedAway(key) === sides.to.host;
    const judged = movedEvidence(domainName, { ...sides, declared: sides.declared && declared() });
    if ('why' in judged) return { withheld: `not removing ${domainName} from ${sides.from.host}: ${judged.why}` };
    this.logger.info('a move permits removing the old definition', { key, from: sides.from.host, evidence: judged.evidence });
    const revokedBecause = () => (declared() ? undefined : `${key} is not declared any more`);
    return { permit: new DeletionPermit(GATE, key, domainName, judged.evidence, revokedBecause, sides.from.uri, [...carried]) };
  }

  /**
   * The node a VM not declared here any more runs on now, when its source says it moved to another
   * node's controller (Kubernetes DaemonSet mode) rather than being deleted. Not a deletion: what
   * this controller kept of it may be forgotten once no domain of it is left here; a definition
   * left here goes only with decideMigrated's permit.
   */
  movedAway(key: ResourceKey): string | undefined {
    if (this.store.has(key)) return undefined;
    const absence = this.witness()?.absence(key);
    return absence && !absence.confirmed ? absence.movedTo : undefined;
  }

  /** The resource is declared again, or nothing of it is left: no deletion is pending. */
  settled(key: ResourceKey): void {
    this.withheldNow.delete(key);
  }

  /** One deletion waiting for evidence, with why, for /readyz. */
  withheld(): { key: ResourceKey; why: string } | undefined {
    const first = this.withheldNow.entries().next();
    return first.done ? undefined : { key: first.value[0], why: first.value[1] };
  }

  /** How many deletions are waiting for evidence. */
  get withheldCount(): number {
    return this.withheldNow.size;
  }

  /** Why deletions are blocked as a whole (the source's own word), for /readyz. */
  blocked(): string | undefined {
    const witness = this.witness();
    return witness ? witness.blocked() : NO_SOURCE;
  }
}
