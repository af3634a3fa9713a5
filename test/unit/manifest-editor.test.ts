import { chmodSync, chownSync, lstatSync, mkdtempSync, readFileSync, existsSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestEditor } from '../../src/sources/manifest-editor.js';
import { parseManifests } from '../../src/sources/manifest-parser.js';

const TWO = `# the lab's slices
apiVersion: wimaxvm.io/v1alpha1
kind: VirtualMachine
metadata:
  name: vm30   # the first
spec:
  runStrategy: Halted
  memory: 256Mi
---
apiVersion: wimaxvm.io/v1alpha1
kind: VirtualMachine
metadata:
  name: vm7
spec:
  memory: 128Mi
`;

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'wimaxvm-edit-'));
  for (const [f, t] of Object.entries(files)) {
    mkdirSync(join(d, f, '..'), { recursive: true });
    writeFileSync(join(d, f), t);
  }
  return d;
}

describe('ManifestEditor', () => {
  it('finds the declaring document in nested folders', async () => {
    const d = dir({ 'a/slices.yaml': TWO, 'b.yaml': 'not: a resource\n' });
    expect(await new ManifestEditor(d).find('VirtualMachine/default/vm7')).toEqual({ file: 'a/slices.yaml', index: 1 });
    expect(await new ManifestEditor(d).find('VirtualMachine/default/nope')).toBeUndefined();
  });

  it('changes one field in place and keeps comments and the other document', async () => {
    const d = dir({ 'slices.yaml': TWO });
    await new ManifestEditor(d).update('VirtualMachine/default/vm30', [{ path: ['spec', 'runStrategy'], value: 'Always' }]);
    const text = readFileSync(join(d, 'slices.yaml'), 'utf8');
    expect(text).toContain("# the lab's slices");
    expect(text).toContain('name: vm30 # the first');
    expect(text).toContain('runStrategy: Always');
    const { resources, errors } = parseManifests(text, 'slices.yaml');
    expect(errors).toEqual([]);
    expect(resources.map((r) => r.resource.metadata.name)).toEqual(['vm30', 'vm7']);
    expect(resources[1]!.resource.spec.memory).toBe('128Mi');
  });

  it('refuses an edit that would not validate, and writes nothing', async () => {
    const d = dir({ 'slices.yaml': TWO });
    await expect(new ManifestEditor(d).update('VirtualMachine/default/vm7', [{ path: ['spec', 'runStrategy'], value: 'Sometimes' }])).rejects.toThrow(/Unsupported value/);
    expect(readFileSync(join(d, 'slices.yaml'), 'utf8')).toBe(TWO);
  });

  it('creates a new file, and refuses a resource declared already', async () => {
    const d = dir({ 'slices.yaml': TWO });
    const e = new ManifestEditor(d);
    await e.create({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'WimaxClient', metadata: { name: 'st1' }, spec: { mac: '00:11:22:33:44:55', vmName: 'vm30' } }, 'st1.yaml');
    expect(parseManifests(readFileSync(join(d, 'st1.yaml'), 'utf8'), 'st1.yaml').resources).toHaveLength(1);
    await expect(e.create({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm7' }, spec: {} }, 'x.yaml')).rejects.toThrow(/already declared/);
    await expect(e.create({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm8' }, spec: { vcpus: 0 } }, 'y.yaml')).rejects.toThrow(/vcpus/);
    expect(existsSync(join(d, 'y.yaml'))).toBe(false);
  });

  it('removes one document, and the file with its last one', async () => {
    const d = dir({ 'slices.yaml': TWO });
    const e = new ManifestEditor(d);
    await e.remove('VirtualMachine/default/vm30');
    const { resources } = parseManifests(readFileSync(join(d, 'slices.yaml'), 'utf8'), 'slices.yaml');
    expect(resources.map((r) => r.resource.metadata.name)).toEqual(['vm7']);
    await e.remove('VirtualMachine/default/vm7');
    expect(existsSync(join(d, 'slices.yaml'))).toBe(false);
  });
});

describe('edits keep what the user set on the file (issue 15, 9)', () => {
  const runHalted = [{ path: ['spec', 'runStrategy'], value: 'Always' }];

  it('a 0600 manifest stays 0600', async () => {
    const d = dir({ 'slices.yaml': TWO });
    chmodSync(join(d, 'slices.yaml'), 0o600);
    await new ManifestEditor(d).update('VirtualMachine/default/vm30', runHalted);
    expect(readFileSync(join(d, 'slices.yaml'), 'utf8')).toContain('runStrategy: Always');
    expect(statSync(join(d, 'slices.yaml')).mode & 0o777).toBe(0o600);
  });

  it.skipIf(process.getuid?.() !== 0)('as root, a file of another owner keeps its owner', async () => {
    const d = dir({ 'slices.yaml': TWO });
    chownSync(join(d, 'slices.yaml'), 4321, 4322);
    await new ManifestEditor(d).update('VirtualMachine/default/vm30', runHalted);
    expect(statSync(join(d, 'slices.yaml'))).toMatchObject({ uid: 4321, gid: 4322 });
  });

  it('a symlinked manifest stays a symlink, and its target gets the edit', async () => {
    const d = dir({ 'vms/.keep': '' });
    const elsewhere = dir({ 'real.yaml': TWO });
    chmodSync(join(elsewhere, 'real.yaml'), 0o640);
    symlinkSync(join(elsewhere, 'real.yaml'), join(d, 'vms', 'slices.yaml'));
    await new ManifestEditor(join(d, 'vms')).update('VirtualMachine/default/vm30', runHalted);
    expect(lstatSync(join(d, 'vms', 'slices.yaml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(elsewhere, 'real.yaml'), 'utf8')).toContain('runStrategy: Always');
    expect(statSync(join(elsewhere, 'real.yaml')).mode & 0o777).toBe(0o640);
    await new ManifestEditor(join(d, 'vms')).remove('VirtualMachine/default/vm30');
    expect(lstatSync(join(d, 'vms', 'slices.yaml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(elsewhere, 'real.yaml'), 'utf8')).not.toContain('vm30');
  });
});

describe('a broken file refuses only the edits of that file (issue 15, 5)', () => {
  const ALIAS = 'apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: other\n  labels: *nope\nspec: {}\n';

  it('edits of other files go through; the broken file is named with its line', async () => {
    const d = dir({ 'slices.yaml': TWO, 'broken.yaml': ALIAS });
    const e = new ManifestEditor(d);
    await e.update('VirtualMachine/default/vm30', [{ path: ['spec', 'runStrategy'], value: 'Always' }]);
    await e.create({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'WimaxClient', metadata: { name: 'st1' }, spec: { mac: '00:11:22:33:44:55', vmName: 'vm30' } }, 'st1.yaml');
    await e.remove('VirtualMachine/default/vm7');
    await expect(e.update('VirtualMachine/default/other', [{ path: ['spec', 'vcpus'], value: 2 }])).rejects.toThrow(/not declared .*broken\.yaml:1: YAML: Unresolved alias/);
  });

  it('an edit of a file with a broken document elsewhere in it is refused, naming the line', async () => {
    const d = dir({ 'slices.yaml': `${TWO}---\n${ALIAS}` });
    await expect(new ManifestEditor(d).update('VirtualMachine/default/vm7', [{ path: ['spec', 'vcpus'], value: 2 }])).rejects.toThrow(/slices\.yaml declares default\/vm7 but is broken.*slices\.yaml:17: YAML: Unresolved alias/);
    expect(readFileSync(join(d, 'slices.yaml'), 'utf8')).toBe(`${TWO}---\n${ALIAS}`);
  });
});
