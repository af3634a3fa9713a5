// What one read of every domain found (readAllDomains: one native call for the whole host),
// handed out to the reconciles of the resync that made it: each domain's snapshot serves one
// look, then reads are fresh again. A snapshot is never served once anything may have changed
// it: a domain event about it, a call of ours on it, a reconnect, or age. This is not a cache
// across resyncs: every resync reads every domain again (drift libvirt sends no event for,
// like `virsh setmem --config`, is found there).
import type { DomainSnapshot } from '../../ports/hypervisor.js';
import type { SurveyedDomain } from './native.js';

/**
 * A survey serves the resync that made it; a look this long after the listing returned reads the
 * domain again. Counted from the end, not the start: reading 10,000 domains over a socket takes
 * tens of seconds, and counted from its start a third of them were read twice. Changes during the
 * listing are caught by events either way (changedMeanwhile).
 */
export const SURVEY_SERVES_MS = 60_000;

const XML_ID = /^<domain[^>]*\sid='(\d+)'/;

/** An active domain's id, from its live XML (no call needed for it). */
export function activeIdOf(liveXml: string): number | undefined {
  const id = XML_ID.exec(liveXml)?.[1];
  return id === undefined ? undefined : Number(id);
}

export function snapshotOf(d: SurveyedDomain): DomainSnapshot {
  const { name, uuid, state, reason, persistentXml, liveXml } = d;
  const id = liveXml === undefined ? undefined : activeIdOf(liveXml);
  return { name, uuid, state, reason, persistentXml, ...(liveXml !== undefined ? { liveXml } : {}), ...(id !== undefined ? { id } : {}) };
}

export class DomainSurvey {
  private snapshots = new Map<string, DomainSnapshot>();
  private readAt = 0;
  /** Surveys in flight, and the names changed while they were: their answer may predate the change. */
  private inFlight = 0;
  private readonly changedMeanwhile = new Set<string>();
  /** Bumped by clear(): a survey that began before it keeps nothing. */
  private epoch = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Runs one survey (read: the native call); with serve, keeps what it found for one look per domain. */
  async take(read: () => Promise<SurveyedDomain[]>, serve: boolean): Promise<DomainSnapshot[]> {
    this.inFlight++;
    const epoch = this.epoch;
    let found: SurveyedDomain[];
    try {
      found = await read();
    } finally {
      this.inFlight--;
    }
    const snapshots = found.map(snapshotOf);
    if (serve && epoch === this.epoch) {
      this.snapshots = new Map(snapshots.filter((s) => !this.changedMeanwhile.has(s.name)).map((s) => [s.name, s]));
      this.readAt = this.now();
    }
    if (this.inFlight === 0) this.changedMeanwhile.clear();
    return snapshots;
  }

  /** The domain as the survey read it, once; undefined when it must be read again. */
  serve(name: string): DomainSnapshot | undefined {
    const s = this.snapshots.get(name);
    if (!s) return undefined;
    this.snapshots.delete(name);
    return this.now() - this.readAt <= SURVEY_SERVES_MS ? s : undefined;
  }

  /** Something happened to the domain (an event, a call of ours): its next look reads it. */
  changed(name: string): void {
    this.snapshots.delete(name);
    if (this.inFlight > 0) this.changedMeanwhile.add(name);
  }

  /** A reconnect, or events no longer delivered: nothing read before is served. */
  clear(): void {
    this.snapshots.clear();
    this.epoch++;
  }
}
