import { describe, expect, it } from 'vitest';
import { parseQuantity, quantityToKiB } from '../../src/api/quantity.js';

describe('parseQuantity', () => {
  it.each([
    // binary suffixes
    ['1Ki', 1024],
    ['256Mi', 256 * 2 ** 20],
    ['2Gi', 2 * 2 ** 30],
    ['3Ti', 3 * 2 ** 40],
    ['5Pi', 5 * 2 ** 50],
    ['0Ei', 0],
    ['0.001Ei', 1152921504606847],
    // decimal suffixes
    ['1k', 1_000],
    ['64M', 64_000_000],
    ['2G', 2_000_000_000],
    ['3T', 3_000_000_000_000],
    ['1P', 1_000_000_000_000_000],
    ['0.001E', 1_000_000_000_000_000],
    // decimals
    ['1.5Gi', 1.5 * 2 ** 30],
    ['0.5Mi', 2 ** 19],
    ['1.1Ki', 1127], // 1126.4 rounded up to whole bytes
    ['2.5', 3],
    ['1.1k', 1100],
    // plain integers
    ['134217728', 134217728],
    ['0', 0],
    [134217728, 134217728],
    [1.5, 2],
    // surrounding whitespace is trimmed
    [' 5Mi ', 5 * 2 ** 20],
    ['\t7Ki\n', 7 * 1024],
  ] as [string | number, number][])('%j → %d bytes', (input, bytes) => {
    expect(parseQuantity(input)).toBe(bytes);
  });

  // Decimal fractions must not pick up a spurious byte from binary floating point
  // (2.007 * 1e6 is 2007000.0000000002 as a double, and Math.ceil makes that 2007001).
  it.each([
    ['2.007k', 2007],
    ['2.007M', 2_007_000],
    ['4.001k', 4001],
  ])('%s is exactly %d bytes', (input, bytes) => {
    expect(parseQuantity(input)).toBe(bytes);
  });

  it.each([
    ['-5'],
    ['-5Mi'],
    ['1e3'],
    [''],
    ['   '],
    ['abc'],
    ['1Mib'],
    ['1mi'],
    ['1K'],
    ['Mi'],
    ['.5Mi'],
    ['5.Mi'],
    ['5 Mi'],
    ['100m'],
    ['+5'],
    ['0x10'],
    [-5],
    [1e21],
    [Number.NaN],
  ] as [string | number][])('rejects %j', (input) => {
    expect(() => parseQuantity(input)).toThrow(/invalid quantity/);
  });

  it('names the offending input in the error', () => {
    expect(() => parseQuantity('1Mib')).toThrow('invalid quantity "1Mib": expected a number with an optional suffix such as Mi or Gi');
  });

  it.each([['1Ei'], ['1E'], ['8Pi'], ['99999999999999999']])('rejects %s as too large', (input) => {
    expect(() => parseQuantity(input)).toThrow(/too large/);
  });
});

describe('quantityToKiB', () => {
  it.each([
    ['1Ki', 1],
    ['256Mi', 262144],
    ['1Gi', 1048576],
    ['1', 1],
    ['1025', 2],
    ['1k', 1], // 1000 bytes rounds up to 1 KiB
    ['2048', 2],
    [2049, 3],
    ['1.5Mi', 1536],
    ['0', 0],
    // 2055168 bytes is exactly 2007 KiB
    ['2055.168k', 2007],
  ] as [string | number, number][])('%j → %d KiB', (input, kib) => {
    expect(quantityToKiB(input)).toBe(kib);
  });

  it('rejects what parseQuantity rejects', () => {
    expect(() => quantityToKiB('1e3')).toThrow(/invalid quantity/);
  });
});
