// The edit commands as a user runs them: they need the directory named (never the bundled
// examples/ by default), check every flag before they change anything, and say `unchanged`
// when there is nothing to change.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLES_DIR } from '../../src/package-root.js';
import { manyVms, vmYaml } from '../helpers/harness.js';
import { cli } from '../helpers/run-cli.js';

/** Every file of a directory with its content: what "untouched" means. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

function lab(): { dir: string; file: string; other: string } {
  const base = mkdtempSync(join(tmpdir(), 'wimaxvm-cli-edits-'));
  const dir = join(base, 'vms');
  mkdirSync(dir);
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, `# the lab\n${manyVms([{ name: 'edx-1', runStrategy: 'Halted' }, { name: 'edx-2' }])}`);
  const other = join(base, 'apply.yaml');
  return { dir, file, other };
}

describe('edit commands need the watched directory named', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.WIMAXVM_DIR;
    delete process.env.WIMAXVM_DIR;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.WIMAXVM_DIR;
    else process.env.WIMAXVM_DIR = saved;
  });

  it('without --dir or WIMAXVM_DIR every edit command exits 2 and the bundled examples/ stay as they are', async () => {
    const before = snapshot(EXAMPLES_DIR);
    const file = join(mkdtempSync(join(tmpdir(), 'wimaxvm-cli-apply-')), 'a.yaml');
    writeFileSync(file, vmYaml({ name: 'vm30', runStrategy: 'Halted' }));
    for (const args of [['start', 'vm30'], ['stop', 'vm30'], ['restart', 'vm30'], ['addclient', '00:11:22:33:44:55', 'vm30'], ['apply', '-f', file], ['delete', 'vm', 'vm30']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(new RegExp(`^error: ${args[0]} edits the declared YAML: name the watched directory with --dir DIR or WIMAXVM_DIR=DIR \\(there is no default\\)\n`));
      expect(r.out).toBe('');
    }
    expect(snapshot(EXAMPLES_DIR)).toEqual(before);
  });

  it('WIMAXVM_DIR names it when --dir is absent; --dir wins over it', async () => {
    const { dir, file } = lab();
    process.env.WIMAXVM_DIR = dir;
    const r = await cli('start', 'edx-1');
    expect(r.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/name: edx-1\nspec:\n {2}runStrategy: Always/);
    const elsewhere = lab();
    expect((await cli('stop', 'edx-2', '--dir', elsewhere.dir)).code).toBe(0);
    expect(readFileSync(elsewhere.file, 'utf8')).toMatch(/name: edx-2\nspec:\n {2}runStrategy: Halted/);
    expect(readFileSync(file, 'utf8')).toMatch(/name: edx-2\nspec:\n {2}runStrategy: Always/);
  });

  it('a --dir or WIMAXVM_DIR that does not exist is a usage error, for reading commands too', async () => {
    const missing = join(tmpdir(), `wimaxvm-cli-missing-${process.pid}`);
    for (const args of [['start', 'vm30'], ['get', 'vms'], ['describe', 'vm', 'vm30'], ['vmlist'], ['get', 'wsp']]) {
      const r = await cli(...args, '--dir', missing);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(`error: --dir: the directory ${missing} does not exist`);
    }
    process.env.WIMAXVM_DIR = missing;
    const r = await cli('get', 'vms');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`error: WIMAXVM_DIR: the directory ${missing} does not exist`);
  });
});

describe('every flag is checked before anything changes', () => {
  it('a bad flag value, a flag the command does not take, or a bad --log-level: exit 2, the file untouched', async () => {
    const { dir, file, other } = lab();
    writeFileSync(other, vmYaml({ name: 'edx-3' }));
    const before = readFileSync(file, 'utf8');
    const mtime = statSync(file).mtimeMs;
    const cases = [
      ['start', 'edx-1', '--wait', '5'],
      ['stop', 'edx-2', '--wait', 'soon'],
      ['restart', 'edx-1', '--wait', '5s'], // restart does not wait
      ['addclient', '00:11:22:33:44:55', 'edx-1', '-f', other],
      ['apply', '-f', other, '-n', 'lab'], // the file says the namespace
      ['delete', 'vm', 'edx-1', '--wait', '5s'],
      ['start', 'edx-1', '--log-level', 'loud'],
      ['start', 'edx-1', 'edx-2'],
      ['delete', 'pods', 'edx-1'],
    ];
    for (const args of cases) {
      const r = await cli(...args, '--dir', dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.out, args.join(' ')).toBe('');
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(readdirSync(dir)).toEqual(['lab.yaml']);
  });

  it('--log-level is accepted by the edit commands (debug adds the stack to an error)', async () => {
    const { dir } = lab();
    expect((await cli('start', 'edx-1', '--dir', dir, '--log-level', 'warn')).code).toBe(0);
    const missing = await cli('start', 'nope', '--dir', dir, '--log-level', 'debug');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error \(NotFound\): .*\n(.*\n)?\s+at /);
  });
});

describe('apply says what it did, per resource', () => {
  it('created, then unchanged (the file not rewritten), then configured for a changed spec', async () => {
    const { dir, file, other } = lab();
    writeFileSync(other, manyVms([{ name: 'edx-1', runStrategy: 'Halted' }, { name: 'edx-4' }]));
    const first = await cli('apply', '-f', other, '--dir', dir);
    expect(first.code).toBe(0);
    expect(first.out).toBe('virtualmachine/edx-1 unchanged\nvirtualmachine/edx-4 created\n');
    const files = snapshot(dir);
    const mtimes = readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs);
    const again = await cli('apply', '-f', other, '--dir', dir);
    expect(again.out).toBe('virtualmachine/edx-1 unchanged\nvirtualmachine/edx-4 unchanged\n');
    expect(snapshot(dir)).toEqual(files);
    expect(readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs)).toEqual(mtimes);
    writeFileSync(other, manyVms([{ name: 'edx-1', runStrategy: 'Always' }, { name: 'edx-4' }]));
    const changed = await cli('apply', '-f', other, '--dir', dir);
    expect(changed.out).toBe('virtualmachine/edx-1 configured\nvirtualmachine/edx-4 unchanged\n');
    expect(readFileSync(file, 'utf8')).toMatch(/name: edx-1\nspec:\n {2}runStrategy: Always/);
  });
});
