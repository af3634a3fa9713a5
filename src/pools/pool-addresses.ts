// What an IPPool spec offers: sorted, disjoint address ranges inside its CIDR, minus its
// exclusions and the addresses no guest may have (network, broadcast, gateway). Pure; a spec the
// CRD schema accepts but that makes no sense (a range outside the CIDR) gives field errors here,
// the same ones file mode's validation and the pool's status report.
import type { IPPoolSpec } from '../api/ip-pool.js';
import { canonicalMac } from '../allocators/mac-allocator.js';
import {
  broadcastOf, cidrContains, formatCidr, formatIpv4, formatRange, parseCidr, parseIpv4, parseRange,
  type AddressRange, type Cidr,
} from './ipv4.js';

export interface PoolHostEntry {
  hostname?: string;
  mac?: string;
}

export interface PoolAddresses {
  cidr: Cidr;
  gateway?: number;
  dns: string[];
  /** What is offered, ascending and disjoint. */
  ranges: AddressRange[];
  size: number;
  /** Hostname and MAC per address, from spec.hosts. */
  hosts: Map<number, PoolHostEntry>;
}

export interface PoolFieldError {
  path: (string | number)[];
  message: string;
}

export type CompiledPool = { ok: true; pool: PoolAddresses } | { ok: false; errors: PoolFieldError[] };

/** Sorts and merges overlapping or touching ranges. */
export function mergeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.first <= last.last + 1) last.last = Math.max(last.last, r.last);
    else out.push({ ...r });
  }
  return out;
}

/** `ranges` without the addresses in `holes` (both merged first). */
export function subtractRanges(ranges: readonly AddressRange[], holes: readonly AddressRange[]): AddressRange[] {
  let out = mergeRanges(ranges);
  for (const hole of mergeRanges(holes)) {
    out = out.flatMap((r) => {
      if (hole.last < r.first || hole.first > r.last) return [r];
      const kept: AddressRange[] = [];
      if (hole.first > r.first) kept.push({ first: r.first, last: hole.first - 1 });
      if (hole.last < r.last) kept.push({ first: hole.last + 1, last: r.last });
      return kept;
    });
  }
  return out;
}

export function rangesSize(ranges: readonly AddressRange[]): number {
  return ranges.reduce((n, r) => n + r.last - r.first + 1, 0);
}

export function rangesContain(ranges: readonly AddressRange[], address: number): boolean {
  return ranges.some((r) => address >= r.first && address <= r.last);
}

export function compilePool(spec: IPPoolSpec): CompiledPool {
  const errors: PoolFieldError[] = [];
  const at = (path: (string | number)[], fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      errors.push({ path: ['spec', ...path], message: `spec.${path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[')}: Invalid value: ${(err as Error).message}` });
    }
  };
  let cidr: Cidr | undefined;
  at(['cidr'], () => { cidr = parseCidr(spec.cidr); });
  if (!cidr) return { ok: false, errors };
  const c = cidr;
  const inside = (first: number, last: number, text: string): void => {
    if (!cidrContains(c, first) || !cidrContains(c, last)) throw new Error(`${JSON.stringify(text)} is not inside ${formatCidr(c)}`);
  };

  let gateway: number | undefined;
  if (spec.gateway !== undefined) at(['gateway'], () => { gateway = parseIpv4(spec.gateway!); inside(gateway, gateway, spec.gateway!); });
  const dns: string[] = [];
  (spec.dns ?? []).forEach((text, i) => at(['dns', i], () => { dns.push(formatIpv4(parseIpv4(text))); }));

  const offered: AddressRange[] = [];
  (spec.ranges ?? []).forEach((text, i) => at(['ranges', i], () => {
    const r = parseRange(text);
    inside(r.first, r.last, text);
    offered.push(r);
  }));
  const hosts = new Map<number, PoolHostEntry>();
  (spec.hosts ?? []).forEach((host, i) => at(['hosts', i, 'ip'], () => {
    const ip = parseIpv4(host.ip);
    inside(ip, ip, host.ip);
    if (hosts.has(ip)) throw new Error(`${JSON.stringify(host.ip)} is listed twice in hosts`);
    hosts.set(ip, { ...(host.hostname ? { hostname: host.hostname } : {}), ...(host.mac ? { mac: canonicalMac(host.mac) } : {}) });
    offered.push({ first: ip, last: ip });
  }));
  const excluded: AddressRange[] = [];
  (spec.exclude ?? []).forEach((text, i) => at(['exclude', i], () => { excluded.push(parseRange(text)); }));
  if (errors.length) return { ok: false, errors };

  // With neither ranges nor hosts, the whole block is offered.
  if (!spec.ranges?.length && !spec.hosts?.length) offered.push({ first: c.network, last: broadcastOf(c) });
  // Never a guest's: the network and broadcast addresses (a /31 or /32 has neither) and the gateway.
  const reserved: AddressRange[] = c.prefixLength <= 30 ? [{ first: c.network, last: c.network }, { first: broadcastOf(c), last: broadcastOf(c) }] : [];
  if (gateway !== undefined) reserved.push({ first: gateway, last: gateway });
  const ranges = subtractRanges(offered, [...excluded, ...reserved]);
  for (const ip of hosts.keys()) if (!rangesContain(ranges, ip)) hosts.delete(ip);
  return { ok: true, pool: { cidr: c, ...(gateway !== undefined ? { gateway } : {}), dns, ranges, size: rangesSize(ranges), hosts } };
}

export function formatRanges(ranges: readonly AddressRange[]): string[] {
  return ranges.map(formatRange);
}
