// The built CLI runs from a one-file bundle (dist/cli.cjs, scripts/bundle-cli.mjs) for the
// commands a user waits for, and from dist/src/ for the others. The bundle must answer exactly as
// the compiled modules do, including the exit codes of errors raised on the far side of the
// bundle's edge (other-commands.ts); and a reader that stops early ends the CLI quietly.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStateDatabase } from '../../src/adapters/store/state-database.js';
import { SqliteStatusStore } from '../../src/adapters/store/sqlite-status-store.js';

const base = mkdtempSync(join(tmpdir(), 'wimaxvm-bundle-'));
const stateDir = join(base, 'state');
const env = { ...process.env, WIMAXVM_STATE_HOME: join(base, 'state-home'), WIMAXVM_DIR: '', WIMAXVM_DEBUG: '' };
/** The compiled modules without the bundle: what bin/wimaxvm.js runs when dist/cli.cjs is missing. */
const UNBUNDLED = ['--input-type=module', '-e', "import { main } from './dist/src/cli/main.js'; process.exitCode = await main(process.argv.slice(1));", '--'];

interface Ran { code: number | null; out: string; err: string }

/** Runs node with `args`; `closeStdout`: closes the reading end of its stdout at once, as `| head -0` does. */
function node(args: string[], closeStdout = false): Promise<Ran> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  if (closeStdout) child.stdout.destroy();
  else child.stdout.on('data', (chunk) => (out += String(chunk)));
  child.stderr.on('data', (chunk) => (err += String(chunk)));
  // The age of the stored status ("as of 13s ago") moves while the two run.
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err: err.replace(/as of \d+s ago/, 'as of Ns ago') })));
}

const bundled = (...args: string[]) => node(['bin/wimaxvm.js', ...args]);
const unbundled = (...args: string[]) => node([...UNBUNDLED, ...args]);

beforeAll(async () => {
  const state = openStateDatabase(stateDir);
  const store = new SqliteStatusStore(state);
  for (let i = 0; i < 30; i++) {
    await store.write(`VirtualMachine/default/bundle-${i}`, {
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
      metadata: { name: `bundle-${i}`, namespace: 'default', uid: `u${i}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z', labels: { half: String(i % 2) } },
      spec: { runStrategy: 'Always' },
      status: { printableStatus: i % 3 ? 'Running' : 'Stopped', observedGeneration: 1, allocations: { vlan: 2 + i, mac: `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}` } },
    });
  }
  state.close();
});

describe('the bundled CLI answers as the compiled modules do', () => {
  it('the same output, error text and exit code, command by command', async () => {
    const variants = [
      ['--help'], ['version'], ['__complete', 'get', 'vms', '--state-dir', stateDir, 'bundle-1'],
      ['get', 'vms', '-o', 'wide', '-l', 'half=1', '--state-dir', stateDir], ['get', 'vm', 'bundle-7', '-o', 'yaml', '--state-dir', stateDir],
      ['describe', 'vm', 'bundle-3', '--state-dir', stateDir], ['vmlist', '--state-dir', stateDir],
      // Usage errors on both sides of the bundle's edge: exit 2 and the hint, not a failure (exit 1).
      ['get', 'frob'], ['frob'], ['run', '--workers', 'many'], ['start'],
    ];
    for (const args of variants) {
      const [a, b] = await Promise.all([bundled(...args), unbundled(...args)]);
      expect(a, args.join(' ')).toEqual(b);
    }
    const usage = await bundled('run', '--workers', 'many');
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/^error: .*\nRun 'wimaxvm help' for usage\.\n$/);
  }, 180_000); // 23 CLI processes: a few seconds on a quiet machine, a minute at load 20
});

describe('a reader that stops early', () => {
  it('ends the CLI quietly (no EPIPE stack), with the status of a process killed by SIGPIPE', async () => {
    const r = await node(['bin/wimaxvm.js', 'get', 'vms', '-o', 'json', '--state-dir', stateDir], true);
    expect(r.err).not.toMatch(/EPIPE|Error/);
    expect(r.code).toBe(141);
  });
});
