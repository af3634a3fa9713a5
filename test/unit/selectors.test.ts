import { describe, expect, it } from 'vitest';
import { matches, parseSelector } from '../../src/cli/selectors.js';
import { UsageError } from '../../src/cli/usage.js';

describe('label selectors (kubectl syntax)', () => {
  const labels = { app: 'web', tier: 'lab', 'example.com/owner': 'ana', empty: '' };
  const m = (selector: string) => matches(parseSelector(selector), labels);

  it('parses every operator, with or without spaces', () => {
    expect(parseSelector(' app = web , tier!=prod,!gone, env in ( a , b ),x notin (y),n>3 ')).toEqual([
      { key: 'app', operator: 'in', values: ['web'] },
      { key: 'tier', operator: 'notin', values: ['prod'] },
      { key: 'gone', operator: 'absent', values: [] },
      { key: 'env', operator: 'in', values: ['a', 'b'] },
      { key: 'x', operator: 'notin', values: ['y'] },
      { key: 'n', operator: 'gt', values: ['3'] },
    ]);
    expect(parseSelector('')).toEqual([]);
  });

  it('matches as Kubernetes does', () => {
    expect(m('')).toBe(true);
    expect(m('app=web,tier=lab')).toBe(true);
    expect(m('app=web,tier=prod')).toBe(false);
    expect(m('example.com/owner==ana')).toBe(true);
    expect(m('empty=')).toBe(true); // an empty value is a value
    expect(m('empty')).toBe(true);
    expect(m('missing!=x')).toBe(true);
    expect(m('missing notin (x)')).toBe(true);
    expect(m('missing in (x)')).toBe(false);
    expect(m('!app')).toBe(false);
  });

  it('refuses what kubectl refuses, as a usage error', () => {
    for (const bad of ['app=web,', ',app', 'app in (web', 'app in web', 'app=(web)', '!app=web', 'app web', 'Bad_Prefix/x', 'app=' + 'v'.repeat(64), 'n>x']) {
      expect(() => parseSelector(bad), bad).toThrow(UsageError);
    }
  });
});
