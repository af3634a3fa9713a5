// Domain lookups and snapshots with a handle cache: each call on a domain is one libvirt call,
// not a lookup and a call, and a name known absent (from the last listing, our own undefines
// and the undefine events) costs no failing lookup.
import { classify, toPortError } from './errors.js';
import type { KeptConnection } from './connection.js';
import { activeIdOf, DomainSurvey } from './domain-survey.js';
import type { Domain } from './native.js';
import { HypervisorNotFoundError, type DomainActivity, type DomainSnapshot, type DomainView } from '../../ports/hypervisor.js';

/** The domain's name from its XML, so no extra call is needed for it. */
export function xmlName(xml: string): string {
  const m = /<name>([^<]*)<\/name>/.exec(xml);
  if (!m) throw new Error('domain XML without <name>');
  return m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

export class DomainCalls {
  /** Handles of domains looked up or defined. */
  private readonly handles = new Map<string, Domain>();
  /** Names of every domain as of the last listing, kept up to date by defines, undefines and events. */
  private known: Set<string> | undefined;
  /** The last listing's snapshots, one look each (see domain-survey.ts). */
  private readonly survey = new DomainSurvey();

  /** servesSurveys: whether a listing may answer later looks (only while libvirt delivers events, which tell what changed since). */
  constructor(private readonly conn: KeptConnection, private readonly servesSurveys: () => boolean = () => false) {}

  /** Handles belong to one connection: after a reconnect, everything is looked up again. */
  reset(): void {
    this.handles.clear();
    this.known = undefined;
    this.survey.clear();
  }

  /** A domain appeared (defined behind our back, seen by an event). */
  noteDefined(name: string): void {
    this.known?.add(name);
  }

  /** Something happened to the domain (an event): what the last listing read of it is no longer served. */
  changed(name: string): void {
    this.survey.changed(name);
  }

  forget(name: string): void {
    this.handles.delete(name);
    this.known?.delete(name);
    this.survey.changed(name);
  }

  /** fresh: look it up again, never from the last listing (deletions rely on it). */
  async get(name: string, fresh: boolean): Promise<DomainSnapshot | undefined> {
    if (!fresh && this.servesSurveys()) {
      const surveyed = this.survey.serve(name);
      if (surveyed) return surveyed;
    }
    if (fresh) this.handles.delete(name);
    const domain = await this.lookup(name, fresh);
    if (!domain) return undefined;
    try {
      return await this.snapshot(domain);
    } catch (err) {
      if (classify(err) !== 'absent') throw err;
      // The handle outlived its domain (undefined behind our back): ask once more.
      this.forget(name);
      const again = await this.lookup(name, true);
      return again ? this.snapshot(again) : undefined;
    }
  }

  /** The domain without its persistent definition: state, and the live XML while active. */
  async view(name: string): Promise<DomainView | undefined> {
    const domain = await this.lookup(name);
    if (!domain) return undefined;
    try {
      return await this.runningView(domain);
    } catch (err) {
      if (classify(err) !== 'absent') throw err;
      this.forget(name);
      const again = await this.lookup(name, true);
      return again ? this.runningView(again) : undefined;
    }
  }

  /**
   * Every domain, read in one native call (its state and both definitions). With serveLooks (a
   * resync's listing), each snapshot then also answers the next look at that domain, unless
   * something changed it meanwhile. Fails (never []) when the connection is gone.
   */
  async list(serveLooks = false): Promise<DomainSnapshot[]> {
    // Only a listing begun while events are delivered: a change during it is then heard of (domain-survey.ts).
    const snapshots = await this.survey.take(() => this.conn.call((c) => c.readAllDomains()), serveLooks && this.servesSurveys());
    this.known = new Set(snapshots.map((s) => s.name));
    return snapshots;
  }

  async activity(): Promise<DomainActivity> {
    const [inactive, activeIds] = await Promise.all([
      this.conn.call((c) => c.listDefinedDomainNames()),
      this.conn.call((c) => c.listActiveDomainIds()),
    ]);
    return { inactive, activeIds };
  }

  async nameOfActive(id: number): Promise<string | undefined> {
    try {
      return (await this.conn.call((c) => c.lookupDomainById(id))).name;
    } catch (err) {
      if (classify(err) === 'absent') return undefined;
      throw err;
    }
  }

  async define(xml: string): Promise<void> {
    const name = xmlName(xml);
    this.survey.changed(name);
    try {
      this.handles.set(name, await this.conn.call((c) => c.defineDomain(xml)));
      this.known?.add(name);
    } catch (err) {
      // Most likely it exists after all (defined behind our back): look it up next time.
      this.known?.add(name);
      this.handles.delete(name);
      throw err;
    }
  }

  /**
   * A call on a domain, by name; a stale handle (domain undefined and defined again by hand) is
   * refreshed once. Absent, busy and invalid-operation failures become the port's errors.
   */
  async on<T>(name: string, what: string, fn: (d: Domain) => Promise<T>): Promise<T> {
    this.survey.changed(name); // (a read too: cheaper than telling reads apart, and rare)
    try {
      const domain = await this.lookup(name, true);
      if (!domain) throw new HypervisorNotFoundError(`domain ${name} not found`);
      try {
        return await this.conn.call(() => fn(domain));
      } catch (err) {
        if (classify(err) !== 'absent') throw err;
        this.forget(name);
        const again = await this.lookup(name, true);
        if (!again) throw err;
        return await this.conn.call(() => fn(again));
      }
    } catch (err) {
      throw toPortError(err, `${what} ${name}`);
    }
  }

  /** Two or three calls: state with reason, persistent XML, and the live XML while active (name, uuid, id are known or in the XML). */
  private async snapshot(domain: Domain): Promise<DomainSnapshot> {
    const [view, persistentXml] = await Promise.all([
      this.runningView(domain),
      this.conn.call(() => domain.getXmlDesc({ inactive: true })),
    ]);
    return { ...view, persistentXml };
  }

  /** One or two calls: state with reason, then the live XML unless it is off. */
  private async runningView(domain: Domain): Promise<DomainView> {
    const { state, reason } = await this.conn.call(() => domain.getState());
    const { name, uuid } = domain;
    if (state === 'shutoff') return { name, uuid, state, reason };
    const liveXml = await this.conn.call(() => domain.getXmlDesc());
    const id = activeIdOf(liveXml);
    return { name, uuid, state, reason, liveXml, ...(id !== undefined ? { id } : {}) };
  }

  private async lookup(name: string, fresh = false): Promise<Domain | undefined> {
    const cached = this.handles.get(name);
    if (cached) return cached;
    if (!fresh && this.known && !this.known.has(name)) return undefined;
    try {
      const domain = await this.conn.call((c) => c.lookupDomainByName(name));
      this.handles.set(name, domain);
      this.known?.add(name);
      return domain;
    } catch (err) {
      if (classify(err) !== 'absent') throw err;
      this.known?.delete(name);
      return undefined;
    }
  }
}
