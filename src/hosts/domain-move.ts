// Moving a VM's domain from one host to another: live (libvirt migrates the running guest) or
// cold (the guest is not running: its definition is defined at the destination), and in both
// cases the old definition leaves only with the deletion gate's permit (decideMigrated), once
// the destination is seen to hold the same guest. A cold move carries the guest's disk files
// (its overlays, its seed) to a destination that does not see them (no shared storage) before
// defining it there; the source's copies go with the old definition, under the same permit.
// A live move needs the destination to see them already (shared storage); where it does not, a
// running guest the VM lets stop (mayStop: its runStrategy starts it again) is stopped and moved
// cold ("stop, move the overlay, start"), else the move stops with the reason.
import type { DeletionGate } from '../core/deletion-gate.js';
import { diskSourceFiles } from '../adoption/domain-devices.js';
import type { CarriedDisk, DiskCarrier } from '../ports/disk-carrier.js';
import type { DomainSnapshot, Hypervisor } from '../ports/hypervisor.js';
import type { MigrationOptions } from '../ports/migration.js';
import type { MoveSide } from './moved-evidence.js';

export type MoveMode = 'live' | 'cold';

/**
 * How MoveHosts.migrateLive asks libvirt to migrate: libvirt cannot tell a local overlay path is
 * shared, so the migration says so (VIR_MIGRATE_UNSAFE); moveDomain has checked first that the
 * destination sees every disk file (else the guest is not migrated live).
 */
export const LIVE_MIGRATION: MigrationOptions = { sharedStorage: true };

/** What a move needs of the hosts (src/hosts/placed-hypervisor.ts has it). */
export interface MoveHosts {
  /** The host's own connection. */
  portOf(host: string): Hypervisor;
  uriOf(host: string): string;
  /** Live-migrates `name` from `from` to `to`, keeping the source's (shut off) definition. */
  migrateLive(name: string, from: string, to: string): Promise<void>;
  isPersistent(name: string, host: string): Promise<boolean>;
  /** Carries disk files to a host that does not see them; absent: every host sees them (shared storage). */
  disks?: DiskCarrier;
  /**
   * How long a guest may take to shut down when a move stops it (its disks cannot follow it live:
   * the destination does not see them); then it is powered off. Absent: a move never stops a guest.
   */
  stopTimeoutMs?: number;
}

export interface MoveRequest {
  key: string;
  domainName: string;
  from: string;
  to: string;
  /**
   * A running guest that cannot move live may be stopped and moved cold ("stop, move the overlay,
   * start"): its runStrategy starts it again at the destination. Not for a guest nothing would start again.
   */
  mayStop?: boolean;
}

export interface MoveObserver {
  /** Decided how it moves. */
  mode?(mode: MoveMode): void;
  /** The guest is the destination's now: its calls go there, even if the old definition stays. */
  moved(): void;
  /** A cold move's disk files, each copied or seen there already (before `moved`). */
  carried?(disks: CarriedDisk[]): void;
  /** The running guest is being stopped to move it cold: `to` does not see these disk files. */
  stopping?(unseen: string[]): void;
}

const ACTIVE = new Set(['running', 'blocked', 'paused', 'shutdown', 'pmsuspended', 'crashed']);

/**
 * Moves the domain; throws what stopped it (before `moved`: the guest stays where it was).
 * `keepOldDefinition`: the old definition stays for removeOldDefinition later (Kubernetes mode
 * removes it only once the VM is handed over, so a crash in between leaves the move on record).
 */
export async function moveDomain(req: MoveRequest, hosts: MoveHosts, gate: Pick<DeletionGate, 'decideMigrated'>, observer: MoveObserver, keepOldDefinition = false): Promise<MoveMode> {
  const { domainName: name, from, to } = req;
  const source = hosts.portOf(from);
  const destination = hosts.portOf(to);
  const [there, here] = await Promise.all([destination.getDomain(name, true), source.getDomain(name, true)]);
  if (there && here && there.uuid !== here.uuid) throw new Error(`${to} holds another domain named ${name} (uuid ${there.uuid}): not moving onto it`);
  if (!here) {
    if (!there) throw new Error(`neither ${from} nor ${to} holds a domain ${name}`);
    observer.moved(); // moved before (a crash between the steps): only the bookkeeping is left
    return 'cold';
  }
  let mode: MoveMode = ACTIVE.has(here.state) ? 'live' : 'cold';
  if (mode === 'live') {
    const unseen = await unseenDisks(req, hosts, here.persistentXml);
    if (unseen.length && (!req.mayStop || hosts.stopTimeoutMs === undefined)) throw new Error(cannotMoveLive(req, unseen));
    if (unseen.length) {
      // Stop, move the overlay, start: the destination's runStrategy starts it there.
      observer.stopping?.(unseen);
      await stopGuest(source, name, hosts.stopTimeoutMs!);
      mode = 'cold';
    }
  }
  observer.mode?.(mode);
  let carried: CarriedDisk[] = [];
  if (mode === 'live') {
    await hosts.migrateLive(name, from, to); // an inactive definition of it at the destination is replaced
  } else if (!there) {
    // A managed-save image is the guest's memory on the source's disk: moving the definition would lose it.
    if (await source.hasManagedSave(name)) throw new Error(`${name} has a saved state on ${from}: start it there first (a cold move would lose it)`);
    carried = await carryDisks(req, hosts, here.persistentXml);
    observer.carried?.(carried);
    await destination.define(here.persistentXml);
  }
  observer.moved();
  if (!keepOldDefinition) await removeOldDefinition(req, hosts, gate, copiedPaths(carried));
  return mode;
}

/** The files of the domain's disks, at the destination before its definition is (DiskCarrier). */
async function carryDisks({ from, to }: MoveRequest, hosts: MoveHosts, xml: string): Promise<CarriedDisk[]> {
  const paths = diskSourceFiles(xml);
  if (!hosts.disks || paths.length === 0) return [];
  return hosts.disks.carry({ host: from, uri: hosts.uriOf(from) }, { host: to, uri: hosts.uriOf(to) }, paths);
}

/** A live move keeps the guest's disks where they are: the files of them the destination does not see (no shared storage). */
async function unseenDisks({ to }: MoveRequest, hosts: MoveHosts, xml: string): Promise<string[]> {
  const paths = diskSourceFiles(xml);
  if (!hosts.disks || paths.length === 0) return [];
  return hosts.disks.unseen({ host: to, uri: hosts.uriOf(to) }, paths);
}

function cannotMoveLive({ domainName, from, to }: MoveRequest, unseen: string[]): string {
  return `${domainName} is running and ${to} does not see its disk files (${unseen.join(', ')}): a running guest moves live only where both hosts see them; `
    + `stopped, it moves cold and its disks are carried to ${to} (it stays on ${from} meanwhile)`;
}

/** Shuts the guest down, and powers it off if it has not stopped within `timeoutMs`. */
async function stopGuest(port: Hypervisor, name: string, timeoutMs: number): Promise<void> {
  const running = async () => ACTIVE.has((await port.domainState(name))?.state ?? 'shutoff');
  await port.shutdown(name).catch(() => undefined); // a guest that cannot take the request is powered off below
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    if (!await running()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (await running()) await port.destroy(name);
}

/** The files a move copied (not those the destination saw already: those are shared, the guest's). */
export function copiedPaths(disks: readonly CarriedDisk[]): string[] {
  return disks.filter((d) => d.copied).map((d) => d.path);
}

/**
 * The moved guest's old definition leaves its old host, with the gate's permit (decideMigrated);
 * throws MovedButKept if withheld. `carried`: the files the move copied to the new host, whose
 * old copies go too, under the same permit (files the new host saw already are never touched).
 */
export async function removeOldDefinition(req: MoveRequest, hosts: MoveHosts, gate: Pick<DeletionGate, 'decideMigrated'>, carried: readonly string[] = []): Promise<void> {
  const { domainName: name, from, to } = req;
  const decision = await gate.decideMigrated(req.key, name, async () => ({
    declared: true,
    from: await side(hosts, from, name, true),
    to: await side(hosts, to, name, false),
  }), carried);
  if ('withheld' in decision) throw new MovedButKept(decision.withheld);
  await hosts.portOf(from).undefine(name, decision.permit);
  if (carried.length && hosts.disks) {
    await hosts.disks.removeCarried({ host: from, uri: hosts.uriOf(from) }, { host: to, uri: hosts.uriOf(to) }, name, carried, decision.permit);
  }
}

/** The guest moved; its old definition stays (shut off) because the gate withheld its removal. */
export class MovedButKept extends Error {
  override readonly name = 'MovedButKept';
}

async function side(hosts: MoveHosts, host: string, name: string, isSource: boolean): Promise<MoveSide> {
  const port = hosts.portOf(host);
  const domain: DomainSnapshot | undefined = await port.getDomain(name, true);
  if (!domain) return { host, uri: hosts.uriOf(host) };
  return {
    host, uri: hosts.uriOf(host),
    domain: {
      uuid: domain.uuid, state: domain.state,
      persistent: await hosts.isPersistent(name, host),
      ...(isSource ? { saved: await port.hasManagedSave(name) } : {}),
    },
  };
}
