import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toYaml } from '../../src/adapters/yaml-emitter.js';

describe('toYaml', () => {
  it.each([
    ['a status', {
      apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
      metadata: { name: 'vm30', namespace: 'default', generation: 3, annotations: { 'wimaxvm.io/source': 'vms.yaml:12' } },
      spec: { runStrategy: 'Always', memory: '256Mi', vcpus: 1, network: { mac: '52:52:52:52:52:52' }, disks: [{ image: 'a.qcow2' }] },
      status: { printableStatus: 'Running', conditions: [{ type: 'Ready', status: 'True', message: 'the guest is running, as "Always" asks', lastTransitionTime: '2026-11-21T16:13:07.650Z' }], allocations: { vlan: 7 }, startedOnce: true },
    }],
    ['strings YAML would read otherwise', { a: 'true', b: 'no', c: '007', d: '1e3', e: '', f: 'null', g: '~', h: '- x', i: 'a: b', j: '#c', k: 'multi\nline', l: ' padded ', m: '2026-11-21', n: 'café', o: '@x', p: '*x', q: '&x', r: '!x', s: '%x', t: '`x', u: '[x]', v: '{x}' }],
    ['empty and nested collections', { a: [], b: {}, c: [[], {}, [1, 2]], d: [{ x: [] }], e: null, f: 0, g: -1.5, h: false }],
    ['odd keys', { 'a b': 1, 'true': 2, '': 3, '1': 4 }],
  ])('%s reads back the same', (_label, value) => {
    expect(parse(toYaml(value as Record<string, unknown>))).toEqual(value);
  });

  it('leaves out undefined fields, as JSON does', () => {
    expect(parse(toYaml({ a: 1, b: undefined }))).toEqual({ a: 1 });
  });
});
