import { describe, expect, it } from 'vitest';
import { parseMemory } from '../../src/api/quantity.js';
import { validateResource } from '../../src/api/schema.js';
import { parseManifests } from '../../src/sources/manifest-parser.js';

const vm = (meta: string[], spec = '  memory: 64Mi') =>
  ['apiVersion: wimaxvm.io/v1alpha1', 'kind: VirtualMachine', 'metadata:', '  name: a', ...meta, 'spec:', spec].join('\n') + '\n';

describe('labels and annotations as the API server checks them (issue 15, 10)', () => {
  it.each<[string, string[], number, RegExp]>([
    ['a key with two slashes', ['  labels:', '    a/b/c: x'], 6, /^metadata\.labels: Invalid value: "a\/b\/c": a qualified name must consist of/],
    ['a key whose name part is too long', ['  labels:', `    example.com/${'n'.repeat(64)}: x`], 6, /name part must be no more than 63 characters/],
    ['a key with an upper-case prefix', ['  labels:', '    Example.com/x: y'], 6, /prefix part a lowercase RFC 1123 subdomain/],
    ['a key with a prefix over 253 characters', ['  labels:', `    ${'a.'.repeat(127)}a/x: y`], 6, /prefix part must be no more than 253 characters/],
    ['a value with shell metacharacters', ['  labels:', '    ok: "$(touch /tmp/pwned)"'], 6, /^metadata\.labels: Invalid value: "\$\(touch \/tmp\/pwned\)": a valid label must be an empty string or/],
    ['a value of 300 characters', ['  labels:', `    ok: ${'v'.repeat(300)}`], 6, /must be no more than 63 characters$/],
    ['an annotation key with a space', ['  annotations:', '    "bad key": x'], 6, /^metadata\.annotations: Invalid value: "bad key"/],
    ['annotations over 256 KiB in total', ['  annotations:', `    a: "${'x'.repeat(200_000)}"`, `    b: "${'x'.repeat(100_000)}"`], 5, /^metadata\.annotations: Too long: must have at most 262144 bytes$/],
  ])('%s: refused at its line', (_label, meta, line, message) => {
    const { resources, errors } = parseManifests(vm(meta), 'f.yaml');
    expect(resources).toEqual([]);
    expect(errors).toEqual([{ file: 'f.yaml', line, message: expect.stringMatching(message) }]);
  });

  it.each<[string, string[]]>([
    ['prefixed keys, empty and dotted values', ['  labels:', '    example.com/MyName: my_value.1', '    app: ""', `    k: ${'v'.repeat(63)}`]],
    ['annotations with any value, up to 256 KiB', ['  annotations:', '    wimaxvm.io/note: "$(anything) [goes] here"', `    big: "${'x'.repeat(250_000)}"`]],
  ])('accepted: %s', (_label, meta) => {
    expect(parseManifests(vm(meta), 'f.yaml').errors).toEqual([]);
  });
});

describe('memory: validate accepts what the controller accepts, one rule (issue 15, 10)', () => {
  it.each([
    ['99999999999999999999999Mi', '"99999999999999999999999Mi"'],
    ['2Ti', '2Ti'],
    ['1025Gi', '1025Gi'],
  ])('%s is refused by validation and by the controller alike', (memory, yaml) => {
    expect(() => parseMemory(memory)).toThrow();
    const { errors } = parseManifests(vm([], `  memory: ${yaml}`), 'f.yaml');
    expect(errors).toEqual([{ file: 'f.yaml', line: 6, message: expect.stringMatching(/^spec\.memory: Invalid value: .*(more than the 1Ti wimaxvm accepts|is too large)$/) }]);
  });

  it('a number too large is refused by the schema', () => {
    expect(parseManifests(vm([], '  memory: 99999999999999999999999'), 'f.yaml').errors[0]!.message).toMatch(/less than or equal to 1099511627776/);
  });

  it('1Ti is the most both accept', () => {
    expect(parseMemory('1Ti')).toBe(2 ** 40);
    expect(validateResource({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'a' }, spec: { memory: '1Ti' } }).ok).toBe(true);
  });
});
