// The parts of a domain's XML adoption looks up before it decides: its file disks' sources and
// its Open vSwitch port. Pure.
import { XMLParser } from 'fast-xml-parser';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseAttributeValue: false, isArray: (n) => n === 'disk' || n === 'interface' });

function devicesOf(xml: string): Record<string, any> {
  return ((parser.parse(xml) as { domain?: { devices?: Record<string, any> } }).domain?.devices) ?? {};
}

/** The source files of the domain's file-backed disks (CD-ROMs with media included). */
export function diskSourceFiles(xml: string): string[] {
  return ((devicesOf(xml).disk ?? []) as Record<string, any>[])
    .filter((d) => (d['@type'] ?? 'file') === 'file' && d.source?.['@file'])
    .map((d) => String(d.source['@file']));
}

/** The switch port of the running guest's first NIC when it is on Open vSwitch (libvirt names it in the live XML). */
export function openvswitchPort(liveXml: string): string | undefined {
  const nic = ((devicesOf(liveXml).interface ?? []) as Record<string, any>[])[0];
  if (!nic || nic.virtualport?.['@type'] !== 'openvswitch') return undefined;
  return nic.target?.['@dev'] ? String(nic.target['@dev']) : undefined;
}
