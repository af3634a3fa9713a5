// The real guest's build cache (test/helpers/real-guest/cache.ts): one build for many callers,
// nothing half-built ever visible, a dead builder's lock taken over, a failed build retried.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedBuild } from '../helpers/real-guest/cache.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A build that takes a while, writes its output in two steps and counts its runs. */
function slowBuild(counter: { runs: number }) {
  return async (out: string) => {
    counter.runs++;
    writeFileSync(join(out, 'half'), 'x');
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(out, 'guest.qcow2'), 'disk');
  };
}

describe('the real guest build cache', () => {
  it('builds once for concurrent callers, each seeing only the finished result', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wimaxvm-guest-cache-'));
    const counter = { runs: 0 };
    const results = await Promise.all([1, 2, 3].map(() => cachedBuild(join(dir, 'builds'), 'k1', async (out) => {
      await slowBuild(counter)(out);
    })));
    expect(counter.runs).toBe(1);
    expect(new Set(results)).toEqual(new Set([join(dir, 'builds', 'k1')]));
    expect(readFileSync(join(results[0]!, 'guest.qcow2'), 'utf8')).toBe('disk');
    expect(statSync(results[0]!).mode & 0o777).toBe(0o755); // libvirt's qemu user reads the image
    expect(readdirSync(join(dir, 'builds'))).toEqual(['k1']); // no lock, no temporary directory left
    expect(await cachedBuild(join(dir, 'builds'), 'k1', slowBuild(counter))).toBe(results[0]);
    expect(counter.runs).toBe(1);
  });

  it("takes over the lock of a builder that died, and retries after a failed build", async () => {
    dir = mkdtempSync(join(tmpdir(), 'wimaxvm-guest-cache-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!; // exited: its pid is free
    const builds = join(dir, 'builds');
    await expect(cachedBuild(builds, 'k2', async () => { throw new Error('mkfs.vfat failed'); })).rejects.toThrow('mkfs.vfat failed');
    expect(readdirSync(builds)).toEqual([]);
    writeFileSync(join(builds, 'k2.lock'), String(dead));
    const counter = { runs: 0 };
    expect(await cachedBuild(builds, 'k2', slowBuild(counter))).toBe(join(builds, 'k2'));
    expect(counter.runs).toBe(1);
    expect(existsSync(join(builds, 'k2.lock'))).toBe(false);
  });
});
