import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatManifestError, parseManifests, parseManifestsCarefully } from '../../src/sources/manifest-parser.js';

const F = 'vms/lab.yaml';

function vm(name: string, specLines: string[] = [], metaLines: string[] = []): string {
  return [
    'apiVersion: wimaxvm.io/v1alpha1',
    'kind: VirtualMachine',
    'metadata:',
    `  name: ${name}`,
    ...metaLines,
    'spec:',
    ...(specLines.length ? specLines : ['  memory: 64Mi']),
  ].join('\n') + '\n';
}

describe('documents', () => {
  it.each<[string, string, string[], number[]]>([
    ['one document', vm('a'), ['VirtualMachine/default/a'], [1]],
    ['three documents', vm('a') + '---\n' + vm('b') + '---\n' + vm('c', [], ['  namespace: lab']), ['VirtualMachine/default/a', 'VirtualMachine/default/b', 'VirtualMachine/lab/c'], [1, 8, 15]],
    ['a leading ---', '---\n' + vm('a'), ['VirtualMachine/default/a'], [2]],
    ['a comment header', '# lab VMs\n\n---\n' + vm('a'), ['VirtualMachine/default/a'], [4]],
    ['a trailing ---', vm('a') + '---\n', ['VirtualMachine/default/a'], [1]],
    ['an empty document in the middle', vm('a') + '---\n---\n' + vm('b'), ['VirtualMachine/default/a', 'VirtualMachine/default/b'], [1, 9]],
    ['a comment-only document', vm('a') + '---\n# nothing here yet\n---\n' + vm('b'), ['VirtualMachine/default/a', 'VirtualMachine/default/b'], [1, 10]],
    ['a document end marker', vm('a') + '...\n---\n' + vm('b'), ['VirtualMachine/default/a', 'VirtualMachine/default/b'], [1, 9]],
    ['an empty file', '', [], []],
    ['only comments', '# nothing\n# at all\n', [], []],
  ])('%s', (_label, text, keys, lines) => {
    const { resources, errors } = parseManifests(text, F);
    expect(errors).toEqual([]);
    expect(resources.map((r) => r.key)).toEqual(keys);
    expect(resources.map((r) => r.line)).toEqual(lines);
  });

  it('returns validated resources with defaults', () => {
    const { resources } = parseManifests(vm('a'), F);
    expect(resources[0]!.resource).toEqual({
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
      metadata: { name: 'a', namespace: 'default' },
      spec: { runStrategy: 'Always', memory: '64Mi', vcpus: 1 },
    });
  });

  it('keeps the good documents of a file with a bad one', () => {
    const { resources, errors } = parseManifests(vm('a') + '---\n' + vm('b', ['  vcpus: 0']) + '---\n' + vm('c'), F);
    expect(resources.map((r) => r.key)).toEqual(['VirtualMachine/default/a', 'VirtualMachine/default/c']);
    expect(errors).toHaveLength(1);
  });
});

describe('error lines', () => {
  // Line numbers in the comments are 1-based lines of `text`.
  it.each<[string, string, number, RegExp]>([
    ['bad runStrategy on line 7', vm('a', ['  memory: 64Mi', '  runStrategy: Sometimes']), 7, /^spec\.runStrategy: Unsupported value: "Sometimes"/],
    ['bad vcpus on line 6', vm('a', ['  vcpus: 0', '  memory: 64Mi']), 6, /^spec\.vcpus: Invalid value: 0/],
    ['bad MAC on line 8', vm('a', ['  memory: 64Mi', '  network:', '    mac: "01:00:5e:00:00:01"']), 8, /^spec\.network\.mac: Invalid value/],
    ['bad disk image on line 8', vm('a', ['  disks:', '    - image: ok.qcow2', '    - image: ../etc/passwd']), 8, /^spec\.disks\[1\]\.image: Invalid value/],
    ['bad name on line 4', vm('Bad'), 4, /^metadata\.name: Invalid value: "Bad"/],
    ['unknown scalar field on line 7', vm('a', ['  memory: 64Mi', '  cpus: 2']), 7, /^unknown field "spec\.cpus"$/],
    ['unknown metadata field on line 5', vm('a', [], ['  uid: x']), 5, /^unknown field "metadata\.uid"$/],
    // The field is on line 6; its value (a mapping) starts on line 7.
    ['unknown mapping field on line 6', vm('a', ['  extra:', '    foo: 1']), 6, /^unknown field "spec\.extra"$/],
    ['missing spec: the document start', 'apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: a\n', 1, /^spec: Required value$/],
    ['errors in a later document', vm('a') + '---\n' + vm('b', ['  memory: 64Mi', '  runStrategy: Sometimes']), 14, /^spec\.runStrategy: Unsupported value/],
    ['unknown kind', vm('a').replace('kind: VirtualMachine', 'kind: VM'), 2, /^no matches for kind "VM" in version "wimaxvm.io\/v1alpha1"/],
  ])('%s', (_label, text, line, message) => {
    const { resources, errors } = parseManifests(text, F);
    const documents = text.split('\n---\n').length;
    expect(resources).toHaveLength(documents - 1); // only the last document is bad
    expect(errors).toHaveLength(1);
    expect(errors[0]!.file).toBe(F);
    expect(errors[0]!.message).toMatch(message);
    expect(errors[0]!.line).toBe(line);
  });

  it.each<[string, string, number, RegExp]>([
    ['tab indentation on line 6', vm('a', ['\tvcpus: 1']), 6, /^YAML: Tabs are not allowed as indentation/],
    ['stray "]" on line 7', vm('a', ['  memory: 64Mi', '  disks: [a, b]]']), 7, /^YAML: Unexpected flow-seq-end token/],
    ['nested mapping in a compact mapping on line 6', vm('a', ['  vcpus: 1: 2']), 6, /^YAML: Nested mappings are not allowed/],
    ['duplicate key on line 7', vm('a', ['  vcpus: 1', '  vcpus: 2']), 7, /^YAML: Map keys must be unique/],
    ['syntax error in a later document', vm('a') + '---\n' + vm('b', ['  vcpus: 1: 2']), 13, /^YAML: /],
  ])('YAML error: %s', (_label, text, line, message) => {
    const { resources, errors } = parseManifests(text, F);
    expect(resources.map((r) => r.key)).not.toContain('VirtualMachine/default/b');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]!.message).toMatch(message);
    expect(errors[0]!.line).toBe(line);
  });

  it('a resource declared twice names both lines', () => {
    const { resources, errors } = parseManifests(vm('a') + '---\n' + vm('b') + '---\n' + vm('a', ['  vcpus: 2']), F);
    expect(resources.map((r) => r.key)).toEqual(['VirtualMachine/default/a', 'VirtualMachine/default/b']);
    expect(errors).toEqual([{ file: F, line: 15, message: 'VirtualMachine default/a is declared twice in this file (first at line 1)' }]);
  });

  it('the same name in two namespaces is not a duplicate', () => {
    const { resources, errors } = parseManifests(vm('a') + '---\n' + vm('a', [], ['  namespace: lab']), F);
    expect(errors).toEqual([]);
    expect(resources).toHaveLength(2);
  });

  it.each<[string, string, number, string]>([
    ['a scalar document', vm('a') + '---\nhello\n', 8, 'a document must be a mapping (apiVersion, kind, metadata, spec)'],
    ['a number', '42\n', 1, 'a document must be a mapping (apiVersion, kind, metadata, spec)'],
    ['a list', '- a\n- b\n', 1, 'a resource must be a mapping with apiVersion, kind, metadata and spec'],
  ])('non-mapping document: %s', (_label, text, line, message) => {
    const { errors } = parseManifests(text, F);
    expect(errors).toEqual([{ file: F, line, message }]);
  });

  it('formats errors as file:line: message', () => {
    expect(formatManifestError({ file: F, line: 7, message: 'oops' })).toBe('vms/lab.yaml:7: oops');
  });
});

describe('the quick path agrees with the careful one', () => {
  const vm = (name: string, extra = '') => `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\nspec:\n  memory: 64Mi\n${extra}`;
  it.each([
    ['one document', vm('a')],
    ['leading comments and blank lines', `# lab\n\n# slices\n${vm('a')}`],
    ['several documents', `${vm('a')}---\n${vm('b')}---\n# comment only\n---\n${vm('c')}`],
    ['a leading marker and a trailing one', `---\n${vm('a')}---\n`],
    ['a marker with a comment', `--- # first\n${vm('a')}`],
    ['content on the marker line', `--- {apiVersion: wimaxvm.io/v1alpha1, kind: VirtualMachine, metadata: {name: a}, spec: {}}\n`],
    ['a block scalar and flow style', vm('a', `  network: {mac: "52:54:00:00:00:01"}\n`) + `---\n${vm('b').replace('metadata:', 'metadata:\n  annotations:\n    note: |\n      two\n      lines')}`],
    ['a document end marker', `${vm('a')}...\n---\n${vm('b')}`],
    ['anchors and aliases', `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: a\n  labels: &l {x: y}\n  annotations: *l\nspec: {}\n`],
  ])('%s', (_label, text) => {
    expect(parseManifests(text, 'f.yaml')).toEqual(parseManifestsCarefully(text, 'f.yaml'));
  });
});

describe('hostile YAML is an error of its file, with a line, never a crash (issue 15, 1, 3, 6)', () => {
  const head = 'apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: a\n';
  /** Billion laughs in labels: 10^9 strings if expanded. */
  const laughs = (): string => {
    let t = `${head}  labels:\n    a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n`;
    for (let i = 1; i < 9; i++) t += `    a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(',')}]\n`;
    return `${t}spec: {memory: 64Mi}\n`;
  };

  it.each([
    ['an unresolved alias', `${head}  labels: *nope\nspec: {memory: 64Mi}\n`, /Unresolved alias/],
    ['more aliases than a document may expand', `x: &a [1]\ny: [${Array(150).fill('*a').join(',')}]\n`, /Excessive alias count/],
    ['a billion laughs', laughs(), /Excessive alias count/],
    ['a file over 4 MiB', `# ${'x'.repeat(4 * 1024 * 1024)}\n`, /larger than 4 MiB/],
  ])('%s', (_label, text, message) => {
    const { resources, errors } = parseManifests(text, 'f.yaml');
    expect(resources).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'f.yaml', line: 1, message: expect.stringMatching(message) });
  });
});

describe('what the parser loads', () => {
  // The built parser in a child process with a module trace (test/helpers/module-trace.mjs):
  // which modules load, nothing timed. The yaml library was a good part of a parse worker's start.
  it('a valid file never loads the yaml library; the first file with an error does (its lines come from it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-parser-trace-'));
    try {
      const out = join(dir, 'modules.txt');
      const script = join(dir, 'parse.mjs');
      writeFileSync(out, '');
      writeFileSync(script, [
        `import { appendFileSync } from 'node:fs';`,
        `const { parseManifests } = await import(${JSON.stringify(resolve('dist/src/sources/manifest-parser.js'))});`,
        `const ok = parseManifests(${JSON.stringify(vm('a'))}, 'a.yaml');`,
        `appendFileSync(${JSON.stringify(out)}, 'MARK ' + ok.resources.length + '\\n');`,
        `const bad = parseManifests(${JSON.stringify(vm('b', ['  memory: [1'])).replace(/\\n$/, '')}, 'b.yaml');`,
        `appendFileSync(${JSON.stringify(out)}, 'MARK ' + bad.errors.map((e) => e.line).join(',') + '\\n');`,
      ].join('\n'));
      execFileSync(process.execPath, ['--import', resolve('test/helpers/module-trace.mjs'), script], { env: { ...process.env, MODULE_TRACE_OUT: out } });
      const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
      const marks = lines.flatMap((l, i) => (l.startsWith('MARK ') ? [i] : []));
      expect(marks.map((i) => lines[i])).toEqual(['MARK 1', 'MARK 7']);
      const yamlLib = (l: string) => /\/node_modules\/yaml\//.test(l);
      expect(lines.slice(0, marks[0]).filter(yamlLib)).toEqual([]);
      expect(lines.slice(marks[0]! + 1, marks[1]).some(yamlLib)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
