// `wimaxvm get` as kubectl users expect it, over a real controller's state database: the types
// it knows, shaping policies, -o name, label selectors, -w, and VMs whose file is broken.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { get } from '../../src/cli/get-command.js';
import { eventually, Harness } from '../helpers/harness.js';
import { cli } from '../helpers/run-cli.js';

function labelled(name: string, labels: Record<string, string>, runStrategy = 'Always'): string {
  return [
    'apiVersion: wimaxvm.io/v1alpha1', 'kind: VirtualMachine', 'metadata:', `  name: ${name}`,
    ...(Object.keys(labels).length ? ['  labels:', ...Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`)] : []),
    'spec:', `  runStrategy: ${runStrategy}`, '  memory: 64Mi',
  ].join('\n') + '\n';
}

const POLICY = 'apiVersion: wimaxvm.io/v1alpha1\nkind: ShapingPolicy\nmetadata:\n  name: default\nspec:\n  enabled: false\n';

describe('wimaxvm get', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.create({
      files: {
        'gl-a.yaml': labelled('gl-a', { tier: 'lab', site: 'north' }),
        'gl-b.yaml': labelled('gl-b', { tier: 'prod', site: 'south', rank: '7' }, 'Halted'),
        'gl-c.yaml': labelled('gl-c', {}),
        'policy.yaml': POLICY,
      },
    });
    await h.start();
    await h.waitForStatus('gl-a', 'Running');
    await h.waitForStatus('gl-b', 'Stopped');
    await h.waitForStatus('gl-c', 'Running');
    await h.settle();
  });
  afterAll(async () => h.dispose());
  const read = (...args: string[]) => cli(...args, '--dir', h.dir, '--state-dir', h.stateDir);

  it('with no type: what it can get, and exit 2', async () => {
    const r = await read('get');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('You must specify the type of resource to get.');
    expect(r.err).toContain("  * virtualmachines (aka 'wvm')\n  * wimaxclients (aka 'wxc')\n  * shapingpolicies (aka 'wsp')\n");
    expect(r.err).toContain('error: Required resource not specified.');
  });

  it('shaping policies by every name, as declared in the directory', async () => {
    for (const type of ['shapingpolicy', 'shapingpolicies', 'wsp', 'ShapingPolicy']) {
      const r = await read('get', type);
      expect(r.code, type).toBe(0);
      expect(r.out).toBe('NAME      ENABLED   SOURCE\ndefault   false     policy.yaml:1\n');
    }
    expect((await read('get', 'wsp', '-o', 'name')).out).toBe('shapingpolicy/default\n');
    const described = await read('describe', 'wsp', 'default');
    expect(described.code).toBe(2);
    expect(described.err).toContain("describe: shaping policies have no status or events; see 'wimaxvm get wsp NAME -o yaml'");
    const missing = await read('get', 'wsp', 'other');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('shapingpolicies "other" not found');
  });

  it('-o name prints kind/name lines', async () => {
    const r = await read('get', 'vms', '-o', 'name');
    expect(r.code).toBe(0);
    expect(r.out).toBe('virtualmachine/gl-a\nvirtualmachine/gl-b\nvirtualmachine/gl-c\n');
  });

  it('-l selects by label in kubectl\'s syntax', async () => {
    const names = async (selector: string) => {
      const r = await read('get', 'vms', '-o', 'name', '-l', selector);
      expect(r.code, selector).toBe(0);
      return r.out.split('\n').filter(Boolean).map((l) => l.replace('virtualmachine/', ''));
    };
    expect(await names('tier=lab')).toEqual(['gl-a']);
    expect(await names('tier==prod')).toEqual(['gl-b']);
    expect(await names('tier!=lab')).toEqual(['gl-b', 'gl-c']); // no label counts as not equal
    expect(await names('tier')).toEqual(['gl-a', 'gl-b']);
    expect(await names('!tier')).toEqual(['gl-c']);
    expect(await names('site in (north, south)')).toEqual(['gl-a', 'gl-b']);
    expect(await names('site notin (north)')).toEqual(['gl-b', 'gl-c']);
    expect(await names('tier,site=south')).toEqual(['gl-b']);
    expect(await names('tier in (lab,prod),site!=south')).toEqual(['gl-a']);
    expect(await names('rank>5')).toEqual(['gl-b']);
    expect(await names('rank<5')).toEqual([]);
    const table = await read('get', 'vms', '--selector', 'tier=lab');
    expect(table.out).toMatch(/^NAME\s+STATUS.*\ngl-a\s+Running\s/);
    const none = await read('get', 'vms', '-l', 'tier=nowhere');
    expect(none.err).toContain('No resources found in default namespace.');
  });

  it('an invalid selector is a usage error that says what is wrong', async () => {
    for (const [selector, why] of [
      ['tier in (lab', 'missing ) after tier in ('],
      ['tier=lab,', 'a requirement is missing after the last ,'],
      ['=lab', 'expected a label key, got "="'],
      ['tier in lab', 'expected ( after tier in'],
      ['ti*er=lab', 'invalid label key "ti*er"'],
      ['tier=l@b', 'invalid label value "l@b"'],
      ['rank>high', 'rank> needs a whole number'],
    ]) {
      const r = await read('get', 'vms', '-l', selector!);
      expect(r.code, selector).toBe(2);
      expect(r.err).toContain(`error: -l: invalid selector ${JSON.stringify(selector)}: ${why}`);
    }
  });

  it('--log-level is taken by the reading commands; a bad level is a usage error', async () => {
    expect((await read('get', 'vms', '--log-level', 'debug')).code).toBe(0);
    expect((await read('describe', 'vm', 'gl-a', '--log-level', 'warn')).code).toBe(0);
    expect((await read('vmlist', '--log-level', 'error')).code).toBe(0);
    expect((await cli('validate', join(h.dir, 'gl-a.yaml'), '--log-level', 'info')).code).toBe(0);
    const bad = await read('get', 'vms', '--log-level', 'chatty');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('error: --log-level: expected debug, info, warn, error, got "chatty"');
  });

  it('-w prints the list, then a line per change, and ends cleanly when stopped', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    const stop = new AbortController();
    try {
      const watching = get(['vms', '-w', '--output-watch-events', '-l', 'site', '--dir', h.dir, '--state-dir', h.stateDir], stop.signal);
      await eventually(() => /^EVENT\s+NAME\s+STATUS/m.test(out) && /^ADDED\s+gl-b\s+Stopped\s/m.test(out), 'the initial list');
      expect(out).toMatch(/^ADDED\s+gl-a\s+Running\s/m);
      h.write('gl-b.yaml', labelled('gl-b', { tier: 'prod', site: 'south', rank: '7' }, 'Always'));
      await eventually(() => /^MODIFIED\s+gl-b\s+Running\s/m.test(out), 'gl-b Running to be printed');
      h.remove('gl-a.yaml');
      await eventually(() => /^DELETED\s+gl-a\s/m.test(out), 'gl-a deleted to be printed');
      expect(out).not.toMatch(/gl-c/); // not selected
      stop.abort();
      expect(await watching).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('get shows a declaration that is not in force as written', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.create({ files: { 'gb.yaml': labelled('gb-1', {}) } });
    await h.start();
    await h.waitForStatus('gb-1', 'Running');
  });
  afterAll(async () => h.dispose());

  it('a broken file: STATUS Running,InvalidManifest, and SOURCE in -o wide', async () => {
    h.write('gb.yaml', labelled('gb-1', {}).replace('runStrategy: Always', 'runStrategy: Sometimes'));
    await eventually(() => h.statusFromDisk('gb-1')?.conditions?.some((c) => c.type === 'SourceValid' && c.status === 'False'), 'SourceValid=False');
    const r = await cli('get', 'vms', '--dir', h.dir, '--state-dir', h.stateDir);
    expect(r.out).toMatch(/^gb-1\s+Running,InvalidManifest\s/m);
    const wide = await cli('get', 'vms', '-o', 'wide', '--dir', h.dir, '--state-dir', h.stateDir);
    expect(wide.out).toMatch(/^NAME\s+STATUS\s+VLAN\s+MAC\s+IP\s+EXPIRES\s+AGE\s+READY\s+DOMAIN\s+ID\s+VNC\s+RUNSTRATEGY\s+SOURCE$/m);
    expect(wide.out).toMatch(/^gb-1\s+Running,InvalidManifest\s.*\sAlways\s+gb\.yaml:1$/m);
    h.write('gb.yaml', labelled('gb-1', {}));
    await eventually(async () => /^gb-1\s+Running\s/m.test((await cli('get', 'vms', '--dir', h.dir, '--state-dir', h.stateDir)).out), 'the marker to go');
  });

  it('the same VM in two files: Running,DuplicateDeclaration', async () => {
    h.write('gb-copy.yaml', labelled('gb-1', {}));
    await eventually(async () => /^gb-1\s+Running,DuplicateDeclaration\s/m.test((await cli('get', 'vms', '--dir', h.dir, '--state-dir', h.stateDir)).out), 'the duplicate marker');
    // validate judges the two files by the controller's rule, in the controller's words.
    const condition = h.statusFromDisk('gb-1')!.conditions!.find((c) => c.type === 'SourceValid')!;
    expect(condition.message).toBe('declared in gb-copy.yaml:1 and gb.yaml:1; neither declaration is applied until only one remains');
    const v = await cli('validate', join(h.dir, 'gb.yaml'), join(h.dir, 'gb-copy.yaml'));
    expect(v.code).toBe(1);
    const sentence = `is declared in ${join(h.dir, 'gb-copy.yaml')}:1 and ${join(h.dir, 'gb.yaml')}:1; neither declaration is applied until only one remains`;
    expect(v.err).toBe([
      `${join(h.dir, 'gb.yaml')}:1: VirtualMachine default/gb-1 ${sentence}`,
      `${join(h.dir, 'gb-copy.yaml')}:1: VirtualMachine default/gb-1 ${sentence}`,
      '2 of 2 file(s) invalid', '',
    ].join('\n'));
    h.remove('gb-copy.yaml');
  });
});

describe('get without a controller', () => {
  it('policies are read from the directory alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-cli-wsp-'));
    writeFileSync(join(dir, 'p.yaml'), POLICY.replace('enabled: false', 'enabled: true').replace('name: default', 'name: default\n  namespace: lab'));
    const r = await cli('get', 'wsp', '-A', '--dir', dir);
    expect(r.code).toBe(0);
    expect(r.out).toBe('NAMESPACE   NAME      ENABLED   SOURCE\nlab         default   true      p.yaml:1\n');
    expect(r.err).toBe('');
  });
});
