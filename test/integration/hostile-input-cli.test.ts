// The built CLI in its own process against hostile files (issue 15, 4, 6, 10): `run` with a broken
// file present at start comes up, logs the error with file and line as JSON, applies the valid
// files and stops cleanly; the YAML library's warnings reach the log as JSON, never raw on stderr;
// `validate` reports every file, broken ones with file:line, and goes on to the next.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli-child.js';
import { eventually, vmYaml } from '../helpers/harness.js';

const stateHome = mkdtempSync(join(tmpdir(), 'wimaxvm-hostile-state-'));
const env = { ...process.env, WIMAXVM_STATE_HOME: stateHome, WIMAXVM_DEBUG: '' };
const HEAD = 'apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n';

function files(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-hostile-vms-'));
  writeFileSync(join(dir, 'good.yaml'), vmYaml({ name: 'hc-good' }));
  writeFileSync(join(dir, 'alias.yaml'), `${HEAD}  name: hc-alias\n  labels: *nope\nspec: {}\n`);
  writeFileSync(join(dir, 'deep.yaml'), `${HEAD}  name: hc-deep\nspec:\n  disks: ${'['.repeat(100_000)}\n`);
  // A tag the library does not know: a warning, the document still valid.
  writeFileSync(join(dir, 'tagged.yaml'), `${HEAD}  name: hc-tagged\n  labels: &l {app: !mytag lab}\nspec: {}\n`);
  return dir;
}

function run(args: string[]) {
  const child = spawnCli(args, env);
  return { child, out: child.out, err: child.err, done: child.done };
}

describe('hostile files and the CLI process', () => {
  it('run with broken files at start: up, every error as JSON with file and line, the valid VM running, a clean stop', async () => {
    const dir = files();
    const c = run(['run', '--dir', dir, '--connect', 'test:///default', '--listen', 'off', '--log-format', 'json', '--poll', '100ms']);
    try {
      const lines = () => c.err().split('\n').filter(Boolean);
      const logged = () => lines().map((l) => JSON.parse(l) as Record<string, unknown>);
      await eventually(() => logged().some((l) => l.msg === 'directory source synced'), 'the source synced');
      await eventually(() => logged().some((l) => l.msg === 'started hc-good'), 'hc-good started');
      const entries = logged();
      expect(entries).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/^invalid manifest: alias\.yaml:1: YAML: Unresolved alias/), file: 'alias.yaml', line: 1 }));
      expect(entries).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/^invalid manifest: deep\.yaml:6: collections are nested more than 64 deep/), file: 'deep.yaml', line: 6 }));
      expect(entries).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/^manifest warning: tagged\.yaml:5: YAML: .*!mytag/), file: 'tagged.yaml', line: 5 }));
      expect(c.out()).toBe('');
      for (const line of lines()) expect(() => JSON.parse(line), line).not.toThrow();
    } finally {
      c.child.kill('SIGTERM');
    }
    expect(await c.done).toBe(0);
  });

  it('validate reports each broken file with its line and goes on to the others, exit 1', async () => {
    const dir = files();
    const c = run(['validate', ...['alias.yaml', 'deep.yaml', 'good.yaml', 'tagged.yaml'].map((f) => join(dir, f))]);
    expect(await c.done).toBe(1);
    expect(c.err()).toMatch(new RegExp(`^${join(dir, 'alias.yaml')}:1: YAML: Unresolved alias`, 'm'));
    expect(c.err()).toMatch(new RegExp(`^${join(dir, 'deep.yaml')}:6: collections are nested more than 64 deep`, 'm'));
    expect(c.err()).toMatch(new RegExp(`^${join(dir, 'tagged.yaml')}:5: warning: YAML: .*!mytag`, 'm'));
    expect(c.err()).toMatch(/^2 of 4 file\(s\) invalid$/m);
  });
});
