// Nimbus's network pool file (workspace-service/network-pools/NAME): '#' comments, blank lines,
// one line with the DNS server's address (or 'none') before the entries, then one entry a line:
//   hostname ipaddress gateway broadcast subnetmask [MAC]
// where gateway, broadcast and subnetmask may be 'none'. Pure: errors carry file:line, and every
// bad line is reported, not only the first.
import { canonicalMac } from '../allocators/mac-allocator.js';
import type { IPPoolSpec } from '../api/ip-pool.js';
import { broadcastOf, formatCidr, formatIpv4, networkOf, parseIpv4, prefixLengthOfMask } from './ipv4.js';

export interface NimbusEntry {
  line: number;
  hostname: string;
  ip: string;
  gateway?: string;
  broadcast?: string;
  netmask?: string;
  mac?: string;
}

export interface NimbusPoolFile {
  dns?: string;
  entries: NimbusEntry[];
}

export class PoolFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'PoolFileError';
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
/** An RFC 1123 host name label, as a guest (and dnsmasq) accepts it. */
const HOSTNAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i;

const optional = (field: string): string | undefined => (field.toLowerCase() === 'none' ? undefined : field);

export function parseNimbusPoolFile(text: string, file: string): NimbusPoolFile {
  const problems: string[] = [];
  const entries: NimbusEntry[] = [];
  let dns: string | undefined;
  let dnsSeen = false;
  const seenIps = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const where = `${file}:${line}`;
    const content = raw.replace(/#.*/, '').trim();
    if (!content) return;
    const fields = content.split(/\s+/);
    const bad = (why: string): void => void problems.push(`${where}: ${why}`);
    if (fields.length === 1) {
      if (dnsSeen || entries.length) return bad(`a line with one field is the DNS server and comes once, before the entries; got ${JSON.stringify(fields[0])} here`);
      dnsSeen = true;
      const value = optional(fields[0]!);
      if (value !== undefined && !tryIp(value)) return bad(`the DNS server must be an IPv4 address or 'none', not ${JSON.stringify(value)}`);
      if (value !== undefined) dns = value;
      return;
    }
    if (fields.length < 5 || fields.length > 6) {
      return bad(`expected "hostname ipaddress gateway broadcast subnetmask [MAC]" (5 or 6 fields), got ${fields.length}`);
    }
    const [hostname, ip, gateway, broadcast, netmask, mac] = fields as [string, string, string, string, string, string | undefined];
    const before = problems.length;
    if (!HOSTNAME.test(hostname)) bad(`hostname ${JSON.stringify(hostname)} is not a valid host name (letters, digits, '-', at most 63)`);
    if (!tryIp(ip)) bad(`ipaddress ${JSON.stringify(ip)} is not an IPv4 address`);
    for (const [name, value] of [['gateway', gateway], ['broadcast', broadcast]] as const) {
      const v = optional(value);
      if (v !== undefined && !tryIp(v)) bad(`${name} ${JSON.stringify(v)} is not an IPv4 address or 'none'`);
    }
    const mask = optional(netmask);
    if (mask !== undefined) {
      try {
        prefixLengthOfMask(mask);
      } catch (err) {
        bad(`subnetmask: ${(err as Error).message}`);
      }
    }
    if (mac !== undefined && !MAC.test(mac)) bad(`MAC ${JSON.stringify(mac)} is not a MAC address (like 52:54:00:12:34:56)`);
    if (problems.length > before) return;
    const first = seenIps.get(ip);
    if (first !== undefined) return bad(`${ip} is listed already on line ${first}`);
    seenIps.set(ip, line);
    const g = optional(gateway);
    const b = optional(broadcast);
    entries.push({ line, hostname, ip, ...(g ? { gateway: g } : {}), ...(b ? { broadcast: b } : {}), ...(mask ? { netmask: mask } : {}), ...(mac ? { mac: canonicalMac(mac) } : {}) });
  });
  if (!problems.length && !entries.length) problems.push(`${file}: no entries (hostname ipaddress gateway broadcast subnetmask [MAC])`);
  if (problems.length) throw new PoolFileError(problems);
  return { ...(dns ? { dns } : {}), entries };
}

function tryIp(text: string): boolean {
  try {
    parseIpv4(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * One IPPool spec for the file's entries: they must agree on one subnet and gateway (a pool has
 * one of each); an entry's broadcast, when given, must be its subnet's.
 */
export function poolSpecFromNimbus(pool: NimbusPoolFile, file: string): IPPoolSpec {
  const problems: string[] = [];
  const withMask = pool.entries.find((e) => e.netmask);
  if (!withMask) throw new PoolFileError([`${file}: no entry gives a subnetmask, so the pool's prefix length is unknown`]);
  const prefixLength = prefixLengthOfMask(withMask.netmask!);
  const network = networkOf(parseIpv4(withMask.ip), prefixLength);
  const cidr = { network, prefixLength };
  const withGateway = pool.entries.find((e) => e.gateway);
  for (const e of pool.entries) {
    const where = `${file}:${e.line}`;
    if (e.netmask && prefixLengthOfMask(e.netmask) !== prefixLength) problems.push(`${where}: subnetmask ${e.netmask} differs from ${withMask.netmask} on line ${withMask.line}: one pool has one subnet`);
    else if (networkOf(parseIpv4(e.ip), prefixLength) !== network) problems.push(`${where}: ${e.ip} is not in ${formatCidr(cidr)} (the subnet of line ${withMask.line})`);
    if (e.gateway && withGateway && e.gateway !== withGateway.gateway) problems.push(`${where}: gateway ${e.gateway} differs from ${withGateway.gateway} on line ${withGateway.line}: one pool has one gateway`);
    if (e.broadcast && parseIpv4(e.broadcast) !== broadcastOf(cidr)) problems.push(`${where}: broadcast ${e.broadcast} is not ${formatIpv4(broadcastOf(cidr))}, the broadcast of ${formatCidr(cidr)}`);
  }
  if (problems.length) throw new PoolFileError(problems);
  return {
    cidr: formatCidr(cidr),
    ...(withGateway ? { gateway: withGateway.gateway! } : {}),
    ...(pool.dns ? { dns: [pool.dns] } : {}),
    hosts: pool.entries.map((e) => ({ ip: e.ip, hostname: e.hostname, ...(e.mac ? { mac: e.mac } : {}) })),
  };
}
