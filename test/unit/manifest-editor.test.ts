import { mkdtempSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
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
  it('finds the declaring document in nested folders', () => {
    const d = dir({ 'a/slices.yaml': TWO, 'b.yaml': 'not: a resource\n' });
    expect(new ManifestEditor(d).find('VirtualMachine/default/vm7')).toEqual({ file: 'a/slices.yaml', index: 1 });
    expect(new ManifestEditor(d).find('VirtualMachine/default/nope')).toBeUndefined();
  });

  it('changes one field in place and keeps comments and the other document', () => {
    const d = dir({ 'slices.yaml': TWO });
    new ManifestEditor(d).update('VirtualMachine/default/vm30', [{ path: ['spec', 'runStrategy'], value: 'Always' }]);
    const text = readFileSync(join(d, 'slices.yaml'), 'utf8');
    expect(text).toContain("# the lab's slices");
    expect(text).toContain('name: vm30 # the first');
    expect(text).toContain('runStrategy: Always');
    const { resources, errors } = parseManifests(text, 'slices.yaml');
    expect(errors).toEqual([]);
    expect(resources.map((r) => r.resource.metadata.name)).toEqual(['vm30', 'vm7']);
    expect(resources[1]!.resource.spec.memory).toBe('128Mi');
  });

  it('refuses an edit that would not validate, and writes nothing', () => {
    const d = dir({ 'slices.yaml': TWO });
    expect(() => new ManifestEditor(d).update('VirtualMachine/default/vm7', [{ path: ['spec', 'runStrategy'], value: 'Sometimes' }])).toThrow(/Unsupported value/);
    expect(readFileSync(join(d, 'slices.yaml'), 'utf8')).toBe(TWO);
  });

  it('creates a new file, and refuses a resource declared already', () => {
    const d = dir({ 'slices.yaml': TWO });
    const e = new ManifestEditor(d);
    e.create({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'WimaxClient', metadata: { name: 'st1' }, spec: { mac: '00:11:22:33:44:55', vmName: 'vm30' } }, 'st1.yaml');
    expect(parseManifests(readFileSync(join(d, 'st1.yaml'), 'utf8'), 'st1.yaml').resources).toHaveLength(1);
    expect(() => e.create({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm7' }, spec: {} }, 'x.yaml')).toThrow(/already declared/);
    expect(() => e.create({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm8' }, spec: { vcpus: 0 } }, 'y.yaml')).toThrow(/vcpus/);
    expect(existsSync(join(d, 'y.yaml'))).toBe(false);
  });

  it('removes one document, and the file with its last one', () => {
    const d = dir({ 'slices.yaml': TWO });
    const e = new ManifestEditor(d);
    e.remove('VirtualMachine/default/vm30');
    const { resources } = parseManifests(readFileSync(join(d, 'slices.yaml'), 'utf8'), 'slices.yaml');
    expect(resources.map((r) => r.resource.metadata.name)).toEqual(['vm7']);
    e.remove('VirtualMachine/default/vm7');
    expect(existsSync(join(d, 'slices.yaml'))).toBe(false);
  });
});
