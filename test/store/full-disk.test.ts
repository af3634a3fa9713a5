// A full or read-only state directory, for real: a small tmpfs mounted by this test (root only).
// The controller keeps running, a failed status write is retried until it goes through, events
// are dropped with one warning, and nothing leaves temporary files behind.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SqliteEventLog } from '../../src/adapters/store/sqlite-event-log.js';
import { SqliteStatusStore } from '../../src/adapters/store/sqlite-status-store.js';
import { openStateDatabase, StateStoreError } from '../../src/adapters/store/state-database.js';
import { StateReader } from '../../src/adapters/store/state-reader.js';
import { main } from '../../src/cli/main.js';
import { createLogger } from '../../src/core/logger.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('full-disk tests skipped: mounting a small tmpfs needs root');

/** Fills the filesystem of `dir` to the last byte; returns the filler's path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    for (let size = 32 * 1024; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) writeSync(fd, chunk.subarray(0, size));
      } catch {
        // the next smaller piece
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** What is in a state directory besides the database, its WAL and the lock: must stay empty. */
const litter = (dir: string) => readdirSync(dir).filter((f) => !/^(state\.db(-wal|-shm)?|controller\.lock|overlays|filler)$/.test(f));

const vm = (name: string, printableStatus: string, padding = '') => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z', annotations: { padding } },
  spec: { runStrategy: 'Always' }, status: { printableStatus },
});

describe.skipIf(!isRoot)('a full or read-only state directory (a real tmpfs)', () => {
  let mnt: string;
  let readOnly: string;
  beforeAll(() => {
    mnt = mkdtempSync(join(tmpdir(), 'wimaxvm-full-'));
    readOnly = mkdtempSync(join(tmpdir(), 'wimaxvm-ro-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'wimaxvm-test', mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'wimaxvm-test', readOnly]);
  });
  afterAll(() => {
    for (const dir of [mnt, readOnly]) {
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    }
  });

  it('a status write on a full disk throws an Error and changes nothing; freed, the retry goes through', async () => {
    const stateDir = join(mnt, 'store');
    const state = openStateDatabase(stateDir);
    const logs: string[] = [];
    try {
      const store = new SqliteStatusStore(state);
      const events = new SqliteEventLog(state, createLogger({ format: 'json', write: (l) => logs.push(l) }));
      await store.write('VirtualMachine/default/a', vm('a', 'Running'));
      const filler = fill(mnt);

      const big = 'x'.repeat(512 * 1024); // more than the WAL has room for
      const failed = store.write('VirtualMachine/default/a', vm('a', 'Stopped', big));
      await expect(failed).rejects.toThrow(StateStoreError);
      await expect(failed).rejects.toThrow(/full/);
      expect(store.get('VirtualMachine/default/a')?.status.printableStatus).toBe('Running');
      for (let i = 0; i < 3; i++) expect(() => events.record('VirtualMachine/default/a', 'Warning', 'Big', big)).not.toThrow();
      expect(logs.filter((l) => l.includes('cannot record events'))).toHaveLength(1);
      expect(litter(stateDir)).toEqual([]);

      rmSync(filler);
      await store.write('VirtualMachine/default/a', vm('a', 'Stopped', big));
      expect(store.get('VirtualMachine/default/a')?.status.printableStatus).toBe('Stopped');
      const reader = StateReader.open(stateDir)!;
      expect(reader.objects('VirtualMachine', 'default', 'a')[0]?.status.printableStatus).toBe('Stopped');
      reader.close();
    } finally {
      state.close();
    }
  });

  it('the controller keeps running while the disk is full and stores the status once there is room', async () => {
    const stateDir = join(mnt, 'controller');
    const h = await Harness.create({ flags: { 'state-dir': stateDir }, files: { 'a.yaml': vmYaml({ name: 'fd-1' }) } });
    try {
      await h.start();
      await h.waitForStatus('fd-1', 'Running');
      const filler = fill(mnt);
      // Status writes now fail: every new VM's first status (and the WAL growing) needs room.
      h.write('b.yaml', Array.from({ length: 30 }, (_, i) => vmYaml({ name: `fd-b${i}`, extra: `  # ${'p'.repeat(2000)}` })).join('---\n'));
      await eventually(() => h.logs.some((l) => l.includes('reconcile failed, retrying with backoff') && /full/.test(l)), 'a status write to fail on the full disk');
      expect(h.logs.filter((l) => l.includes('cannot record events')).length).toBeLessThanOrEqual(1);
      await eventually(() => h.domain('fd-b0'), 'libvirt work to go on: fd-b0 defined');

      rmSync(filler);
      for (let i = 0; i < 30; i++) await h.waitForStatus(`fd-b${i}`, 'Running');
      const reader = StateReader.open(stateDir)!;
      expect(reader.objects('VirtualMachine', 'default').filter((o) => o.status?.printableStatus === 'Running')).toHaveLength(31);
      reader.close();
      expect(litter(stateDir)).toEqual([]);
    } finally {
      await h.dispose();
    }
  });

  it('`run` on a read-only state directory ends at once with one line and exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-vms-'));
    let err = '';
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
    let code: number;
    try {
      code = await main(['run', '--dir', dir, '--state-dir', readOnly, '--listen', 'off', '--log-level', 'warn']);
    } finally {
      e.mockRestore();
    }
    expect(code).toBe(1);
    expect(err).toBe(`error: cannot open the controller lock in ${readOnly}: EROFS: read-only file system, access '${readOnly}'\n`);
  });
});
