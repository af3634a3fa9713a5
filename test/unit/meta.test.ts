import { describe, expect, it } from 'vitest';
import { findCondition, parseResourceKey, removeCondition, resourceKey, setCondition, type Condition } from '../../src/api/meta.js';
import { domainNameFor, resourceNameForDomain } from '../../src/api/virtual-machine.js';

const T0 = '2024-01-01T00:00:00Z';
const T1 = '2025-01-01T00:00:00Z';

const ready = (status: Condition['status'], reason = 'Running', message = 'm'): Omit<Condition, 'lastTransitionTime'> =>
  ({ type: 'Ready', status, reason, message, observedGeneration: 2 });

describe('setCondition', () => {
  const existing: Condition[] = [
    { ...ready('True'), observedGeneration: 1, lastTransitionTime: T0 },
    { type: 'Stalled', status: 'True', reason: 'X', message: 'x', observedGeneration: 1, lastTransitionTime: T0 },
  ];

  it.each<[string, Omit<Condition, 'lastTransitionTime'>, string]>([
    ['same status keeps the time', ready('True'), T0],
    ['same status, new reason and message keep the time', ready('True', 'Other', 'other'), T0],
    ['status flips to False', ready('False'), T1],
    ['status flips to Unknown', ready('Unknown'), T1],
  ])('%s', (_label, next, time) => {
    const out = setCondition(existing, next, T1);
    expect(out).toHaveLength(2);
    expect(out[0]).toEqual({ ...next, lastTransitionTime: time });
    expect(out[1]).toBe(existing[1]);
  });

  it('appends a new type with the given time', () => {
    const out = setCondition(existing, { type: 'RestartRequired', status: 'True', reason: 'R', message: 'r', observedGeneration: 2 }, T1);
    expect(out.map((c) => c.type)).toEqual(['Ready', 'Stalled', 'RestartRequired']);
    expect(out[2]!.lastTransitionTime).toBe(T1);
  });

  it('does not change its input', () => {
    const copy = structuredClone(existing);
    setCondition(existing, ready('False'), T1);
    setCondition(existing, { ...ready('True'), type: 'New' }, T1);
    expect(existing).toEqual(copy);
  });
});

describe('removeCondition / findCondition', () => {
  const list: Condition[] = [
    { ...ready('True'), lastTransitionTime: T0 },
    { type: 'Stalled', status: 'True', reason: 'X', message: 'x', observedGeneration: 1, lastTransitionTime: T0 },
  ];
  it.each([
    ['Stalled', ['Ready']],
    ['Ready', ['Stalled']],
    ['Missing', ['Ready', 'Stalled']],
  ])('removing %s leaves %j', (type, left) => {
    expect(removeCondition(list, type).map((c) => c.type)).toEqual(left);
    expect(list).toHaveLength(2);
  });

  it.each([
    ['Stalled', 'Stalled'],
    ['Nope', undefined],
  ])('find %s', (type, found) => {
    expect(findCondition(list, type)?.type).toBe(found);
    expect(findCondition(undefined, type)).toBeUndefined();
  });
});

describe('resource keys', () => {
  it.each([
    ['VirtualMachine', 'default', 'vm30', 'VirtualMachine/default/vm30'],
    ['VirtualMachine', 'lab', 'a.b-c', 'VirtualMachine/lab/a.b-c'],
  ])('%s %s %s ⇄ %s', (kind, namespace, name, key) => {
    expect(resourceKey(kind, namespace, name)).toBe(key);
    expect(parseResourceKey(key)).toEqual({ kind, namespace, name });
  });

  it.each([[''], ['VirtualMachine'], ['VirtualMachine/default'], ['VirtualMachine//vm30'], ['/default/vm30'], ['VirtualMachine/default/']])(
    'rejects %j',
    (key) => {
      expect(() => parseResourceKey(key)).toThrow(`malformed resource key ${JSON.stringify(key)}`);
    },
  );
});

describe('domain names', () => {
  it.each([
    ['default', 'vm30', 'vm30'],
    ['default', 'a.b-c', 'a.b-c'],
    ['lab', 'vm30', 'lab_vm30'],
    ['team-a', 'x.y', 'team-a_x.y'],
  ])('%s/%s ⇄ %s', (namespace, name, domain) => {
    expect(domainNameFor(namespace, name)).toBe(domain);
    expect(resourceNameForDomain(domain)).toEqual({ namespace, name });
  });

  it('a domain name without "_" belongs to the default namespace', () => {
    expect(resourceNameForDomain('debian')).toEqual({ namespace: 'default', name: 'debian' });
  });
});
