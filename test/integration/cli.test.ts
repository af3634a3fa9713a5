// The CLI as a user runs it: the real main() over a real state directory written by a controller.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Harness, manyVms } from '../helpers/harness.js';

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

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

  it('exits 1 for a missing file and 2 for usage errors', async () => {
    expect((await cli('validate', join(dir, 'nope.yaml'))).code).toBe(1);
    expect((await cli('validate')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('get', 'pods')).code).toBe(2);
    expect((await cli('run', '--workers', '0')).code).toBe(2);
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
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+VLAN\s+MAC\s+IP\s+AGE$/);
    expect(lines[1]).toMatch(/^cli-1\s+Running\s+\d+\s+52:52:52:52:52:52\s+<none>\s+\d+s$/);
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
