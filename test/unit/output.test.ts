// Tables in kubectl's style, as `get` and its watch print them.
import { describe, expect, it } from 'vitest';
import { columnWidths, table, tableLine } from '../../src/cli/output.js';

describe('tables', () => {
  it('pads every column but the last to its widest cell and 3 spaces', () => {
    expect(table(['NAME', 'STATUS', 'VLAN'], [['vm30', 'Running', '7'], ['vm7', 'Stopped', '9']]).split('\n')).toEqual([
      'NAME   STATUS    VLAN',
      'vm30   Running   7',
      'vm7    Stopped   9',
    ]);
  });

  it('a cell wider than its column (a watch line after the first list) keeps its 3 spaces', () => {
    const widths = columnWidths(['NAME', 'STATUS', 'VLAN'], [['vm30', 'Running', '7']]);
    expect(tableLine(['vm30', 'Terminating', '7'], widths)).toBe('vm30   Terminating   7');
  });

  it('a line never ends in whitespace (an empty last cell, a cell ending in spaces), however wide its columns', () => {
    expect(tableLine(['vm30', ''], [4, 0])).toBe('vm30');
    expect(tableLine(['vm30', 'x  '], [4, 0])).toBe('vm30   x');
    expect(tableLine(['a', 'b', ''], [300, 1, 0])).toBe('a' + ' '.repeat(302) + 'b');
    expect(tableLine(['only'], [10])).toBe('only');
    expect(tableLine([], [])).toBe('');
  });
});
