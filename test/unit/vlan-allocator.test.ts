import { describe, expect, it } from 'vitest';
import { parseVlanRange, VlanAllocator } from '../../src/allocators/vlan-allocator.js';
import { InProcessVlanClaims } from '../../src/adapters/in-process-vlan-claims.js';
import { chooseVlan } from '../../src/reconcilers/virtual-machine/slice-network.js';

const vmA = { key: 'VirtualMachine/default/a', uid: 'uid-a' };

describe('VlanAllocator', () => {
  it('hands out the range from its lower edge, never 0 or 1, each VLAN once', () => {
    const a = new VlanAllocator();
    expect([a.allocate('x'), a.allocate('y'), a.allocate('z')]).toEqual([2, 3, 4]);
    expect(a.allocate('x')).toBe(2); // stable for the same owner
  });

  it.each([
    ['2-4094', { min: 2, max: 4094 }],
    ['100-100', { min: 100, max: 100 }],
  ])('parses range %s', (text, range) => expect(parseVlanRange(text)).toEqual(range));

  it.each(['0-10', '1-10', '2-4095', '10-5', 'abc', '5'])('rejects range %s', (text) => {
    expect(() => parseVlanRange(text)).toThrow(/invalid VLAN range/);
  });

  it('reaches the upper edge and then reports exhaustion instead of throwing', () => {
    const a = new VlanAllocator({ min: 4093, max: 4094 });
    expect(a.allocate('a')).toBe(4093);
    expect(a.allocate('b')).toBe(4094);
    expect(a.allocate('c')).toBeUndefined();
    a.release('a');
    expect(a.allocate('c')).toBe(4093);
  });

  it('does not hand a just-freed VLAN to the next VM while others are free', () => {
    const a = new VlanAllocator({ min: 10, max: 20 });
    a.allocate('a');
    a.allocate('b');
    a.release('a');
    expect(a.allocate('c')).toBe(12);
  });

  it('explicit claims: exact VLAN, conflicts name the holder, re-claiming moves the owner', () => {
    const a = new VlanAllocator();
    expect(a.claim('vm/default/a', 7)).toEqual({ ok: true });
    expect(a.claim('vm/default/b', 7)).toEqual({ ok: false, holder: 'vm/default/a' });
    expect(a.claim('vm/default/a', 9)).toEqual({ ok: true });
    expect(a.holder(7)).toBe('vm/default/a'); // until its port is retagged
    a.settle('vm/default/a');
    expect(a.holder(7)).toBeUndefined();
    expect(a.claim('vm/default/b', 7)).toEqual({ ok: true });
  });

  it('allocation skips claimed VLANs (a rebuild before the first reconcile)', () => {
    const a = new VlanAllocator({ min: 2, max: 5 });
    a.claim('old-1', 2);
    a.claim('old-2', 3);
    expect(a.allocate('new')).toBe(4);
  });
});

describe('chooseVlan', () => {
  it.each([
    ['explicit and free', 7, undefined, { vlan: 7 }],
    ['kept from status', undefined, 42, { vlan: 42 }],
    ['new', undefined, undefined, { vlan: 2 }],
    ['kept but outside the range', undefined, 1, { vlan: 2 }],
  ])('%s', async (_label, spec, kept, expected) => {
    expect(await chooseVlan(new VlanAllocator(), new InProcessVlanClaims(), vmA, spec, kept)).toEqual(expected);
  });

  it('an explicit VLAN held by another VM is a conflict; the VM keeps what it held', async () => {
    const a = new VlanAllocator();
    a.claim('VirtualMachine/default/other', 7);
    a.claim('VirtualMachine/default/a', 3);
    const choice = await chooseVlan(a, new InProcessVlanClaims(), vmA, 7, 3);
    expect(choice).toEqual({ reason: 'VLANConflict', message: 'VLAN 7 is held by default/other' });
    expect(a.get('VirtualMachine/default/a')).toBe(3);
  });

  it('an exhausted range says so', async () => {
    const a = new VlanAllocator({ min: 5, max: 5 });
    a.claim('VirtualMachine/default/other', 5);
    expect(await chooseVlan(a, new InProcessVlanClaims(), vmA, undefined, undefined)).toMatchObject({ reason: 'VLANRangeExhausted' });
  });
});

describe('a VLAN a VM moves away from', () => {
  it('is nobody else\'s until the move is settled', () => {
    const a = new VlanAllocator({ min: 2, max: 4 });
    a.claim('vm-a', 2);
    a.claim('vm-a', 3); // the spec changed; the running guest's port still carries 2
    expect(a.claim('vm-b', 2)).toEqual({ ok: false, holder: 'vm-a' });
    expect(a.allocate('vm-c')).toBe(4);
    expect(a.allocate('vm-d')).toBeUndefined();
    a.settle('vm-a');
    expect(a.claim('vm-b', 2)).toEqual({ ok: true });
  });

  it('moving back to it takes it again at once', () => {
    const a = new VlanAllocator();
    a.claim('vm-a', 7);
    a.claim('vm-a', 9);
    a.claim('vm-a', 7);
    a.settle('vm-a');
    expect(a.holder(7)).toBe('vm-a');
    expect(a.holder(9)).toBeUndefined();
  });
});
