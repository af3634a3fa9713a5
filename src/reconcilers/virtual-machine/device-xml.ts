// The devices of a domain as libvirt XML: the pieces the domain definition is built from, and
// the same pieces alone for hot-plugging (attachDevice/detachDevice take one device's XML).
// Pure: no I/O. Values go through the XML writer, which escapes them: no name or path can inject elements.
import { writeXml } from './xml-writer.js';

export type NicAttachment =
  | { type: 'user' }
  | { type: 'network'; source: string }
  | { type: 'bridge'; source: string; openvswitch: boolean; vlan?: number; port?: string };

/** A NIC beyond the first (spec.interfaces): always on a libvirt network, never tagged. */
export interface ExtraNic {
  mac: string;
  network: string;
}

export function nicXml(mac: string, nic: NicAttachment): Record<string, unknown> {
  const base: Record<string, unknown> = { '@type': nic.type, mac: { '@address': mac }, model: { '@type': 'virtio' } };
  if (nic.type === 'network') base.source = { '@network': nic.source };
  if (nic.type === 'bridge') {
    base.source = { '@bridge': nic.source };
    if (nic.openvswitch) base.virtualport = { '@type': 'openvswitch' };
    if (nic.vlan !== undefined) base.vlan = { tag: { '@id': nic.vlan } };
    if (nic.port !== undefined) base.target = { '@dev': nic.port };
  }
  return base;
}

export function extraNicXml(nic: ExtraNic): Record<string, unknown> {
  return nicXml(nic.mac, { type: 'network', source: nic.network });
}

/** The guest device name of disk `index` in boot order: vda, vdb, ... */
export function diskTarget(index: number): string {
  return `vd${String.fromCharCode(97 + index)}`;
}

/** A virtio disk: on the default machine (pc-i440fx) its PCI slot on pci.0 can be hot-plugged. */
export function diskXml(path: string, index: number): Record<string, unknown> {
  return {
    '@type': 'file',
    '@device': 'disk',
    driver: { '@name': 'qemu', '@type': 'qcow2' },
    source: { '@file': path },
    target: { '@dev': diskTarget(index), '@bus': 'virtio' },
  };
}

/** One disk's XML for attachDevice/detachDevice (libvirt finds the disk to detach by its target). */
export function diskDeviceXml(path: string, index: number): string {
  return writeXml({ disk: diskXml(path, index) });
}

/** One extra NIC's XML for attachDevice/detachDevice (libvirt finds the NIC to detach by its MAC). */
export function extraNicDeviceXml(nic: ExtraNic): string {
  return writeXml({ interface: extraNicXml(nic) });
}
