import { describe, expect, it } from 'vitest';
import { InProcessIpClaims } from '../../src/adapters/in-process-ip-claims.js';
import type { VirtualMachine } from '../../src/api/virtual-machine.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { IpAllocator } from '../../src/pools/ip-allocation.js';

function setup(spec = { cidr: '10.5.0.0/29', gateway: '10.5.0.1' }) {
  const store = new DesiredStore();
  store.set('IPPool/default/p', { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'IPPool', metadata: { name: 'p', namespace: 'default', uid: 'p', generation: 1, creationTimestamp: '' }, spec });
  const claims = new InProcessIpClaims();
  return { store, claims, allocator: new IpAllocator({ store, ipClaims: claims }) };
}
const vm = (name: string, network: Record<string, string> = { ipPool: 'p' }): VirtualMachine => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, creationTimestamp: '' },
  spec: { runStrategy: 'Always', memory: '64Mi', vcpus: 1, network },
});
const key = (name: string) => `VirtualMachine/default/${name}`;

describe('IpAllocator through the claims registry', () => {
  it('claims in the pool, records the pool, keeps the address on the next reconcile', async () => {
    const { claims, allocator } = setup();
    expect(await allocator.allocate(key('a'), vm('a'), '52:54:00:00:00:0a', undefined)).toEqual({ kind: 'held', ip: '10.5.0.2', pool: 'p' });
    expect(claims.get('10.5.0.2')).toEqual({ ip: '10.5.0.2', holderKey: key('a'), holderUid: 'uid-a', pool: 'default/p' });
    expect(await allocator.allocate(key('a'), vm('a'), '52:54:00:00:00:0a', '10.5.0.2')).toMatchObject({ kind: 'held', ip: '10.5.0.2' });
    expect(claims.list()).toHaveLength(1);
  });

  it('a claim refused (another controller took it between look and claim) makes the choice again', async () => {
    const { claims, allocator } = setup();
    // Elsewhere, unseen by get(): the registry refuses it at claim time.
    const realClaim = claims.claim.bind(claims);
    claims.claim = async (ip, holderKey, holderUid, pool) => (ip === '10.5.0.2' ? { heldBy: key('elsewhere') } : realClaim(ip, holderKey, holderUid, pool));
    expect(await allocator.allocate(key('a'), vm('a'), '52:54:00:00:00:0a', undefined)).toMatchObject({ kind: 'held', ip: '10.5.0.3' });
  });

  it('moving to a fixed address outside every pool gives the pooled one back; a dry pool keeps what a VM held', async () => {
    const { claims, allocator } = setup({ cidr: '10.5.0.0/30' } as never); // offers .1 .2
    await allocator.allocate(key('a'), vm('a'), 'm', undefined);
    await allocator.allocate(key('b'), vm('b'), 'm', undefined);
    expect(await allocator.allocate(key('c'), vm('c'), 'm', undefined)).toMatchObject({ kind: 'problem', reason: 'IPPoolExhausted', pending: true });
    expect(await allocator.allocate(key('a'), vm('a', { ip: '172.16.0.9' }), 'm', '10.5.0.1')).toEqual({ kind: 'none' });
    expect(claims.get('10.5.0.1')).toBeUndefined();
    expect(await allocator.allocate(key('c'), vm('c'), 'm', undefined)).toMatchObject({ kind: 'held', ip: '10.5.0.1' });
    expect(await allocator.allocate(key('b'), vm('b', { ipPool: 'gone' }), 'm', '10.5.0.2')).toMatchObject({ kind: 'problem', reason: 'IPPoolNotFound', kept: '10.5.0.2' });
    expect(await allocator.releaseAll('uid-b')).toEqual(['10.5.0.2']);
  });
});
