// Shell completion for real: the script `wimaxvm completion bash` prints, sourced in a bash
// process, its function driven as bash drives it (COMP_WORDS, COMP_CWORD), COMPREPLY read back;
// `wimaxvm` on PATH is the built CLI. The zsh script is driven the same way (words, CURRENT).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, manyVms } from '../helpers/harness.js';

const bin = mkdtempSync(join(tmpdir(), 'wimaxvm-completion-bin-'));
symlinkSync(resolve('bin/wimaxvm.js'), join(bin, 'wimaxvm'));
const run = promisify(execFile);
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, WIMAXVM_DIR: '', WIMAXVM_DEBUG: '' };

const DRIVE = `source <(wimaxvm completion bash) || exit 3
complete -p wimaxvm >/dev/null || exit 4
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()
_wimaxvm
printf '%s\\n' "\${COMPREPLY[@]}"`;

/** COMPREPLY for the command line `words` (the last being completed), sorted. */
async function complete(...words: string[]): Promise<string[]> {
  const { stdout } = await run('bash', ['-c', DRIVE, 'bash', 'wimaxvm', ...words], { env, encoding: 'utf8', cwd: workDir });
  return stdout.split('\n').filter(Boolean).sort();
}

let workDir = process.cwd();

describe('bash completion', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.create({
      files: {
        'vms.yaml': manyVms([{ name: 'cmp-alpha' }, { name: 'cmp-beta', runStrategy: 'Halted' }, { name: 'cmp-lab', namespace: 'cmp-ns' }]),
        'policy.yaml': 'apiVersion: wimaxvm.io/v1alpha1\nkind: ShapingPolicy\nmetadata:\n  name: default\nspec:\n  enabled: true\n',
      },
    });
    await h.start();
    await h.waitForStatus('cmp-alpha', 'Running');
    await h.waitForStatus('cmp-beta', 'Stopped');
    await eventually(() => h.status('cmp-lab', 'cmp-ns')?.printableStatus === 'Running', 'cmp-lab Running');
  });
  afterAll(async () => h.dispose());

  it('completes commands', async () => {
    expect(await complete('')).toEqual(expect.arrayContaining(['get', 'start', 'apply', 'completion', 'version', 'help']));
    expect(await complete('ge')).toEqual(['get']);
    expect(await complete('st')).toEqual(['start', 'stop']);
    expect(await complete('--ver')).toEqual(['--version']);
  });

  it('completes flags and their values', async () => {
    expect(await complete('get', '--w')).toEqual(['--watch']);
    expect(await complete('get', '--o')).toEqual(['--output', '--output-watch-events']);
    expect(await complete('get', 'vms', '-o', '')).toEqual(['json', 'name', 'wide', 'yaml']);
    expect(await complete('start', 'x', '--log-level', '')).toEqual(['debug', 'error', 'info', 'warn']);
    expect(await complete('completion', '')).toEqual(['bash', 'zsh']);
    expect(await complete('start', '--')).toEqual(['--dir', '--help', '--log-level', '--namespace', '--state-dir', '--wait']);
  });

  it('completes resource types', async () => {
    expect(await complete('get', '')).toEqual(['clients', 'hv', 'hypervisors', 'ipp', 'ippools', 'pools', 'shapingpolicies', 'virtualmachines', 'vm', 'vms', 'wimaxclients', 'wsp', 'wvm', 'wxc']);
    expect(await complete('describe', 'w')).toEqual(['wimaxclients', 'wvm', 'wxc']); // policies have nothing to describe
  });

  it('completes names: stored ones for reading, declared ones in --dir for edits, none without a directory to edit', async () => {
    expect(await complete('get', 'vms', '--state-dir', h.stateDir, '')).toEqual(['cmp-alpha', 'cmp-beta']);
    expect(await complete('describe', 'vm', '--state-dir', h.stateDir, '-n', 'cmp-ns', '')).toEqual(['cmp-lab']);
    expect(await complete('get', 'vms', '--state-dir', h.stateDir, '-n', '')).toEqual(['cmp-ns', 'default']);
    expect(await complete('start', '--dir', h.dir, 'cmp-b')).toEqual(['cmp-beta']);
    expect(await complete('delete', 'wsp', '--dir', h.dir, '')).toEqual(['default']);
    expect(await complete('addclient', '00:11:22:33:44:55', '--dir', h.dir, 'cmp-a')).toEqual(['cmp-alpha']);
    expect(await complete('start', 'cmp-')).toEqual([]);
  });

  it('completes paths for -f, --dir and validate', async () => {
    workDir = mkdtempSync(join(tmpdir(), 'wimaxvm-completion-cwd-'));
    try {
      mkdirSync(join(workDir, 'vms-dir'));
      writeFileSync(join(workDir, 'vms-file.yaml'), '');
      expect(await complete('apply', '-f', 'vms')).toEqual(['vms-dir', 'vms-file.yaml']);
      expect(await complete('validate', 'vms-f')).toEqual(['vms-file.yaml']);
      expect(await complete('get', 'vms', '--dir', 'vms')).toEqual(['vms-dir']);
    } finally {
      workDir = process.cwd();
    }
  });
});

const zsh = spawnSync('sh', ['-c', 'command -v zsh']).status === 0;

// zsh's completion system runs the function with `words` and `CURRENT` set; outside a widget they
// are plain parameters, and compadd/_files (builtins of a widget) are stood in for by functions
// that print what they were given (compadd keeps, as zsh's matching does, what starts with the
// word being completed).
const ZSH_DRIVE = `compdef() { :; }
compadd() { local c; [[ $1 == -a ]] && for c in "\${(@P)2}"; do [[ $c == "\${words[CURRENT]}"* ]] && print -- "$c"; done; return 0; }
_files() { print -- ":files\${*:+ $*}"; }
source <(wimaxvm completion zsh) || exit 3
words=("$@"); CURRENT=$#
_wimaxvm`;

async function completeZsh(...words: string[]): Promise<string[]> {
  const { stdout } = await run('zsh', ['-f', '-c', ZSH_DRIVE, 'zsh', 'wimaxvm', ...words], { env, encoding: 'utf8', cwd: workDir });
  return stdout.split('\n').filter(Boolean).sort();
}

describe.skipIf(!zsh)('zsh completion (only where zsh is installed)', () => {
  it('the script parses', () => {
    const script = execFileSync(process.execPath, ['bin/wimaxvm.js', 'completion', 'zsh'], { encoding: 'utf8' });
    expect(spawnSync('zsh', ['-n'], { input: script }).status).toBe(0);
  });

  it('completes commands, flags and types, and hands paths to _files', async () => {
    expect(await completeZsh('st')).toEqual(['start', 'stop']);
    expect(await completeZsh('get', 'virtualm')).toEqual(['virtualmachines']);
    expect(await completeZsh('get', 'vms', '--sel')).toEqual(['--selector']);
    expect(await completeZsh('apply', '-f', '')).toEqual([':files']);
    expect(await completeZsh('get', 'vms', '--dir', '')).toEqual([':files -/']);
  });
});
