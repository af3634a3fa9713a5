// Import progress and image usage, pure: the bar and the plain lines, their pacing on a clock
// the test moves, and who uses which image.
import { describe, expect, it } from 'vitest';
import { barLine, formatEta, plainLine, Progress } from '../../src/images/progress.js';
import { usageOf } from '../../src/images/image-usage.js';

const MiB = 2 ** 20;

describe('progress text', () => {
  it.each([[undefined, '?'], [0.2, '1s'], [59, '59s'], [125, '2m05s'], [3720, '1h02m']])('ETA %s s reads %s', (s, text) => {
    expect(formatEta(s)).toBe(text);
  });

  it('the bar: percent, bytes, rate and ETA, within the terminal width', () => {
    const line = barLine('debian.qcow2', { done: 64 * MiB, total: 256 * MiB, elapsedMs: 2000 }, 100);
    expect(line).toMatch(/^debian\.qcow2  25% \[=+> +\] 64\.0MiB\/256MiB  32\.0MiB\/s  ETA 6s$/);
    expect(line.length).toBeLessThan(100);
    expect(barLine('x', { done: 10, total: 10, elapsedMs: 5 }, 80)).toMatch(/100% \[=+\] .* ETA 0s$/);
    expect(barLine('x', { done: 0, total: 10, elapsedMs: 0 }, 80)).toMatch(/ 0% \[ +\] 0B\/10B  -  ETA \?$/);
    expect(barLine('a-long-name'.repeat(8), { done: 1, total: 2, elapsedMs: 1000 }, 40).length).toBeLessThanOrEqual(39);
  });

  it('a plain line', () => {
    expect(plainLine('d.raw', { done: 30 * MiB, total: 100 * MiB, elapsedMs: 3000 })).toBe('d.raw: 30% (30.0MiB of 100MiB, 10.0MiB/s, ETA 7s)');
    expect(plainLine('d.raw', { done: 100 * MiB, total: 100 * MiB, elapsedMs: 10_000 })).toBe('d.raw: 100% (100MiB of 100MiB, 10.0MiB/s)');
  });
});

describe('progress pacing', () => {
  function run(columns: number | undefined, steps: [number, number][]): string[] {
    let now = 0;
    const out: string[] = [];
    const p = new Progress({ label: 'i', total: 100 * MiB, columns, write: (t) => void out.push(t), now: () => now });
    for (const [at, done] of steps) {
      now = at;
      p.update(done * MiB);
    }
    p.finish(100 * MiB);
    return out;
  }

  it('plain: a line at each tenth, or after 5 s without one; never one per chunk', () => {
    const perMiB = Array.from({ length: 100 }, (_, i) => [i * 10, i + 1] as [number, number]); // 100 chunks in 1 s
    const lines = run(undefined, perMiB);
    expect(lines.map((l) => /: (\d+)%/.exec(l)![1])).toEqual(['10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(lines.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    // Slow: 1 % in 12 s: a line each time 5 s have passed since the last (at 6 s and 12 s).
    const slow = run(undefined, [[1000, 0.5], [4000, 0.7], [6000, 0.8], [8000, 0.9], [12_000, 1]]);
    expect(slow.map((l) => /: (\d+)%/.exec(l)![1])).toEqual(['0', '1', '100']);
  });

  it('terminal: the bar redrawn in place at most ten times a second, then a newline', () => {
    const perMiB = Array.from({ length: 100 }, (_, i) => [i * 10, i + 1] as [number, number]); // 1 s
    const draws = run(80, perMiB);
    expect(draws.length).toBeGreaterThanOrEqual(10);
    expect(draws.length).toBeLessThanOrEqual(12);
    expect(draws.every((d) => d.startsWith('\r') && d.includes('\x1b[K'))).toBe(true);
    expect(draws.at(-1)).toMatch(/100% .*\n$/);
    expect(draws.slice(0, -1).some((d) => d.includes('\n'))).toBe(false);
  });
});

describe('image usage', () => {
  const entries = [
    { name: 'base.qcow2', realPath: '/i/base.qcow2', chain: [] },
    { name: 'child.qcow2', realPath: '/i/child.qcow2', chain: ['/i/base.qcow2'] },
    { name: 'link.qcow2', realPath: '/i/base.qcow2', chain: [], symlink: true },
    { name: 'lone.raw', realPath: '/i/lone.raw', chain: [] },
    { name: 'bad.qcow2', refused: 'x' },
  ];
  it.each([
    [[], { 'base.qcow2': [[], ['child.qcow2']], 'child.qcow2': [[], []], 'link.qcow2': [[], []], 'lone.raw': [[], []] }],
    [[{ vm: 'vm1', images: ['child.qcow2'] }], { 'base.qcow2': [['vm1'], ['child.qcow2']], 'child.qcow2': [['vm1'], []], 'link.qcow2': [[], []] }],
    [[{ vm: 'vm2', images: ['link.qcow2'] }], { 'base.qcow2': [['vm2'], ['child.qcow2']], 'link.qcow2': [['vm2'], []], 'child.qcow2': [[], []] }],
    [[{ vm: 'ns/vm3', images: ['bad.qcow2', 'nothere'] }, { vm: 'vm4', images: ['lone.raw', 'base.qcow2'] }],
      { 'bad.qcow2': [['ns/vm3'], []], 'lone.raw': [['vm4'], []], 'base.qcow2': [['vm4'], ['child.qcow2']], 'link.qcow2': [[], []] }],
  ])('declared %j', (declared, expected) => {
    const used = usageOf(entries, declared);
    for (const [name, [vms, images]] of Object.entries(expected)) expect(used.get(name), name).toEqual({ vms, images });
  });
});
