// The seed's CD-ROM in the domain XML: a read-only cdrom disk on a virtio-scsi controller, after
// the VM's disks, and not one of the disks the controller compares for drift.
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { buildDomainXml, parseDomainXml, type DomainDefinition } from '../../src/reconcilers/virtual-machine/domain-xml.js';

const SEED = '/var/lib/wimaxvm/overlays/vm30/cidata.iso';
const def = (seedPath?: string): DomainDefinition => ({
  name: 'vm30', uuid: '6f1c2a1e-0000-4000-8000-000000000030', type: 'qemu', memoryKiB: 131072, vcpus: 1,
  diskPaths: ['/var/lib/wimaxvm/overlays/vm30/disk0-1.qcow2'], mac: '52:54:00:12:34:56', nic: { type: 'user' },
  owner: { uid: 'u', namespace: 'default', name: 'vm30', generation: 1, specHash: 'h', mac: '52:54:00:12:34:56' },
  ...(seedPath ? { seedPath } : {}),
});
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['disk', 'controller'].includes(name) });
const devices = (xml: string) => parser.parse(xml).domain.devices;

describe('the seed CD-ROM in the domain XML', () => {
  it('is a read-only cdrom on a virtio-scsi controller, after the disks', () => {
    const d = devices(buildDomainXml(def(SEED)));
    expect(d.disk.map((x: any) => x['@device'])).toEqual(['disk', 'cdrom']);
    const cdrom = d.disk[1];
    expect(cdrom.source['@file']).toBe(SEED);
    expect(cdrom.target).toEqual({ '@dev': 'sda', '@bus': 'scsi' });
    expect(cdrom.driver).toEqual({ '@name': 'qemu', '@type': 'raw' });
    expect(cdrom.readonly).toBe('');
    expect(d.controller).toEqual([{ '@type': 'scsi', '@index': '0', '@model': 'virtio-scsi' }]);
    expect(d.disk[0].target['@dev']).toBe('vda');
  });

  it('is absent without a seed: a VM that asks for none keeps the domain it had', () => {
    const xml = buildDomainXml(def());
    expect(devices(xml).disk.map((x: any) => x['@device'])).toEqual(['disk']);
    expect(devices(xml).controller).toBeUndefined();
    expect(xml).not.toContain('cdrom');
  });

  it('is not one of the disks compared for drift', () => {
    expect(parseDomainXml(buildDomainXml(def(SEED))).facts.diskPaths).toEqual(def().diskPaths);
  });
});
