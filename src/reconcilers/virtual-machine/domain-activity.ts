// What the last reconciles saw of each domain (active or not, and the id of a running one), so a
// poller can tell the controller's own changes from changes made by hand.
import type { Observed } from './observe.js';
import { isActive } from './plan.js';

export class DomainActivity {
  /** Whether each domain was active when last observed. */
  private readonly activity = new Map<string, 'active' | 'inactive'>();
  private readonly everSeen = new Set<string>();
  private readonly namesById = new Map<number, string>();
  private readonly idOf = new Map<string, number>();

  /** 'absent' once it is gone, undefined if never seen. */
  lastObserved(domainName: string): 'active' | 'inactive' | 'absent' | undefined {
    return this.activity.get(domainName) ?? (this.everSeen.has(domainName) ? 'absent' : undefined);
  }

  /** The name of the domain last observed active with this id. */
  nameOfId(id: number): string | undefined {
    return this.namesById.get(id);
  }

  note(domainName: string, observed: Observed | undefined): void {
    this.everSeen.add(domainName);
    if (observed) this.activity.set(domainName, isActive(observed.state) ? 'active' : 'inactive');
    else this.activity.delete(domainName);
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
