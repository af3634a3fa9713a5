// In-memory SeedImages: the seeds that would be written, by domain, and how many writes there were.
import type { SeedImages } from '../../src/ports/seed-images.js';
import type { NoCloudSeed } from '../../src/seed/nocloud-seed.js';

export class FakeSeedImages implements SeedImages {
  readonly seeds = new Map<string, NoCloudSeed>();
  writes = 0;
  /** Set to make the next ensureSeed fail. */
  failNext?: Error;

  constructor(private readonly overlayDir = '/var/lib/wimaxvm/overlays') {}

  seedPath(domainName: string): string {
    return `${this.overlayDir}/${domainName}/cidata.iso`;
  }

  async ensureSeed(domainName: string, seed: NoCloudSeed): Promise<string> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    if (this.seeds.get(domainName)?.digest !== seed.digest) {
      this.seeds.set(domainName, seed);
      this.writes++;
    }
    return this.seedPath(domainName);
  }
}
