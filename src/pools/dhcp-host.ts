// The fixed DHCP lease (MAC → IP, hostname) a VM with an address needs in the libvirt network its
// NIC is on, so the guest's DHCP client gets exactly that address. Pure: reads the network's XML,
// says what to change. Entries of other MACs are never touched: one that holds our address is a
// conflict to report (another controller's, or made by hand), never a silent double.
import { XMLParser } from 'fast-xml-parser';
import type { DhcpHost } from '../ports/hypervisor.js';
import { cidrContains, networkOf, parseIpv4, prefixLengthOfMask } from './ipv4.js';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseAttributeValue: false,
  isArray: (name) => name === 'ip' || name === 'host',
});

export interface NetworkDhcp {
  /** The subnets of the network's IPv4 <ip> elements that serve DHCP. */
  subnets: { network: number; prefixLength: number }[];
  hosts: DhcpHost[];
}

/** The IPv4 DHCP part of a libvirt network's XML (the first <ip> with <dhcp> is what updates change). */
export function readNetworkDhcp(xml: string): NetworkDhcp {
  const doc = parser.parse(xml) as { network?: { ip?: Record<string, any>[] } };
  const subnets: NetworkDhcp['subnets'] = [];
  const hosts: DhcpHost[] = [];
  for (const ip of doc.network?.ip ?? []) {
    if ((ip['@family'] ?? 'ipv4') !== 'ipv4' || ip.dhcp === undefined || !ip['@address']) continue;
    const address = parseIpv4(ip['@address']);
    const prefixLength = ip['@prefix'] !== undefined ? Number(ip['@prefix']) : ip['@netmask'] ? prefixLengthOfMask(ip['@netmask']) : 24;
    subnets.push({ network: networkOf(address, prefixLength), prefixLength });
    for (const host of (typeof ip.dhcp === 'object' ? (ip.dhcp as { host?: Record<string, string>[] }).host : undefined) ?? []) {
      if (!host['@mac'] || !host['@ip']) continue;
      hosts.push({ mac: host['@mac'].toLowerCase(), ip: host['@ip'], ...(host['@name'] ? { name: host['@name'] } : {}) });
    }
    break;
  }
  return { subnets, hosts };
}

export type DhcpPlan =
  | { kind: 'in-place' }
  /** Delete these (our MAC's stale entries, as they are), then add `add`. */
  | { kind: 'change'; remove: DhcpHost[]; add: DhcpHost }
  | { kind: 'conflict'; message: string }
  /** The address is not in the network's DHCP subnet: its DHCP server cannot hand it out. */
  | { kind: 'outside'; message: string };

export function planDhcpHost(network: string, dhcp: NetworkDhcp, wanted: DhcpHost): DhcpPlan {
  const mac = wanted.mac.toLowerCase();
  const subnet = dhcp.subnets[0];
  if (!subnet) return { kind: 'outside', message: `libvirt network ${network} serves no IPv4 DHCP` };
  if (!cidrContains(subnet, parseIpv4(wanted.ip))) return { kind: 'outside', message: `${wanted.ip} is not in the DHCP subnet of libvirt network ${network}` };
  const other = dhcp.hosts.find((h) => h.ip === wanted.ip && h.mac !== mac);
  if (other) return { kind: 'conflict', message: `libvirt network ${network} already gives ${wanted.ip} to MAC ${other.mac}${other.name ? ` (${other.name})` : ''}` };
  const ours = dhcp.hosts.filter((h) => h.mac === mac);
  // A name another MAC has in this network would make libvirt refuse the entry: go without it.
  const nameTaken = wanted.name !== undefined && dhcp.hosts.some((h) => h.name === wanted.name && h.mac !== mac);
  const add: DhcpHost = { mac, ip: wanted.ip, ...(wanted.name !== undefined && !nameTaken ? { name: wanted.name } : {}) };
  if (ours.length === 1 && ours[0]!.ip === add.ip && ours[0]!.name === add.name) return { kind: 'in-place' };
  return { kind: 'change', remove: ours, add };
}

/** Our MAC's entries, to delete when the VM goes (or stops holding an address). */
export function dhcpHostsOf(dhcp: NetworkDhcp, mac: string): DhcpHost[] {
  return dhcp.hosts.filter((h) => h.mac === mac.toLowerCase());
}
