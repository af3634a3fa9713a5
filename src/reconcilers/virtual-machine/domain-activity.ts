// What the last reconciles saw of each domain (its state, active or not, and the id of a running
// one), and which domains a reconcile is busy with, so a poller or an event can tell the
// controller's own changes from changes made by hand.
import type { DomainState } from '../../ports/hypervisor.js';
import type { Observed } from './observe.js';
import { isActive } from './plan.js';

export class DomainActivity {
  /** Whether each domain was active when last observed. */
  private readonly activity = new Map<string, 'active' | 'inactive'>();
  private readonly everSeen = new Set<string>();
  private readonly namesById = new Map<number, string>();
  private readonly idOf = new Map<string, number>();
  private readonly states = new Map<string, DomainState>();
  /** Domains a reconcile is at work on, with what to run once it is done. */
  private readonly busy = new Map<string, { depth: number; then: (() => void)[] }>();

  /** 'absent' once it is gone, undefined if never seen. */
  lastObserved(domainName: string): 'active' | 'inactive' | 'absent' | undefined {
    return this.activity.get(domainName) ?? (this.everSeen.has(domainName) ? 'absent' : undefined);
  }

  /** The state last observed; 'absent' once it is gone, undefined if never seen. */
  lastState(domainName: string): DomainState | 'absent' | undefined {
    return this.states.get(domainName) ?? (this.everSeen.has(domainName) ? 'absent' : undefined);
  }

  /** A reconcile of the domain begins (it will note what it saw and did). */
  begin(domainName: string): void {
    const entry = this.busy.get(domainName);
    if (entry) entry.depth++;
    else this.busy.set(domainName, { depth: 1, then: [] });
  }

  end(domainName: string): void {
    const entry = this.busy.get(domainName);
    if (!entry || --entry.depth > 0) return;
    this.busy.delete(domainName);
    for (const fn of entry.then) fn();
  }

  /** Runs `fn` once no reconcile of the domain is in flight (now, if none is). */
  whenSettled(domainName: string, fn: () => void): void {
    const entry = this.busy.get(domainName);
    if (entry) entry.then.push(fn);
    else fn();
  }

  /** The name of the domain last observed active with this id. */
  nameOfId(id: number): string | undefined {
    return this.namesById.get(id);
  }

  note(domainName: string, observed: Observed | undefined): void {
    this.everSeen.add(domainName);
    if (observed) {
      this.activity.set(domainName, isActive(observed.state) ? 'active' : 'inactive');
      this.states.set(domainName, observed.state);
    } else {
      this.activity.delete(domainName);
      this.states.delete(domainName);
    }
    // Ids are per run of a domain: forget the old one, so the map stays one entry a running domain.
    const id = observed && isActive(observed.state) ? observed.snapshot.id : undefined;
    const old = this.idOf.get(domainName);
    if (old !== undefined && old !== id) {
      if (this.namesById.get(old) === domainName) this.namesById.delete(old);
      this.idOf.delete(domainName);
    }
    if (id !== undefined) {
      this.namesById.set(id, domainName);
      this.idOf.set(domainName, id);
    }
  }
}
