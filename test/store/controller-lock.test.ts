// One controller per state database: the lock, who holds it, and a holder that dies (a real
// second process, killed by its pid) never blocking the next controller.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireControllerLock, LockHeldError, readLockHolder } from '../../src/adapters/store/controller-lock.js';
import { eventually } from '../helpers/harness.js';

const facts = { directory: '/srv/vms', identity: 'host:/srv/vms', listen: '127.0.0.1:5012' };

/** Starts a process that takes the lock; resolves once it says it holds it. */
function holdInChild(stateDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'hold-controller-lock.mjs'), stateDir, '/child/watched'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      if (out.includes('held\n')) resolve(child);
      else if (out.includes('failed')) reject(new Error(out));
    });
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}: ${out}`)));
  });
}

describe('controller lock', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  });

  it('is held once: a second acquire names the holder; release lets the next one in', () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'wimaxvm-lock-')), 'state');
    expect(readLockHolder(stateDir)).toBeUndefined();
    const lock = acquireControllerLock(stateDir, facts);
    expect(lock.holder).toMatchObject({ ...facts, pid: process.pid, hostname: hostname() });
    expect(readLockHolder(stateDir)).toEqual(lock.holder);

    let error: unknown;
    try {
      acquireControllerLock(stateDir, { ...facts, directory: '/other' }, 50);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as Error).message).toBe(
      `another wimaxvm controller (pid ${process.pid} on ${hostname()}, directory /srv/vms, started ${lock.holder.startedAt}) holds ${join(stateDir, 'state.db')}`);

    lock.release();
    expect(readLockHolder(stateDir)).toBeUndefined();
    const next = acquireControllerLock(stateDir, facts);
    expect(readLockHolder(stateDir)?.startedAt).toBe(next.holder.startedAt);
    next.release();
  });

  it('a probe by a reader does not keep a controller from starting', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wimaxvm-lock-'));
    acquireControllerLock(stateDir, facts).release();
    for (let i = 0; i < 20; i++) {
      expect(readLockHolder(stateDir)).toBeUndefined();
      const lock = acquireControllerLock(stateDir, facts);
      expect(readLockHolder(stateDir)?.pid).toBe(process.pid);
      lock.release();
    }
  });

  it('held by another process: refused with its pid; once that process is killed, the next controller starts', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wimaxvm-lock-'));
    const child = await holdInChild(stateDir);
    children.push(child);

    expect(readLockHolder(stateDir)).toMatchObject({ pid: child.pid, directory: '/child/watched', identity: 'test-holder' });
    expect(() => acquireControllerLock(stateDir, facts, 50)).toThrow(new RegExp(`^another wimaxvm controller \\(pid ${child.pid} on .*, directory /child/watched, started .*\\) holds ${join(stateDir, 'state.db')}$`));

    // A crash: no release, no cleanup. SQLite's locks go with the process.
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGKILL');
    await exited;
    expect(readLockHolder(stateDir)).toBeUndefined();
    const lock = await eventually(() => acquireControllerLock(stateDir, facts), 'the lock after the holder died');
    expect(readLockHolder(stateDir)?.pid).toBe(process.pid);
    lock.release();
  });

  it('a second process is refused while this one holds the lock', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wimaxvm-lock-'));
    const lock = acquireControllerLock(stateDir, facts);
    try {
      await expect(holdInChild(stateDir)).rejects.toThrow(`failed: another wimaxvm controller (pid ${process.pid} on ${hostname()}, directory /srv/vms`);
    } finally {
      lock.release();
    }
  });
});
