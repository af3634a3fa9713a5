// A source as the deletion gate's witness, for reconciler tests: by default every undeclared
// resource counts as deleted; `block(why)` makes it vouch for nothing, `keep(key)` for one key.
import type { ResourceKey } from '../../src/api/meta.js';
import type { Absence, AbsenceWitness } from '../../src/core/deletion-gate.js';

export class FakeWitness implements AbsenceWitness {
  private blockedWhy: string | undefined;
  private readonly kept = new Set<ResourceKey>();

  block(why: string | undefined): void {
    this.blockedWhy = why;
  }

  keep(key: ResourceKey): void {
    this.kept.add(key);
  }

  absence(key: ResourceKey): Absence {
    if (this.blockedWhy) return { confirmed: false, why: this.blockedWhy };
    if (this.kept.has(key)) return { confirmed: false, why: 'kept by the test' };
    return { confirmed: true, evidence: 'removed by the test' };
  }

  blocked(): string | undefined {
    return this.blockedWhy;
  }
}

/** The identity reconciler tests run as. */
export const TEST_IDENTITY = { self: 'file://test-host/test-dir' };
