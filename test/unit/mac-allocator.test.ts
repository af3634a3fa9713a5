import { describe, expect, it } from 'vitest';
import { canonicalMac, MacAllocator } from '../../src/allocators/mac-allocator.js';

const MAC_RE = /^52:54:00(:[0-9a-f]{2}){3}$/;

function firstOctet(mac: string): number {
  return parseInt(mac.slice(0, 2), 16);
}

describe('allocate', () => {
  it.each([['uid-1'], ['uid-2'], ['0b7e5c1a-3f61-4c2f-9d0a-5f1b2c3d4e5f'], ['']])('is deterministic for seed %j', (seed) => {
    const a = new MacAllocator().allocate('default/vm', seed);
    const b = new MacAllocator().allocate('other/owner', seed);
    expect(a).toBe(b);
    expect(a).toMatch(MAC_RE);
  });

  it('different seeds give different MACs', () => {
    const m = new MacAllocator();
    expect(m.allocate('a', 'seed-a')).not.toBe(m.allocate('b', 'seed-b'));
  });

  it('returns the same MAC to the same owner, whatever the seed', () => {
    const m = new MacAllocator();
    const first = m.allocate('a', 'seed-1');
    expect(m.allocate('a', 'seed-2')).toBe(first);
    expect(m.size).toBe(1);
  });

  it('is unique across 5000 owners, all unicast and locally administered with the 52:54:00 prefix', () => {
    const m = new MacAllocator();
    const macs = Array.from({ length: 5000 }, (_, i) => m.allocate(`ns/vm${i}`, `uid-${i}`));
    expect(new Set(macs).size).toBe(5000);
    expect(m.size).toBe(5000);
    for (const mac of macs) {
      expect(mac).toMatch(MAC_RE);
      expect(firstOctet(mac) & 1).toBe(0); // unicast
      expect(firstOctet(mac) & 2).toBe(2); // locally administered
    }
    macs.forEach((mac, i) => expect(m.holder(mac)).toBe(`ns/vm${i}`));
  });

  it('never generates a MAC claimed by another owner', () => {
    const probe = new MacAllocator().allocate('x', 'seed');
    const m = new MacAllocator();
    m.claim('holder', probe.toUpperCase());
    const mac = m.allocate('newcomer', 'seed');
    expect(mac).not.toBe(probe);
    expect(mac).toMatch(MAC_RE);
    expect(m.holder(probe)).toBe('holder');
  });
});

describe('claim / holder / release', () => {
  it('claims case-insensitively and reports the holder', () => {
    const m = new MacAllocator();
    m.claim('a', '52:54:00:AA:BB:CC');
    expect(m.get('a')).toBe('52:54:00:aa:bb:cc');
    expect(m.holder('52:54:00:aa:bb:cc')).toBe('a');
    expect(m.holder('52:54:00:AA:BB:CC')).toBe('a');
    expect(m.holder('52:54:00:00:00:00')).toBeUndefined();
  });

  it('a MAC held by another owner is not taken over', () => {
    const m = new MacAllocator();
    m.claim('a', '52:54:00:00:00:01');
    m.claim('b', '52:54:00:00:00:01');
    expect(m.holder('52:54:00:00:00:01')).toBe('a');
    expect(m.get('b')).toBeUndefined();
  });

  it('claiming a new MAC frees the old one', () => {
    const m = new MacAllocator();
    m.claim('a', '52:54:00:00:00:01');
    m.claim('a', '52:54:00:00:00:02');
    expect(m.get('a')).toBe('52:54:00:00:00:02');
    expect(m.holder('52:54:00:00:00:01')).toBeUndefined();
    expect(m.size).toBe(1);
  });

  it('release frees the MAC for others', () => {
    const m = new MacAllocator();
    m.claim('a', '52:54:00:00:00:01');
    m.release('a');
    expect(m.get('a')).toBeUndefined();
    expect(m.holder('52:54:00:00:00:01')).toBeUndefined();
    m.claim('b', '52:54:00:00:00:01');
    expect(m.holder('52:54:00:00:00:01')).toBe('b');
    m.release('nobody');
    expect(m.size).toBe(1);
  });

  it('after release the owner gets its deterministic MAC again', () => {
    const m = new MacAllocator();
    const first = m.allocate('a', 'seed');
    m.release('a');
    expect(m.allocate('a', 'seed')).toBe(first);
  });

  it.each([['52:54:00:AA:bb:Cc', '52:54:00:aa:bb:cc'], ['02:00:00:00:00:01', '02:00:00:00:00:01']])('canonicalMac(%s) = %s', (mac, canon) => {
    expect(canonicalMac(mac)).toBe(canon);
  });
});
