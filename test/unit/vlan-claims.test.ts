// VLANs across controllers: each controller has its own allocator (its own VMs), all share one
// claims registry, which decides. Two controllers must never hand out one VLAN twice.
import { describe, expect, it } from 'vitest';
import { VlanAllocator } from '../../src/allocators/vlan-allocator.js';
import { InProcessVlanClaims } from '../../src/adapters/in-process-vlan-claims.js';
import type { ClaimResult, VlanClaim, VlanClaims } from '../../src/ports/vlan-claims.js';
import { chooseVlan } from '../../src/reconcilers/virtual-machine/slice-network.js';

const vm = (name: string) => ({ key: `VirtualMachine/default/${name}`, uid: `uid-${name}` });

/** The registry as another controller sees it a moment late: list() misses what was claimed since. */
class LaggingClaims implements VlanClaims {
  constructor(private readonly inner: InProcessVlanClaims, private readonly known: VlanClaim[] = []) {}
  claim(vlan: number, key: string, uid: string, explicit?: boolean): Promise<ClaimResult> { return this.inner.claim(vlan, key, uid, explicit); }
  request(vlan: number, key: string): Promise<void> { return this.inner.request(vlan, key); }
  release(vlan: number, uid: string): Promise<void> { return this.inner.release(vlan, uid); }
  list(): VlanClaim[] { return this.known; }
  onReleased(): void {}
  onWanted(): void {}
}

describe('VLANs claimed across controllers', () => {
  it('the same explicit VLAN on two controllers: the first gets it, the second a conflict naming the holder', async () => {
    const claims = new InProcessVlanClaims();
    const nodeA = new VlanAllocator();
    const nodeB = new VlanAllocator();
    expect(await chooseVlan(nodeA, claims, vm('a'), 5, undefined)).toEqual({ vlan: 5 });
    expect(await chooseVlan(nodeB, claims, vm('b'), 5, undefined)).toEqual({ reason: 'VLANConflict', message: 'VLAN 5 is held by default/a' });
    expect(nodeB.holder(5)).toBeUndefined(); // nothing taken locally on a refusal
    // Asking again is idempotent for the holder.
    expect(await chooseVlan(nodeA, claims, vm('a'), 5, undefined)).toEqual({ vlan: 5 });
  });

  it('automatic allocation on two controllers gives distinct VLANs', async () => {
    const claims = new InProcessVlanClaims();
    const nodeA = new VlanAllocator();
    const nodeB = new VlanAllocator();
    const got: number[] = [];
    for (const name of ['a1', 'a2', 'a3']) got.push(((await chooseVlan(nodeA, claims, vm(name), undefined, undefined)) as { vlan: number }).vlan);
    for (const name of ['b1', 'b2', 'b3']) got.push(((await chooseVlan(nodeB, claims, vm(name), undefined, undefined)) as { vlan: number }).vlan);
    expect(new Set(got).size).toBe(6);
    expect(claims.list().map((c) => c.vlan).sort((x, y) => x - y)).toEqual([...got].sort((x, y) => x - y));
  });

  it('a stale view of the claims: a refused VLAN is skipped and the next one claimed', async () => {
    const claims = new InProcessVlanClaims();
    await claims.claim(2, 'VirtualMachine/default/x', 'uid-x');
    await claims.claim(3, 'VirtualMachine/default/y', 'uid-y');
    const choice = await chooseVlan(new VlanAllocator(), new LaggingClaims(claims), vm('b'), undefined, undefined);
    expect(choice).toEqual({ vlan: 4 });
    expect(claims.list().find((c) => c.vlan === 4)?.holderUid).toBe('uid-b');
  });

  it('a kept VLAN another VM holds testbed-wide: the VM moves to a free one; the old one is not released for the other', async () => {
    const claims = new InProcessVlanClaims();
    await claims.claim(7, 'VirtualMachine/default/x', 'uid-x');
    const local = new VlanAllocator();
    local.claim(vm('b').key, 7); // what the VM ran on before claims existed
    const choice = await chooseVlan(local, claims, vm('b'), undefined, 7);
    expect(choice).toEqual({ vlan: 2 });
    expect(local.movingFrom(vm('b').key)).toEqual([7]);
    await claims.release(7, 'uid-b'); // settling: not b's to give back
    expect(claims.list().find((c) => c.vlan === 7)?.holderUid).toBe('uid-x');
  });

  it('a VM whose status was lost gets back the VLAN the registry keeps for it', async () => {
    const claims = new InProcessVlanClaims();
    await claims.claim(40, vm('b').key, 'uid-b');
    expect(await chooseVlan(new VlanAllocator(), claims, vm('b'), undefined, undefined)).toEqual({ vlan: 40 });
    expect(claims.list()).toHaveLength(1);
  });

  it('the range used up across controllers: VLANRangeExhausted', async () => {
    const claims = new InProcessVlanClaims();
    await chooseVlan(new VlanAllocator({ min: 2, max: 3 }), claims, vm('a'), undefined, undefined);
    await chooseVlan(new VlanAllocator({ min: 2, max: 3 }), claims, vm('c'), undefined, undefined);
    expect(await chooseVlan(new VlanAllocator({ min: 2, max: 3 }), claims, vm('b'), undefined, undefined)).toMatchObject({ reason: 'VLANRangeExhausted' });
  });

  it('a range full of claims: one whose VM is gone is taken over instead of reporting exhaustion', async () => {
    const claims = new InProcessVlanClaims();
    await claims.claim(2, 'VirtualMachine/default/live', 'uid-live');
    await claims.claim(3, 'VirtualMachine/default/gone', 'uid-gone');
    // The registry knows which holders still exist (the API server's registry asks for the VM).
    const reclaiming: VlanClaims = {
      claim: async (vlan, key, uid) => {
        if (claims.list().find((c) => c.vlan === vlan)?.holderUid === 'uid-gone') await claims.release(vlan, 'uid-gone');
        return claims.claim(vlan, key, uid);
      },
      request: (vlan, key) => claims.request(vlan, key),
      release: (vlan, uid) => claims.release(vlan, uid),
      list: () => claims.list(),
      onReleased: () => {},
      onWanted: () => {},
    };
    expect(await chooseVlan(new VlanAllocator({ min: 2, max: 3 }), reclaiming, vm('b'), undefined, undefined)).toEqual({ vlan: 3 });
    expect(claims.list().find((c) => c.vlan === 2)?.holderUid).toBe('uid-live');
  });

  it('only the holder releases; listeners hear of it', async () => {
    const claims = new InProcessVlanClaims();
    const released: number[] = [];
    claims.onReleased((c) => released.push(c.vlan));
    await claims.claim(5, vm('a').key, 'uid-a');
    await claims.release(5, 'uid-b');
    expect(await claims.claim(5, vm('b').key, 'uid-b')).toEqual({ heldBy: vm('a').key, explicit: false });
    await claims.release(5, 'uid-a');
    expect(released).toEqual([5]);
    expect(await claims.claim(5, vm('b').key, 'uid-b')).toBe('granted');
  });

  it('an API error is not a conflict: chooseVlan throws and the reconcile is retried', async () => {
    const failing: VlanClaims = {
      claim: () => Promise.reject(new Error('connect ECONNREFUSED')), request: async () => {}, release: async () => {}, list: () => [], onReleased: () => {}, onWanted: () => {},
    };
    await expect(chooseVlan(new VlanAllocator(), failing, vm('a'), 5, undefined)).rejects.toThrow('ECONNREFUSED');
    await expect(chooseVlan(new VlanAllocator(), failing, vm('a'), undefined, undefined)).rejects.toThrow('ECONNREFUSED');
  });

  it('heldBy answers from an index that follows claims and releases (a new VM asks without a scan of every claim)', async () => {
    const claims = new InProcessVlanClaims();
    await claims.claim(4, 'VirtualMachine/default/a', 'uid-a');
    await claims.claim(5, 'VirtualMachine/default/a', 'uid-a', true);
    await claims.claim(6, 'VirtualMachine/default/b', 'uid-b');
    expect(await claims.claim(6, 'VirtualMachine/default/a', 'uid-a')).toEqual({ heldBy: 'VirtualMachine/default/b', explicit: false });
    expect(claims.heldBy('uid-a').map((c) => c.vlan).sort()).toEqual([4, 5]);
    await claims.release(4, 'uid-a');
    await claims.release(6, 'uid-a'); // not a's: nothing changes
    expect(claims.heldBy('uid-a')).toEqual([{ vlan: 5, holderKey: 'VirtualMachine/default/a', holderUid: 'uid-a', explicit: true }]);
    expect(claims.heldBy('uid-b').map((c) => c.vlan)).toEqual([6]);
    expect(claims.heldBy('uid-c')).toEqual([]);
    // A VM whose status was lost finds its claim again through the index.
    expect(await chooseVlan(new VlanAllocator(), claims, vm('b'), undefined, undefined)).toEqual({ vlan: 6 });
  });

  it('automatic allocation of 2000 VMs in a row (the index path): each VM its own VLAN, in order, none skipped', async () => {
    const claims = new InProcessVlanClaims();
    const local = new VlanAllocator();
    const got: number[] = [];
    for (let i = 0; i < 2000; i++) got.push(((await chooseVlan(local, claims, vm(`n${i}`), undefined, undefined)) as { vlan: number }).vlan);
    expect(new Set(got).size).toBe(2000);
    expect(got[0]).toBe(local.range.min);
    expect(got[1999]).toBe(local.range.min + 1999);
  });
});
