// The CLI's start-up stays small: each command loads only what it uses (main.ts imports each
// command's module when it runs). The built CLI runs in a child process with a module trace
// (helpers/module-trace.mjs) and the list of what it loaded is checked, so a new eager import of
// the Kubernetes client, libvirt, the schema validator or the metrics library cannot creep back
// unnoticed. Which modules load, not how long they take: nothing here is timed.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStateDatabase } from '../../src/adapters/store/state-database.js';
import { SqliteStatusStore } from '../../src/adapters/store/sqlite-status-store.js';

const run = promisify(execFile);
const base = mkdtempSync(join(tmpdir(), 'wimaxvm-lazy-'));
const stateDir = join(base, 'state');
const TRACE = resolve('test/helpers/module-trace.mjs');

/** The modules `wimaxvm ...args` loads (file paths and URLs, one per entry), and its exit code. */
async function loadedBy(...args: string[]): Promise<{ modules: string[]; code: number }> {
  const out = join(mkdtempSync(join(base, 'trace-')), 'modules.txt');
  writeFileSync(out, '');
  const env = { ...process.env, MODULE_TRACE_OUT: out, WIMAXVM_STATE_HOME: join(base, 'state-home'), WIMAXVM_DIR: '', WIMAXVM_DEBUG: '' };
  let code = 0;
  try {
    await run(process.execPath, ['--import', TRACE, 'bin/wimaxvm.js', ...args], { env, encoding: 'utf8' });
  } catch (err) {
    code = (err as { code?: number }).code ?? -1;
  }
  return { modules: readFileSync(out, 'utf8').split('\n').filter(Boolean), code };
}

/** The npm packages (and native addons) among `modules`. */
function packages(modules: string[]): Set<string> {
  const found = new Set<string>();
  for (const m of modules) {
    const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m);
    if (pkg) found.add(pkg[1]!);
    if (m.endsWith('.node')) found.add(`addon:${m.slice(m.lastIndexOf('/') + 1)}`);
  }
  return found;
}

/** What no command but `run` (the controller) and `vmstat` (libvirt) needs. */
const CONTROLLER_ONLY = ['@kubernetes/client-node', 'addon:wimaxvm_libvirt.node', 'prom-client', 'chokidar', 'fast-xml-parser'];
/** The manifest parser's and the schema validator's libraries: only for reading YAML declarations. */
const DECLARATIONS = ['ajv', 'yaml', 'js-yaml'];

function expectNone(loaded: Set<string>, forbidden: string[], what: string): void {
  expect([...loaded].filter((p) => forbidden.includes(p)), what).toEqual([]);
}

describe('CLI start-up loads only what the command uses', () => {
  beforeAll(async () => {
    const state = openStateDatabase(stateDir);
    await new SqliteStatusStore(state).write('VirtualMachine/default/lazy-1', {
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
      metadata: { name: 'lazy-1', namespace: 'default', uid: 'u', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { runStrategy: 'Always' }, status: { printableStatus: 'Running', observedGeneration: 1 },
    });
    state.close();
  });

  it('--help, version and completion of commands and flags: no npm package and no native addon at all', async () => {
    for (const args of [['--help'], ['help', 'get'], ['version'], ['completion', 'bash'], ['__complete', ''], ['__complete', 'get', '--'], ['__complete', 'get', '']]) {
      const { modules, code } = await loadedBy(...args);
      expect(code, args.join(' ')).toBe(0);
      expect(modules.some((m) => m.endsWith('/dist/cli.cjs')), `the trace sees the CLI's bundle (${args.join(' ')})`).toBe(true);
      expect([...packages(modules)], args.join(' ')).toEqual([]);
    }
  });

  it('get, vmlist and name completion: the state database (SQLite) and nothing of the controller or the declarations', async () => {
    for (const args of [['get', 'vms'], ['get', 'vms', '-o', 'wide'], ['vmlist'], ['__complete', 'get', 'vms', '--state-dir', stateDir, '']]) {
      const { modules, code } = await loadedBy(...args, ...(args[0] === '__complete' ? [] : ['--state-dir', stateDir]));
      expect(code, args.join(' ')).toBe(0);
      const loaded = packages(modules);
      // The trace sees CommonJS packages and native addons: what is absent is truly not loaded.
      expect(loaded.has('better-sqlite3') && loaded.has('addon:better_sqlite3.node'), `SQLite loaded for ${args.join(' ')}`).toBe(true);
      expectNone(loaded, [...CONTROLLER_ONLY, ...DECLARATIONS], args.join(' '));
      expect([...loaded].filter((p) => p.startsWith('addon:') && p !== 'addon:better_sqlite3.node'), args.join(' ')).toEqual([]);
    }
  });

  it('get -o yaml and shaping policies load the YAML library, and still nothing of the controller', async () => {
    writeFileSync(join(base, 'policy.yaml'), 'apiVersion: wimaxvm.io/v1alpha1\nkind: ShapingPolicy\nmetadata:\n  name: lazy\nspec:\n  enabled: false\n');
    const yaml = await loadedBy('get', 'vms', '-o', 'yaml', '--state-dir', stateDir);
    expect(yaml.code).toBe(0);
    expect(packages(yaml.modules).has('yaml')).toBe(true); // the trace sees ES-module imports made on demand
    expectNone(packages(yaml.modules), [...CONTROLLER_ONLY, 'ajv'], 'get -o yaml');
    const policies = await loadedBy('get', 'wsp', '--dir', base);
    expect(policies.code).toBe(0);
    expect(packages(policies.modules).has('ajv')).toBe(true); // declarations are validated as the controller does
    expectNone(packages(policies.modules), CONTROLLER_ONLY, 'get wsp');
  });

  it('image import loads no npm package; image list, create and cordon in file mode nothing of the controller', async () => {
    const images = join(base, 'images');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', join(base, 'lazy.qcow2'), '1M']);
    const imported = await loadedBy('image', 'import', join(base, 'lazy.qcow2'), '--image-dir', images);
    expect(imported.code).toBe(0);
    expect([...packages(imported.modules)]).toEqual([]);
    const vms = join(base, 'create-vms');
    await run('mkdir', ['-p', vms]);
    writeFileSync(join(vms, 'hv.yaml'), 'apiVersion: wimaxvm.io/v1alpha1\nkind: Hypervisor\nmetadata:\n  name: lazy-hv\nspec:\n  uri: "test:///default"\n');
    for (const args of [['image', 'list', '--image-dir', images, '--dir', vms], ['cordon', 'lazy-hv', '--dir', vms], ['create', 'lazy-2', '--memory', '64Mi', '--vcpus', '1', '--dir', vms], ['create', 'lazy-3', '--memory', '64Mi', '--vcpus', '1', '--dry-run']]) {
      const { modules, code } = await loadedBy(...args);
      expect(code, args.join(' ')).toBe(0);
      expectNone(packages(modules), CONTROLLER_ONLY, args.join(' '));
    }
  });

  it('the controller in file mode: nothing of the Kubernetes client (about 50 MB of its heap)', async () => {
    const out = join(mkdtempSync(join(base, 'trace-')), 'modules.txt');
    writeFileSync(out, '');
    const vms = mkdtempSync(join(base, 'run-vms-'));
    const child = spawn(process.execPath, ['--import', TRACE, 'bin/wimaxvm.js', 'run', '--dir', vms, '--connect', 'test:///default', '--state-dir', join(vms, '.state'), '--listen', '127.0.0.1:0', '--allow-empty', '--log-format', 'json'], {
      env: { ...process.env, MODULE_TRACE_OUT: out }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (c) => (log += String(c)));
    child.stderr.on('data', (c) => (log += String(c)));
    const exited = new Promise((resolve) => child.once('close', resolve));
    try {
      // Started completely: libvirt and the source are in, so every module of the start is traced.
      await new Promise<void>((resolve, reject) => {
        child.once('close', () => reject(new Error(`the controller exited:\n${log}`)));
        const poll = setInterval(() => {
          if (/"msg":"directory source synced"/.test(log) && /"msg":"HTTP API listening"/.test(log)) { clearInterval(poll); resolve(); }
        }, 20);
      });
      const loaded = packages(readFileSync(out, 'utf8').split('\n').filter(Boolean));
      expect(loaded.has('addon:wimaxvm_libvirt.node'), 'the trace sees the controller').toBe(true);
      expectNone(loaded, ['@kubernetes/client-node'], 'run --dir');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
