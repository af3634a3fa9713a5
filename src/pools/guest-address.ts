// The guest's IPv4 configuration for whatever tells it (the NoCloud seed's static network config,
// a DHCP host entry): its address with the prefix length, gateway and DNS of its pool. Pure.
import { IPPOOL_KIND, type IPPool } from '../api/ip-pool.js';
import type { VirtualMachine } from '../api/virtual-machine.js';
import type { DesiredStore } from '../core/desired-store.js';
import { cidrContains, formatIpv4, parseIpv4 } from './ipv4.js';
import { compilePool } from './pool-addresses.js';

export interface GuestAddress {
  address: string;
  prefixLength: number;
  gateway?: string;
  dns?: string[];
}

/**
 * The VM's IPv4 configuration: status.allocations.ip, else spec.network.ip, with the prefix
 * length, gateway and DNS of its pool: spec.network.ipPool if named, else the pool among `pools`
 * whose cidr holds the address. undefined when the VM has no address yet, or no (valid) pool
 * holds it: then nothing says its prefix length. In a VM step, pass `address` = ctx.ip (the
 * allocation of this reconcile; vm.status is not read there).
 */
export function guestAddressFor(vm: VirtualMachine, pools: readonly IPPool[], address?: string): GuestAddress | undefined {
  const text = address ?? vm.status?.allocations?.ip ?? vm.spec.network?.ip;
  if (text === undefined) return undefined;
  let ip: number;
  try {
    ip = parseIpv4(text);
  } catch {
    return undefined;
  }
  const named = vm.spec.network?.ipPool;
  const candidates = named !== undefined ? pools.filter((p) => p.metadata.name === named) : pools;
  for (const pool of candidates) {
    const compiled = compilePool(pool.spec);
    if (!compiled.ok || !cidrContains(compiled.pool.cidr, ip)) continue;
    const { prefixLength } = compiled.pool.cidr;
    return {
      address: formatIpv4(ip),
      prefixLength,
      ...(compiled.pool.gateway !== undefined ? { gateway: formatIpv4(compiled.pool.gateway) } : {}),
      ...(compiled.pool.dns.length ? { dns: compiled.pool.dns } : {}),
    };
  }
  return undefined;
}

/** The IPPools declared in `namespace`. */
export function declaredPools(store: DesiredStore, namespace: string): IPPool[] {
  return store.keysOf(IPPOOL_KIND, namespace).map((key) => store.get<IPPool>(key)!);
}
