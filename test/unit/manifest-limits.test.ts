import { describe, expect, it } from 'vitest';
import { checkManifestLimits, MAX_DOCUMENTS, MAX_NESTING } from '../../src/sources/manifest-limits.js';
import { MAX_ERRORS_PER_FILE, parseManifests } from '../../src/sources/manifest-parser.js';
import { hostileManifests } from '../helpers/hostile-manifests.js';

const HEAD = 'apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: a\n';
const nestedFlow = (depth: number) => `${HEAD}  labels: {x: "${'['.repeat(500)}"}\nspec:\n  disks: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
const nestedBlock = (depth: number) => `${HEAD}spec:\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(i + 1)}a${i}:\n`).join('')}`;

describe('limits checked before any YAML parser runs (issue 15: input is bounded before it is parsed)', () => {
  it.each<[string, string, number, RegExp]>([
    ['a file over 4 MiB', `# ${'é'.repeat(2 * 1024 * 1024 + 1)}\n`, 1, /larger than 4 MiB/],
    ['a document over 512 KiB, at the line it starts', `${HEAD}spec: {}\n---\n${HEAD}  annotations:\n    x: "${'x'.repeat(600 * 1024)}"\nspec: {}\n`, 6, /document starting here is larger than 512 KiB/],
    ['flow nesting over the limit, at its line', nestedFlow(MAX_NESTING), 7, /nested more than 64 deep/],
    ['block nesting over the limit, at its line', nestedBlock(MAX_NESTING), 6 + MAX_NESTING - 1, /nested more than 64 deep/],
    ['too many documents, at the first one too many', '---\n'.repeat(MAX_DOCUMENTS + 1), MAX_DOCUMENTS + 1, /more than 10000 documents/],
  ])('%s', (_label, text, line, message) => {
    const error = checkManifestLimits(text);
    expect(error).toMatchObject({ line, message: expect.stringMatching(message) });
    expect(parseManifests(text, 'f.yaml')).toEqual({ resources: [], errors: [{ file: 'f.yaml', line, message: error!.message }] });
  });

  it.each<[string, string]>([
    ['nesting just under the limit', `${HEAD}spec:\n  disks: [${'['.repeat(MAX_NESTING - 4)}${']'.repeat(MAX_NESTING - 4)}]\n`],
    ['brackets inside quoted strings and comments', `${HEAD}  annotations:\n    json: '${'[{'.repeat(100)}'\n    q: "${'{'.repeat(100)}" # ${'['.repeat(100)}\nspec: {}\n`],
    ['brackets in block scalars and plain scalars', `${HEAD}  annotations:\n    script: |\n${Array.from({ length: 100 }, (_, i) => `      ${' '.repeat(i)}[x\n`).join('')}    note: a[b{c\nspec: {}\n`],
    ['a valid manifest', `${HEAD}spec:\n  memory: 64Mi\n  network: {shaping: {downlink: 2Mbit}}\n  disks:\n    - image: a.qcow2\n`],
  ])('not refused: %s', (_label, text) => {
    expect(checkManifestLimits(text)).toBeUndefined();
  });

  it('a file reports its first errors, not thousands', () => {
    const text = Array.from({ length: 200 }, (_, i) => `---\n${HEAD.replace('name: a', `name: a${i}`)}spec: {vcpus: 0}\n`).join('');
    const { errors } = parseManifests(text, 'f.yaml');
    expect(errors).toHaveLength(MAX_ERRORS_PER_FILE + 1);
    expect(errors.at(-1)!.message).toMatch(/documents after this line are not checked/);
  });

  it('a long value is cut in the error message', () => {
    const { errors } = parseManifests(`${HEAD}spec:\n  memory: "${'9'.repeat(100_000)}"\n`, 'f.yaml');
    expect(errors[0]!.line).toBe(6);
    expect(errors[0]!.message.length).toBeLessThan(600);
    expect(errors[0]!.message).toMatch(/\.\.\. \(100002 characters\)/);
  });

  // Each hostile file of the bench is refused by a limit or parsed, and the limits scan fast enough to run inline.
  it.each(Object.entries(hostileManifests()))('hostile file %s: an error with its file and a line, or resources', (_name, make) => {
    const text = make();
    const limit = checkManifestLimits(text);
    if (limit) expect(limit.line).toBeGreaterThanOrEqual(1);
  });
});
