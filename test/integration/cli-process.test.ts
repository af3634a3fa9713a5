// The built CLI as a user runs it (node bin/wimaxvm.js, its own process): one-line errors with
// libvirt's own message, a documented exit code, no stack unless asked; one controller per
// directory; the reading commands find the controller's state from --dir alone.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireControllerLock, readLockHolder } from '../../src/adapters/store/controller-lock.js';
import { defaultStateDir } from '../../src/config.js';
import { spawnCli, type CliChild } from '../helpers/cli-child.js';
import { eventually, vmYaml } from '../helpers/harness.js';

const stateHome = mkdtempSync(join(tmpdir(), 'wimaxvm-statehome-'));
const env = { ...process.env, WIMAXVM_STATE_HOME: stateHome, WIMAXVM_DEBUG: '' };

function start(args: string[], extraEnv: Record<string, string> = {}): CliChild {
  return spawnCli(args, { ...env, ...extraEnv });
}

async function wimaxvm(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = start(args, extraEnv);
  const code = await child.done;
  return { code, out: child.out(), err: child.err() };
}

describe('CLI errors', () => {
  // Regression: libvirt errors carry a numeric code; `err.code?.startsWith` crashed the CLI with a TypeError.
  it('vmstat with an unknown libvirt URI: one line with libvirt\'s message, exit 1', async () => {
    const r = await wimaxvm(['vmstat', 'vm30', '--connect', 'bogus:///x']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: no connection driver available for bogus:///x\n');
  });

  it('run with an unknown libvirt URI: one line with libvirt\'s message, exit 1, no stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-vms-'));
    const quiet = await wimaxvm(['run', '--dir', dir, '--connect', 'bogus:///x', '--listen', 'off', '--log-level', 'warn']);
    expect(quiet.code).toBe(1);
    expect(quiet.err).toBe('error: libvirt: no connection driver available for bogus:///x\n');
    // With the default log level the start is logged too, and the error is still one line without a stack.
    const r = await wimaxvm(['run', '--dir', dir, '--connect', 'bogus:///x', '--listen', 'off']);
    expect(r.code).toBe(1);
    expect(r.err.split('\n').filter((l) => l.startsWith('error:'))).toEqual(['error: libvirt: no connection driver available for bogus:///x']);
    expect(r.err).not.toMatch(/^\s+at /m);
    expect(readLockHolder(defaultStateDir(dir, env))).toBeUndefined(); // a failed start gives the lock back
  });

  it('shows the stack with --log-level debug or WIMAXVM_DEBUG=1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-vms-'));
    const r = await wimaxvm(['run', '--dir', dir, '--connect', 'bogus:///x', '--listen', 'off', '--log-level', 'debug']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: libvirt: no connection driver available for bogus:\/\/\/x\n/m);
    expect(r.err).toMatch(/^\s+at /m);
    const v = await wimaxvm(['vmstat', 'vm30', '--connect', 'bogus:///x'], { WIMAXVM_DEBUG: '1' });
    expect(v.err).toMatch(/^error: no connection driver available for bogus:\/\/\/x\n(.*\n)?\s+at /);
  });

  it('usage errors exit 2', async () => {
    const r = await wimaxvm(['get', 'pods']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: unknown resource type "pods".*\nRun 'wimaxvm help' for usage\.\n$/);
  });
});

describe('one controller per directory', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  });

  it('a second run on a directory whose lock is held ends with exit 1 and names the holder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-vms-'));
    const lock = acquireControllerLock(defaultStateDir(dir, env), { directory: dir, identity: 'test', listen: 'off' });
    try {
      const r = await wimaxvm(['run', '--dir', dir, '--listen', 'off', '--log-level', 'warn']);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`error: another wimaxvm controller (pid ${process.pid} on ${hostname()}, directory ${dir}, started ${lock.holder.startedAt}) holds ${join(defaultStateDir(dir, env), 'state.db')}\n`);
    } finally {
      lock.release();
    }
  });

  it('a real controller: a second is refused; get finds its state from --dir; after it stops, get says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-vms-'));
    writeFileSync(join(dir, 'vm.yaml'), vmYaml({ name: 'proc-1' }));
    const first = start(['run', '--dir', dir, '--listen', 'off', '--poll', '100ms']);
    children.push(first);
    const stateDir = defaultStateDir(dir, env);
    await eventually(() => readLockHolder(stateDir)?.pid === first.pid, 'the first controller to hold the lock');

    const second = await wimaxvm(['run', '--dir', dir, '--listen', 'off', '--log-level', 'warn']);
    expect(second.code).toBe(1);
    expect(second.err).toMatch(new RegExp(`^error: another wimaxvm controller \\(pid ${first.pid} on .*, directory ${dir}, started .*\\) holds ${stateDir}/state\\.db\\n$`));

    const running = await eventually(async () => {
      const r = await wimaxvm(['get', 'vms', '--dir', dir]);
      return /^proc-1\s+Running\s/m.test(r.out) ? r : undefined;
    }, 'get vms --dir to show proc-1 Running');
    expect(running.err).toBe('');

    process.kill(first.pid!, 'SIGTERM');
    expect(await first.done).toBe(0);
    const stale = await wimaxvm(['get', 'vms', '--dir', dir]);
    expect(stale.code).toBe(0);
    expect(stale.out).toMatch(/^proc-1\s+Running\s/m);
    expect(stale.err).toMatch(new RegExp(`^no controller is running for ${dir}; showing status as of \\d+s ago\\n$`));
  });
});

describe('version', () => {
  it('--version and version print the package version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const args of [['--version'], ['version']]) {
      const r = await wimaxvm(args);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`wimaxvm ${version}\n`);
    }
    expect((await wimaxvm(['version', 'extra'])).code).toBe(2);
  });
});

describe('get -w in its own process', () => {
  it('prints changes as the controller writes them and ends with exit 0 on SIGTERM and on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-vms-'));
    writeFileSync(join(dir, 'vm.yaml'), vmYaml({ name: 'pw-1', runStrategy: 'Halted' }));
    const controller = start(['run', '--dir', dir, '--listen', 'off', '--poll', '100ms']);
    try {
      await eventually(async () => /^pw-1\s+Stopped\s/m.test((await wimaxvm(['get', 'vms', '--dir', dir])).out), 'pw-1 Stopped');
      for (const [signal, verb, want] of [['SIGTERM', 'start', 'Running'], ['SIGINT', 'stop', 'Stopped']] as const) {
        const watch = start(['get', 'vms', '-w', '--dir', dir]);
        await eventually(() => /^pw-1\s/m.test(watch.out()), 'the first list');
        expect((await wimaxvm([verb, 'pw-1', '--dir', dir])).code).toBe(0);
        const changes = () => watch.out().split('\n').slice(2).join('\n'); // after the header and the first list
        await eventually(() => new RegExp(`^pw-1\\s+${want}\\s`, 'm').test(changes()), `a line for pw-1 ${want}`);
        process.kill(watch.pid!, signal);
        expect(await watch.done).toBe(0);
        expect(watch.err()).toBe('');
      }
    } finally {
      process.kill(controller.pid!, 'SIGTERM');
      await controller.done;
    }
  });
});

describe('Kubernetes mode without a cluster configuration', () => {
  it('refuses to start (no fallback to localhost:8080): one line, exit 2', async () => {
    const home = mkdtempSync(join(tmpdir(), 'wimaxvm-home-'));
    const r = await wimaxvm(['run', '--source', 'kube', '--listen', 'off', '--log-level', 'warn'], { HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG/);
  });
});

describe('signals', () => {
  it('SIGINT while the start waits for a cluster that does not answer: a graceful stop, exit 0', async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'wimaxvm-kc-')), 'config');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: down',
      'clusters: [{name: down, cluster: {server: "http://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
      'users: [{name: down, user: {}}]', 'contexts: [{name: down, context: {cluster: down, user: down}}]',
    ].join('\n') + '\n');
    const child = start(['run', '--source', 'kube', '--kubeconfig', kubeconfig, '--listen', 'off']);
    await eventually(() => child.err().includes('watch failed'), 'the first failed list');
    process.kill(child.pid!, 'SIGINT');
    expect(await child.done).toBe(0);
    expect(child.err()).toContain('stopped before it had started');
  });
});
