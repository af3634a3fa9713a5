// Image names and the pure parts of confinement, as tables.
import { describe, expect, it } from 'vitest';
import { backingLocation, isInside, isProtocolSpec, layerProblem } from '../../src/images/confinement.js';
import { formatPromisedBy, imageNameProblem } from '../../src/images/image-names.js';

describe('image names', () => {
  it.each([
    ['debian.qcow2', false, undefined],
    ['debian-12_amd64.raw', false, undefined],
    ['_x', false, undefined],
    ['', false, /empty/],
    ['.hidden.qcow2', false, /dot/],
    ['..', false, /"\.\."/],
    ['a..b.qcow2', false, /"\.\."/],
    ['../etc/passwd', true, /"\.\."/],
    ['sub/../../x', true, /"\.\."/],
    ['/etc/passwd', false, /absolute/],
    ['/etc/passwd', true, /absolute/],
    ['sub/x.qcow2', false, /"\/"/],
    ['sub/x.qcow2', true, undefined],
    ['sub/.x.qcow2', true, /dot/],
    ['sub//x.qcow2', true, /may contain only/],
    ['a b.qcow2', false, /may contain only/],
    ['-rf.qcow2', false, /may contain only/],
    ['x'.repeat(256), false, /longer than 255/],
  ])('%j (folders %s) -> %s', (name, folders, problem) => {
    const said = imageNameProblem(name, { folders });
    if (problem === undefined) expect(said).toBeUndefined();
    else expect(said).toMatch(problem);
  });

  it.each([['x.qcow2', 'qcow2'], ['X.QCOW2', 'qcow2'], ['x.raw', 'raw'], ['x.img', undefined], ['x', undefined]])('%s promises %s', (name, format) => {
    expect(formatPromisedBy(name)).toBe(format);
  });
});

describe('confinement, pure parts', () => {
  it.each([
    ['/img', '/img/a', true], ['/img', '/img/sub/a', true], ['/img', '/img', false], ['/img', '/imgx/a', false],
    ['/img', '/img/../etc', false], ['/img', '/etc/passwd', false], ['/img', '/img/..a', true],
  ])('isInside(%s, %s) = %s', (root, path, inside) => expect(isInside(root, path)).toBe(inside));

  it.each([
    ['json:{"file":{"filename":"/etc/passwd"}}', true], ['nbd://host/x', true], ['file:base.qcow2', true],
    ['http://x/y.qcow2', true], ['base.qcow2', false], ['/img/base.qcow2', false], ['sub/a:b.qcow2', false],
  ])('%s is a protocol spec: %s', (spec, protocol) => expect(isProtocolSpec(spec)).toBe(protocol));

  it.each([
    ['/img/a.qcow2', 'base.qcow2', '/img/base.qcow2'],
    ['/img/sub/a.qcow2', '../base.qcow2', '/img/base.qcow2'],
    ['/img/a.qcow2', '../etc/passwd', '/etc/passwd'],
    ['/img/a.qcow2', '/etc/passwd', '/etc/passwd'],
  ])('a backing file of %s written %s is looked for at %s', (location, backing, path) => {
    expect(backingLocation(location, backing)).toEqual({ path });
  });

  it('a json: backing spec is a problem, never a path', () => {
    expect(backingLocation('/img/a.qcow2', 'json:{"driver":"raw","file":{"driver":"file","filename":"/img/b"}}')).toMatchObject({ problem: expect.stringMatching(/json: or protocol/) });
  });

  const info = (format: string, extra = {}) => ({ filename: 'f', format, virtualSize: 1 << 20, actualSize: 4096, ...extra });
  it.each([
    [info('qcow2'), 1 << 20, 'qcow2', undefined],
    [info('raw'), 1 << 20, undefined, undefined],
    [info('raw'), 1 << 20, 'qcow2', /name says qcow2, but qemu-img reads it as raw/],
    [info('raw'), 3, undefined, /not a whole number of 512-byte sectors/],
    [info('raw'), 0, undefined, /not a whole number/],
    [info('vmdk'), 1 << 20, undefined, /vmdk image: only qcow2 and raw/],
    [info('luks'), 1 << 20, undefined, /only qcow2 and raw/],
    [info('qcow2', { dataFile: '/etc/passwd' }), 1 << 20, undefined, /external data files/],
  ] as const)('layer %j of %d bytes named as %s: %s', (layer, size, promised, problem) => {
    const said = layerProblem(layer, size, promised);
    if (problem === undefined) expect(said).toBeUndefined();
    else expect(said).toMatch(problem);
  });
});
