// Which IPv4 address a VM holds: pure planning in front of the claims registry (ports/ip-claims.ts).
// A VM that names a pool gets an address of it once and keeps it (across restarts: `previous`
// comes from status or the domain's metadata), even when the pool shrinks under it (said in the
// pool's status). A fixed spec.network.ip inside a pool's range is claimed too, so no pool hands
// it to another VM; a clash is reported, never a silent double.
import type { IPPool } from '../api/ip-pool.js';
import { formatIpv4, parseIpv4 } from './ipv4.js';
import { compilePool, type PoolAddresses } from './pool-addresses.js';
import { cidrContains } from './ipv4.js';

export interface IpChoiceInput {
  /** The VM (its queue key) asking. */
  holder: string;
  /** The VM's MAC: a pool host entry naming a MAC is that VM's only. */
  mac: string;
  spec: { ip?: string; ipPool?: string };
  /** The IPPools of the VM's namespace. */
  pools: readonly IPPool[];
  /** The address the VM held before (status, else the domain's metadata). */
  previous?: string;
  /** Who holds an address now (any VM, any pool), undefined when free. */
  holderOf: (ip: string) => string | undefined;
}

export type IpProblemReason = 'IPPoolNotFound' | 'IPPoolInvalid' | 'IPPoolExhausted' | 'IPConflict' | 'IPNotInPool' | 'InvalidIP';

export type IpChoice =
  /** Nothing to claim: no pool named and the fixed address (if any) is in no pool. */
  | { kind: 'none' }
  /** Claim this address (in `pool`, by name, when it is one's). */
  | { kind: 'claim'; ip: string; pool?: string; hostname?: string }
  /** No address now: `pending` (wait: a pool may grow or an address free up) or a spec to fix. */
  | { kind: 'problem'; reason: IpProblemReason; message: string; pending: boolean };

function compiled(pool: IPPool): PoolAddresses | undefined {
  const result = compilePool(pool.spec);
  return result.ok ? result.pool : undefined;
}

export function chooseIp(input: IpChoiceInput): IpChoice {
  const { spec, holder } = input;
  const named = spec.ipPool !== undefined ? input.pools.find((p) => p.metadata.name === spec.ipPool) : undefined;
  if (spec.ipPool !== undefined && !named) {
    return { kind: 'problem', reason: 'IPPoolNotFound', message: `IPPool ${spec.ipPool} does not exist in namespace ${input.pools[0]?.metadata.namespace ?? 'of the VM'}`, pending: true };
  }
  const pool = named && compiled(named);
  if (named && !pool) return { kind: 'problem', reason: 'IPPoolInvalid', message: `IPPool ${named.metadata.name} is invalid (see its status)`, pending: true };

  if (spec.ip !== undefined) return chooseFixed(input, spec.ip, named && pool ? { name: named.metadata.name, pool } : undefined);
  if (!named || !pool) return { kind: 'none' };

  const heldByOther = (ip: number) => {
    const h = input.holderOf(formatIpv4(ip));
    return h !== undefined && h !== holder;
  };
  const hostnameOf = (ip: number) => pool.hosts.get(ip)?.hostname;
  const claim = (ip: number): IpChoice => ({ kind: 'claim', ip: formatIpv4(ip), pool: named.metadata.name, ...(hostnameOf(ip) ? { hostname: hostnameOf(ip)! } : {}) });

  // Kept: the address it had, while inside the pool's subnet (also when the pool no longer offers it).
  const previous = input.previous !== undefined ? tryParse(input.previous) : undefined;
  if (previous !== undefined && cidrContains(pool.cidr, previous) && !heldByOther(previous)) {
    const reserved = pool.hosts.get(previous)?.mac;
    if (!reserved || reserved === input.mac.toLowerCase()) return claim(previous);
  }
  // An entry reserved for this VM's MAC first, then the first free address nobody else reserved.
  for (const [ip, host] of pool.hosts) if (host.mac === input.mac.toLowerCase() && !heldByOther(ip)) return claim(ip);
  for (const range of pool.ranges) {
    for (let ip = range.first; ip <= range.last; ip++) {
      const reserved = pool.hosts.get(ip)?.mac;
      if (!heldByOther(ip) && (!reserved || reserved === input.mac.toLowerCase())) return claim(ip);
    }
  }
  return { kind: 'problem', reason: 'IPPoolExhausted', message: `IPPool ${named.metadata.name} has no free address (${pool.size} in all)`, pending: true };
}

function chooseFixed(input: IpChoiceInput, text: string, named: { name: string; pool: PoolAddresses } | undefined): IpChoice {
  const ip = tryParse(text);
  if (ip === undefined) return { kind: 'problem', reason: 'InvalidIP', message: `spec.network.ip ${JSON.stringify(text)} is not an IPv4 address`, pending: false };
  if (named && !cidrContains(named.pool.cidr, ip)) {
    return { kind: 'problem', reason: 'IPNotInPool', message: `spec.network.ip ${text} is not in IPPool ${named.name} (${input.pools.find((p) => p.metadata.name === named.name)!.spec.cidr})`, pending: false };
  }
  // A fixed address is claimed wherever a pool of the namespace could hand it out.
  const pool = named?.name ?? input.pools.find((p) => {
    const c = compiled(p);
    return c !== undefined && cidrContains(c.cidr, ip);
  })?.metadata.name;
  if (pool === undefined) return { kind: 'none' };
  const holder = input.holderOf(formatIpv4(ip));
  if (holder !== undefined && holder !== input.holder) {
    return { kind: 'problem', reason: 'IPConflict', message: `spec.network.ip ${formatIpv4(ip)} is held by ${holder}`, pending: true };
  }
  return { kind: 'claim', ip: formatIpv4(ip), pool };
}

function tryParse(text: string): number | undefined {
  try {
    return parseIpv4(text);
  } catch {
    return undefined;
  }
}
