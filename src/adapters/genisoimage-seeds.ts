// Seed images with genisoimage: an iso9660 volume labelled cidata with Joliet and Rock Ridge
// names (meta-data and user-data are not 8.3 names), as cloud-localds makes them. iso9660 because
// the seed is a CD-ROM, which is what every guest kernel reads one from; genisoimage because it
// is what cloud-init's own tooling uses, one small Debian package, and run only when a seed's
// content changes (never per reconcile).
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from '../observability/counted-child-process.js';
import type { SeedImages } from '../ports/seed-images.js';
import { SEED_LABEL, type NoCloudSeed } from '../seed/nocloud-seed.js';
import { domainDiskDir } from './qemu-img-disks.js';

const run = promisify(execFile);

/** The seed's file name in the domain's overlay folder; its content digest sits next to it. */
const SEED_FILE = 'cidata.iso';
const DIGEST_FILE = 'cidata.digest';

export class GenisoimageSeeds implements SeedImages {
  constructor(private readonly overlayDir: string) {}

  seedPath(domainName: string): string {
    return join(domainDiskDir(this.overlayDir, domainName), SEED_FILE);
  }

  async ensureSeed(domainName: string, seed: NoCloudSeed): Promise<string> {
    const dir = domainDiskDir(this.overlayDir, domainName);
    const path = join(dir, SEED_FILE);
    if (await this.madeFrom(dir, path) === seed.digest) return path;
    // libvirtd runs guests as its own user: the folder must be traversable by it (as for overlays).
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const staging = join(dir, `.cidata-${process.pid}`);
    const tmp = `${path}.tmp-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging);
    try {
      const names = Object.keys(seed.files) as (keyof NoCloudSeed['files'])[];
      for (const name of names) await writeFile(join(staging, name), seed.files[name]!);
      try {
        await run('genisoimage', ['-quiet', '-output', tmp, '-volid', SEED_LABEL, '-joliet', '-rock', ...names.map((n) => join(staging, n))]);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('genisoimage is not installed (Debian package genisoimage): it makes the cloud-init seeds of VMs with spec.cloudInit or a pooled address');
        throw err;
      }
      // A running guest keeps the image it has open; the next boot sees the new one.
      await rename(tmp, path);
      await writeFile(join(dir, DIGEST_FILE), `${seed.digest}\n`);
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(tmp, { force: true });
    }
    return path;
  }

  /** The digest of the content the image at `path` was made from; undefined if unknown or absent. */
  private async madeFrom(dir: string, path: string): Promise<string | undefined> {
    try {
      await access(path);
      return (await readFile(join(dir, DIGEST_FILE), 'utf8')).trim();
    } catch {
      return undefined;
    }
  }
}
