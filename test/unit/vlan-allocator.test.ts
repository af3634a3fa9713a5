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
    a.declare('VirtualMachine/default/other', 7); // its spec names 7 too: it keeps it
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

describe('a VLAN a spec names wins over one handed out automatically', () => {
  const key = (name: string) => `VirtualMachine/default/${name}`;
  const vm = (name: string) => ({ key: key(name), uid: `uid-${name}` });

  it.each([
    ['nobody holds it', [], { free: true }],
    ['the asker holds it', [['me', 7, undefined]], { free: true }],
    ['held automatically', [['auto', 7, undefined]], { free: false, holder: 'auto', yields: true }],
    ['held by one whose spec now names another', [['moved', 7, 9]], { free: false, holder: 'moved', yields: true }],
    ['held by one whose spec names it', [['named', 7, 7]], { free: false, holder: 'named', yields: false }],
  ] as const)('ask: %s', (_label, holders, expected) => {
    const a = new VlanAllocator();
    for (const [owner, vlan, declared] of holders) {
      a.claim(owner, vlan);
      a.declare(owner, declared);
    }
    expect(a.ask('me', 7)).toEqual(expected);
    expect(a.declares('me', 7)).toBe(true);
  });

  it('wantedFrom names the VM that asks for a VLAN its holder does not name; none once the holder names it', () => {
    const a = new VlanAllocator();
    a.claim('auto', 7);
    expect(a.wantedFrom('auto', 7)).toBeUndefined();
    a.ask('me', 7);
    expect(a.wantedFrom('auto', 7)).toBe('me');
    a.declare('auto', 7);
    expect(a.wantedFrom('auto', 7)).toBeUndefined();
    a.declare('auto', undefined);
    a.declare('me', 8); // the asker changed its mind
    expect(a.wantedFrom('auto', 7)).toBeUndefined();
    a.release('me');
    expect(a.wantedFrom('auto', 8)).toBeUndefined();
  });

  it('automatic allocation skips a VLAN a spec names, even before that VM holds it', () => {
    const a = new VlanAllocator({ min: 2, max: 4 });
    a.ask('named', 2);
    expect(a.allocate('auto')).toBe(3);
    a.release('named');
    expect(a.allocate('auto2')).toBe(4);
    expect(a.allocate('auto3')).toBe(2);
  });

  /** One reconcile of a VM as far as VLANs go: choose, then (its port retagged) settle and give back what it left. */
  async function step(a: VlanAllocator, claims: InProcessVlanClaims, name: string, spec: number | undefined) {
    const choice = await chooseVlan(a, claims, vm(name), spec, undefined);
    for (const vlan of a.movingFrom(key(name))) await claims.release(vlan, `uid-${name}`);
    a.settle(key(name));
    return choice;
  }

  it('an automatic holder is evicted: the VM that names the VLAN waits, the holder moves, then the VLAN is its', async () => {
    const a = new VlanAllocator({ min: 2, max: 10 });
    const claims = new InProcessVlanClaims();
    expect(await step(a, claims, 'auto', undefined)).toEqual({ vlan: 2 });
    expect(await step(a, claims, 'named', 2)).toEqual({
      reason: 'VLANReclaiming', evict: key('auto'),
      message: 'VLAN 2 was handed out automatically to default/auto, which moves to another VLAN; then this VM gets it',
    });
    expect(a.holder(2)).toBe(key('auto'));
    const moved = await step(a, claims, 'auto', undefined);
    expect(moved).toEqual({ vlan: 3 });
    expect(a.holder(2)).toBeUndefined();
    expect(await step(a, claims, 'named', 2)).toEqual({ vlan: 2 });
    expect(claims.list().map((c) => [c.vlan, c.holderKey, c.explicit === true])).toEqual([[3, key('auto'), false], [2, key('named'), true]]);
    // The holder stays where it went.
    expect(await step(a, claims, 'auto', undefined)).toEqual({ vlan: 3 });
  });

  it('two VMs swapping the VLANs their specs name converge, never sharing one', async () => {
    const a = new VlanAllocator({ min: 2, max: 10 });
    const claims = new InProcessVlanClaims();
    expect(await step(a, claims, 'x', 7)).toEqual({ vlan: 7 });
    expect(await step(a, claims, 'y', 8)).toEqual({ vlan: 8 });
    const want = { x: 8, y: 7 } as const;
    for (let round = 0; round < 4 && (a.get(key('x')) !== 8 || a.get(key('y')) !== 7); round++) {
      for (const name of ['x', 'y'] as const) {
        await step(a, claims, name, want[name]);
        expect(a.get(key('x'))).not.toBe(a.get(key('y')));
      }
    }
    expect([a.get(key('x')), a.get(key('y'))]).toEqual([8, 7]);
    expect(claims.list().map((c) => c.vlan).sort()).toEqual([7, 8]);
  });

  it('a holder on another controller is asked through the registry; its controller hears of it and moves it', async () => {
    const claims = new InProcessVlanClaims();
    const nodeA = new VlanAllocator({ min: 2, max: 10 });
    const nodeB = new VlanAllocator({ min: 2, max: 10 });
    const wanted: string[] = [];
    claims.onWanted((c) => wanted.push(`${c.vlan} ${c.holderKey} for ${c.wantedBy}`));
    expect(await chooseVlan(nodeA, claims, vm('auto'), undefined, undefined)).toEqual({ vlan: 2 });
    expect(await chooseVlan(nodeB, claims, vm('named'), 2, undefined)).toMatchObject({ reason: 'VLANReclaiming' });
    expect(wanted).toEqual([`2 ${key('auto')} for ${key('named')}`]);
    expect(await chooseVlan(nodeA, claims, vm('auto'), undefined, undefined)).toEqual({ vlan: 3 });
    for (const vlan of nodeA.movingFrom(key('auto'))) await claims.release(vlan, 'uid-auto');
    nodeA.settle(key('auto'));
    expect(await chooseVlan(nodeB, claims, vm('named'), 2, undefined)).toEqual({ vlan: 2 });
  });

  it('a VLAN held under an explicit claim elsewhere is a conflict, and nobody is asked to move', async () => {
    const claims = new InProcessVlanClaims();
    const wanted: number[] = [];
    claims.onWanted((c) => wanted.push(c.vlan));
    await claims.claim(5, key('there'), 'uid-there', true);
    expect(await chooseVlan(new VlanAllocator(), claims, vm('named'), 5, undefined)).toEqual({ reason: 'VLANConflict', message: 'VLAN 5 is held by default/there' });
    expect(wanted).toEqual([]);
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
