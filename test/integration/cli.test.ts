// The CLI as a user runs it: the real main() over a real state directory written by a controller.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/harness.js';
import { cli } from '../helpers/run-cli.js';
import { Harness, manyVms, vmYaml } from '../helpers/harness.js';
import { acquireControllerLock } from '../../src/adapters/store/controller-lock.js';
import { SqliteStatusStore } from '../../src/adapters/store/sqlite-status-store.js';
import { openStateDatabase } from '../../src/adapters/store/state-database.js';
import { declaredSpec } from '../../src/cli/wait-for-observed.js';

describe('wimaxvm validate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-validate-'));
  const good = join(dir, 'good.yaml');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(good, manyVms([{ name: 'a' }, { name: 'b', runStrategy: 'Halted' }]));
  writeFileSync(bad, manyVms([{ name: 'c' }, { name: 'd', runStrategy: 'Sometimes', mac: '01:00:5e:00:00:01' }]));

  it('exits 0 and counts resources when every file is valid', async () => {
    const r = await cli('validate', good);
    expect(r.code).toBe(0);
    expect(r.out).toContain('2 resource(s) in 1 file(s) valid');
  });

  it('exits 1 with file:line errors for an invalid file', async () => {
    const r = await cli('validate', good, bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.yaml:15: spec\.runStrategy: Unsupported value: "Sometimes"/);
    expect(r.err).toMatch(/bad\.yaml:\d+: spec\.network\.mac: Invalid value: "01:00:5e:00:00:01"/);
    expect(r.err).toContain('1 of 2 file(s) invalid');
  });

  it('the same resource in two files: an error at both places, exit 1 (the controller would apply neither)', async () => {
    const other = join(dir, 'other.yaml');
    writeFileSync(other, `# a copy\n${manyVms([{ name: 'x' }, { name: 'b', runStrategy: 'Always' }])}`);
    const r = await cli('validate', good, other);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const sentence = `VirtualMachine default/b is declared in ${good}:10 and ${other}:11; neither declaration is applied until only one remains`;
    expect(r.err).toBe(`${good}:10: ${sentence}\n${other}:11: ${sentence}\n2 of 2 file(s) invalid\n`);
    // One file named twice is one file, not a duplicate.
    expect((await cli('validate', good, join(dir, '.', 'good.yaml'))).out).toBe('2 resource(s) in 1 file(s) valid\n');
  });

  it('exits 1 for a missing file and 2 for usage errors', async () => {
    expect((await cli('validate', join(dir, 'nope.yaml'))).code).toBe(1);
    expect((await cli('validate')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('get', 'pods')).code).toBe(2);
    expect((await cli('run', '--workers', '0')).code).toBe(2);
  });

  it('version and completion take --help and --log-level like every command', async () => {
    expect((await cli('version', '--log-level', 'debug')).out).toMatch(/^wimaxvm \d+\.\d+\.\d+/);
    expect((await cli('version', '--help')).out).toContain('wimaxvm version');
    expect((await cli('completion', 'bash', '--log-level', 'warn')).out).toContain('complete -o filenames -F _wimaxvm wimaxvm');
    expect((await cli('completion', 'fish')).code).toBe(2);
    expect((await cli('completion', '--log-level', 'loud', 'bash')).code).toBe(2);
  });

  it('help documents the exit codes', async () => {
    const r = await cli('help');
    expect(r.out).toContain('Exit codes: 0 success; 1 failure');
    expect(r.out).toContain('2 usage error');
  });

  it('validates the bundled examples', async () => {
    const r = await cli('validate', 'examples/vm30.yaml', 'examples/slices.yaml');
    expect(r.code).toBe(0);
  });
});

describe('wimaxvm get / describe', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.create({ files: { 'vms.yaml': manyVms([{ name: 'cli-1', mac: '52:52:52:52:52:52' }, { name: 'cli-2', runStrategy: 'Halted' }, { name: 'cli-3', namespace: 'lab' }]) } });
    await h.start();
    await h.waitForStatus('cli-1', 'Running');
    await h.waitForStatus('cli-2', 'Stopped');
    await h.settle();
  });
  afterAll(async () => h.dispose());

  it('get vms prints kubectl-style columns for the namespace', async () => {
    const r = await cli('get', 'vms', '--state-dir', h.stateDir);
    expect(r.code).toBe(0);
    expect(r.err).toBe(''); // a controller is running: no warning
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+VLAN\s+MAC\s+IP\s+EXPIRES\s+AGE$/);
    expect(lines[1]).toMatch(/^cli-1\s+Running\s+\d+\s+52:52:52:52:52:52\s+<none>\s+<none>\s+\d+s$/);
    expect(lines[2]).toMatch(/^cli-2\s+Stopped\s/);
    expect(lines).toHaveLength(3); // cli-3 is in namespace lab
    const all = await cli('get', 'vms', '-A', '--state-dir', h.stateDir);
    expect(all.out).toMatch(/^lab\s+cli-3\s/m);
  });

  it('get vm NAME -o yaml|json gives the object with status', async () => {
    const y = await cli('get', 'vm', 'cli-1', '-o', 'yaml', '--state-dir', h.stateDir);
    expect(y.out).toContain('printableStatus: Running');
    const j = JSON.parse((await cli('get', 'vm', 'cli-2', '-o', 'json', '--state-dir', h.stateDir)).out);
    expect(j.status.printableStatus).toBe('Stopped');
    expect(j.spec.runStrategy).toBe('Halted');
    const missing = await cli('get', 'vm', 'nope', '--state-dir', h.stateDir);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('"nope" not found');
  });

  it('describe shows conditions and events', async () => {
    const r = await cli('describe', 'vm', 'cli-1', '--state-dir', h.stateDir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Ready\s+True\s+Running/);
    expect(r.out).toMatch(/Normal\s+Defined\s/);
    expect(r.out).toMatch(/Normal\s+Started\s/);
    expect(r.out).toContain('Source:         vms.yaml:1');
  });
});

describe('wimaxvm start | stop | restart | addclient | apply | delete | vmstat (edits of desired state)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.create({ files: { 'lab.yaml': `# the lab\n${manyVms([{ name: 'ed-1', runStrategy: 'Halted' }])}` } });
    await h.start();
    await h.waitForStatus('ed-1', 'Stopped');
  });
  afterAll(async () => h.dispose());
  const edit = (...args: string[]) => cli(...args, '--dir', h.dir);

  it('start --wait: the file says Always, the controller reports Running; the comment stays', async () => {
    const r = await edit('start', 'ed-1', '--wait', '20s', '--state-dir', h.stateDir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('virtualmachine/ed-1 runStrategy set to Always');
    expect(r.out).toContain('virtualmachine/ed-1 Running');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(h.dir, 'lab.yaml'), 'utf8')).toContain('# the lab');
  });

  it('restart: a graceful restart, the domain gets a new id', async () => {
    const before = (await h.domain('ed-1'))!.id;
    expect((await edit('restart', 'ed-1')).code).toBe(0);
    await eventually(async () => (await h.domain('ed-1'))?.id !== before && (await h.domain('ed-1'))?.state === 'running', 'restarted');
    await eventually(() => h.status('ed-1')?.restartedAt !== undefined, 'restartedAt in status');
  });

  it('vmstat prints the domain XML', async () => {
    const r = await cli('vmstat', 'ed-1', '--connect', 'test:///default');
    expect(r.code).toBe(0);
    expect(r.out).toContain('<name>ed-1</name>');
    expect((await cli('vmstat', 'nope', '--connect', 'test:///default')).code).toBe(1);
  });

  it('addclient declares a station, and moves it on a second call', async () => {
    const r = await edit('addclient', '00:11:22:33:44:AA', 'ed-1');
    expect(r.out).toContain('wimaxclient/wxc-0011223344aa created');
    const again = await edit('addclient', '00:11:22:33:44:aa', 'ed-2');
    expect(again.out).toContain('wimaxclient/wxc-0011223344aa configured');
  });

  it('apply -f creates and configures; delete removes and the VM goes', async () => {
    const file = join(h.dir, '..', 'apply.yaml');
    writeFileSync(file, manyVms([{ name: 'ed-2' }, { name: 'ed-1', runStrategy: 'Halted' }]));
    const r = await edit('apply', '-f', file);
    expect(r.code).toBe(0);
    expect(r.out).toContain('virtualmachine/ed-2 created');
    expect(r.out).toContain('virtualmachine/ed-1 configured');
    await h.waitForStatus('ed-2', 'Running');
    await h.waitForStatus('ed-1', 'Stopped');
    expect((await edit('delete', 'vm', 'ed-2')).out).toContain('virtualmachine/ed-2 deleted');
    await eventually(async () => (await h.domain('ed-2')) === undefined, 'ed-2 undefined');
  });

  it('errors: unknown VM exits 1, an invalid edit exits 1 and changes nothing, bad usage exits 2', async () => {
    const missing = await edit('start', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('NotFound');
    const bad = join(h.dir, '..', 'bad.yaml');
    writeFileSync(bad, manyVms([{ name: 'ed-3', runStrategy: 'Sometimes' }]));
    expect((await edit('apply', '-f', bad)).code).toBe(1);
    expect((await edit('start')).code).toBe(2);
    expect((await edit('delete', 'pods', 'x')).code).toBe(2);
  });
});

describe('reading with no controller running', () => {
  it('get and describe say so, with the age of what they show', async () => {
    const h = await Harness.create({ files: { 'vms.yaml': manyVms([{ name: 'gone-1' }]) } });
    await h.start();
    await h.waitForStatus('gone-1', 'Running');
    await h.dispose();
    const r = await cli('get', 'vms', '--dir', h.dir, '--state-dir', h.stateDir);
    expect(r.out).toMatch(/^gone-1\s+Running\s/m);
    expect(r.err).toMatch(new RegExp(`^no controller is running for ${h.dir}; showing status as of \\d+s ago\n$`));
    const d = await cli('describe', 'vm', 'gone-1', '--state-dir', h.stateDir);
    expect(d.code).toBe(0);
    expect(d.err).toMatch(new RegExp(`^no controller is running for ${h.dir}; showing status as of \\d+s ago\n$`)); // the directory from the database
    expect(d.out).toMatch(/Normal\s+Started\s/);
  });

  it('where no controller ever ran, get says that no status was recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-never-'));
    const stateDir = join(dir, 'state');
    const r = await cli('get', 'vms', '--dir', dir, '--state-dir', stateDir);
    expect(r.code).toBe(0);
    expect(r.err).toBe(`no controller is running for ${dir}; no status has been recorded in ${stateDir}\nNo resources found in default namespace.\n`);
  });
});

// Regression: `start vm30 --wait 60s` answered Running at once from a stale status while the VM was Stopping.
describe('start --wait never accepts a status older than the edit', () => {
  const key = 'VirtualMachine/default/w-1';
  /** A watched directory declaring w-1 Halted, and a state database whose stored w-1 says `status` for `storedStrategy`. */
  async function staleSetup(storedStrategy: string, generation: number, observedGeneration: number) {
    const base = mkdtempSync(join(tmpdir(), 'wimaxvm-wait-'));
    const dir = join(base, 'vms');
    const stateDir = join(base, 'state');
    mkdirSync(dir);
    writeFileSync(join(dir, 'w.yaml'), vmYaml({ name: 'w-1', runStrategy: storedStrategy }));
    const spec = await declaredSpec(dir, key);
    writeFileSync(join(dir, 'w.yaml'), vmYaml({ name: 'w-1', runStrategy: 'Halted' }));
    const state = openStateDatabase(stateDir);
    await new SqliteStatusStore(state).write(key, {
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
      metadata: { name: 'w-1', namespace: 'default', uid: 'u', generation, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec, status: { printableStatus: 'Running', observedGeneration },
    });
    state.close();
    return { dir, stateDir };
  }

  it('a Running status left by a controller that is gone is no answer', async () => {
    const { dir, stateDir } = await staleSetup('Always', 1, 1);
    const r = await cli('start', 'w-1', '--wait', '1s', '--dir', dir, '--state-dir', stateDir);
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('virtualmachine/w-1 Running');
    expect(r.err).toBe(`error: virtualmachine/w-1 is not Running after 1s (no controller is running for ${dir})\n`);
  });

  it('a running controller that has not observed the edit yet: its old Running is no answer', async () => {
    const { dir, stateDir } = await staleSetup('Halted', 2, 1); // it saw Halted and is Stopping; status not written yet
    const lock = acquireControllerLock(stateDir, { directory: dir, identity: 'test', listen: 'off' });
    try {
      const r = await cli('start', 'w-1', '--wait', '1s', '--dir', dir, '--state-dir', stateDir);
      expect(r.code).toBe(1);
      expect(r.out).not.toContain('virtualmachine/w-1 Running');
      expect(r.err).toBe('error: virtualmachine/w-1 is not Running after 1s (the controller has not reported it yet)\n');
    } finally {
      lock.release();
    }
  });
});
