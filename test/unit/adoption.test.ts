// Adoption's pure parts: the declaration a domain gets (or why it gets none), the fingerprint
// that tells a changed spec, and who owns a claimed domain.
import { describe, expect, it } from 'vitest';
import { adoptionOf, type AdoptOptions, type DomainFindings } from '../../src/adoption/domain-declaration.js';
import { diskSourceFiles, openvswitchPort } from '../../src/adoption/domain-devices.js';
import { adoptionFingerprint } from '../../src/adoption/fingerprint.js';
import type { VirtualMachineSpec } from '../../src/api/virtual-machine.js';
import { METADATA_NS, ownerElementXml, parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { ADOPTING_OWNER, ownershipOf } from '../../src/reconcilers/virtual-machine/ownership.js';

const IMAGES = '/var/lib/wimaxvm/images';
const UUID = '6695eb01-f6a4-8304-79aa-97f2502e193f';

function domainXml(opts: { name?: string; memory?: string; vcpu?: string; disks?: string; nics?: string; extra?: string; metadata?: string } = {}): string {
  return `<domain type='kvm'><name>${opts.name ?? 'vm30'}</name><uuid>${UUID}</uuid>${opts.metadata ?? ''}${opts.memory ?? "<memory unit='KiB'>524288</memory>"}${opts.vcpu ?? '<vcpu>2</vcpu>'}
<os><type>hvm</type></os><devices>${opts.disks ?? `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${IMAGES}/debian.qcow2'/><target dev='vda'/></disk>`}
${opts.nics ?? "<interface type='bridge'><mac address='52:52:52:52:52:52'/><source bridge='br-wimax'/><virtualport type='openvswitch'/></interface>"}${opts.extra ?? ''}</devices></domain>`;
}

function findings(xml: string, extra: Partial<DomainFindings> = {}): DomainFindings {
  const realPaths: Record<string, string> = {};
  for (const f of diskSourceFiles(xml)) realPaths[f] = f;
  return { domainName: parseDomainXml(xml).name, uuid: UUID, state: 'running', persistentXml: xml, imageDir: IMAGES, realPaths, ...extra };
}

describe('adoptionOf: the declaration that matches the domain', () => {
  it('memory, vCPUs, disks as image names, MAC, the VLAN of its switch port; the claim is marked adopted and names no controller', () => {
    const a = adoptionOf(findings(domainXml(), { portTag: 7 }));
    expect(a).toEqual({
      ok: true,
      declaration: {
        apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm30', namespace: 'default' },
        spec: { runStrategy: 'Always', memory: '512Mi', vcpus: 2, disks: [{ image: 'debian.qcow2' }], network: { mac: '52:52:52:52:52:52', vlan: 7 } },
      },
      owner: { uid: `adopted-${UUID}`, namespace: 'default', name: 'vm30', generation: 0, specHash: expect.stringMatching(/^adopted-[0-9a-f]{16}$/), mac: '52:52:52:52:52:52', vlan: 7, startedOnce: true, adopted: true },
    });
    expect(a.ok && a.owner.specHash).toBe(adoptionFingerprint(a.ok ? a.declaration.spec : ({} as VirtualMachineSpec)));
  });

  it.each([
    ['a stopped domain is declared Halted', findings(domainXml(), { state: 'shutoff' }), {}, { runStrategy: 'Halted' }],
    ['--run-strategy wins', findings(domainXml()), { runStrategy: 'Manual' as const }, { runStrategy: 'Manual' }],
    ['memory in GiB', findings(domainXml({ memory: "<memory unit='GiB'>2</memory>" })), {}, { memory: '2048Mi' }],
    ['memory not in whole MiB', findings(domainXml({ memory: "<memory unit='KiB'>1000</memory>" })), {}, { memory: '1000Ki' }],
    ['the VLAN tag of the XML without a switch port', findings(domainXml({ nics: "<interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='b'/><vlan><tag id='9'/></vlan></interface>" })), {},
      { network: { mac: '52:54:00:00:00:01', vlan: 9 } }],
    ['no NIC: no network', findings(domainXml({ nics: '' })), {}, { network: undefined }],
    ['no disk: no disks', findings(domainXml({ disks: '' })), {}, { disks: undefined }],
    ['an empty CD-ROM is left out', findings(domainXml({ extra: "<disk type='file' device='cdrom'><target dev='hdc'/></disk>" })), {}, { disks: [{ image: 'debian.qcow2' }] }],
    ['an image in a sub-folder', findings(domainXml({ disks: `<disk type='file' device='disk'><source file='${IMAGES}/lab/a.qcow2'/></disk>` })), {}, { disks: [{ image: 'lab/a.qcow2' }] }],
  ])('%s', (_what, found, opts, specPart) => {
    const a = adoptionOf(found, opts);
    expect(a.ok).toBe(true);
    if (a.ok) expect(a.declaration.spec).toMatchObject(Object.fromEntries(Object.entries(specPart).filter(([, v]) => v !== undefined)));
    for (const [k, v] of Object.entries(specPart)) if (v === undefined && a.ok) expect(a.declaration.spec).not.toHaveProperty(k);
  });

  it('the controller named in the claim; a stopped domain has not run', () => {
    const a = adoptionOf(findings(domainXml(), { state: 'shutoff' }), { controller: 'file://h/d' });
    expect(a.ok && a.owner).toMatchObject({ controller: 'file://h/d' });
    expect(a.ok && a.owner).not.toHaveProperty('startedOnce');
  });

  it('a domain named ns_name goes to namespace ns; --namespace of the same name agrees', () => {
    for (const namespace of [undefined, 'lab']) {
      const a = adoptionOf(findings(domainXml({ name: 'lab_vm7' })), namespace ? { namespace } : {});
      expect(a.ok && a.declaration.metadata).toEqual({ name: 'vm7', namespace: 'lab' });
    }
  });

  it.each([
    ['a disk outside the image directory', findings(domainXml({ disks: "<disk type='file' device='disk'><source file='/srv/vm/disk.qcow2'/></disk>" })),
      /its disk \/srv\/vm\/disk\.qcow2 is outside the image directory \/var\/lib\/wimaxvm\/images/],
    ['a symlink in the image directory to a file outside it', { ...findings(domainXml()), realPaths: { [`${IMAGES}/debian.qcow2`]: '/etc/shadow' } },
      /its disk \/var\/lib\/wimaxvm\/images\/debian\.qcow2 \(\/etc\/shadow\) is outside the image directory/],
    ['a look-alike directory', findings(domainXml({ disks: `<disk type='file' device='disk'><source file='${IMAGES}-old/a.qcow2'/></disk>` })), /outside the image directory/],
    ['a disk that does not exist', { ...findings(domainXml()), realPaths: {} }, /its disk \/var\/lib\/wimaxvm\/images\/debian\.qcow2 does not exist/],
    ['a block device', findings(domainXml({ disks: "<disk type='block' device='disk'><source dev='/dev/sdb'/></disk>" })), /is of type block; only files in the image directory/],
    ['a CD-ROM with media', findings(domainXml({ extra: "<disk type='file' device='cdrom'><source file='/iso/a.iso'/></disk>" })), /its cdrom has media \(\/iso\/a\.iso\).*eject it first/],
    ['two NICs', findings(domainXml({ nics: "<interface type='user'><mac address='52:54:00:00:00:01'/></interface><interface type='user'><mac address='52:54:00:00:00:02'/></interface>" })), /2 network interfaces; a VirtualMachine declares one/],
    ['a host device', findings(domainXml({ extra: "<hostdev mode='subsystem' type='usb'/>" })), /hostdev device/],
    ['fewer vCPUs online than its maximum', findings(domainXml({ vcpu: "<vcpu current='1'>4</vcpu>" })), /runs 1 of at most 4 vCPUs/],
    ['a name Kubernetes refuses', findings(domainXml({ name: 'Win10' })), /"Win10" is not a valid resource name.*never renames a domain/],
    ['--namespace that would rename it', findings(domainXml()), /in namespace lab the VM vm30 would be the domain lab_vm30, not vm30/, { namespace: 'lab' }],
    ['a VLAN slices never use', findings(domainXml(), { portTag: 1 }), /VLAN 1 is outside 2-4094/],
    ['a wimaxvm VM already', findings(domainXml({ metadata: `<metadata><wimaxvm:vm xmlns:wimaxvm='${METADATA_NS}' uid='u' namespace='default' name='vm30' controller='file://h/d'/></metadata>` })),
      /already a wimaxvm VM \(default\/vm30, controller file:\/\/h\/d\)/],
  ] as [string, DomainFindings, RegExp, AdoptOptions?][])('refused: %s', (_what, found, reason, opts = {}) => {
    const a = adoptionOf(found, opts);
    expect(a.ok).toBe(false);
    expect(!a.ok && a.reason).toMatch(reason);
  });
});

describe('diskSourceFiles and openvswitchPort', () => {
  it('reads file sources and the live XML port of an OVS NIC only', () => {
    expect(diskSourceFiles(domainXml({ extra: "<disk type='file' device='cdrom'><source file='/iso/a.iso'/></disk><disk type='block'><source dev='/dev/sdb'/></disk>" })))
      .toEqual([`${IMAGES}/debian.qcow2`, '/iso/a.iso']);
    expect(openvswitchPort(domainXml({ nics: "<interface type='bridge'><source bridge='br'/><virtualport type='openvswitch'/><target dev='vnet3'/></interface>" }))).toBe('vnet3');
    expect(openvswitchPort(domainXml({ nics: "<interface type='bridge'><source bridge='virbr0'/><target dev='vnet4'/></interface>" }))).toBeUndefined();
  });
});

describe('adoptionFingerprint', () => {
  const spec: VirtualMachineSpec = { runStrategy: 'Always', memory: '512Mi', vcpus: 2, disks: [{ image: 'debian.qcow2' }], network: { mac: '52:52:52:52:52:52', vlan: 7 } };
  it.each([
    ['runStrategy', { ...spec, runStrategy: 'Halted' as const }],
    ['the same memory written otherwise', { ...spec, memory: 536870912 }],
    ['the VLAN (retagged on the switch)', { ...spec, network: { mac: '52:52:52:52:52:52', vlan: 9 } }],
    ['shaping', { ...spec, network: { ...spec.network, shaping: { downlink: '2Mbit' } } }],
    ['the MAC in capitals', { ...spec, network: { mac: '52:52:52:52:52:52'.toUpperCase(), vlan: 7 } }],
    ['the node', { ...spec, nodeName: 'n1' }],
  ])('unchanged by %s', (_what, other) => {
    expect(adoptionFingerprint(other as VirtualMachineSpec)).toBe(adoptionFingerprint(spec));
  });
  it.each([
    ['memory', { ...spec, memory: '1Gi' }],
    ['vCPUs', { ...spec, vcpus: 1 }],
    ['disks', { ...spec, disks: [{ image: 'other.qcow2' }] }],
    ['the MAC', { ...spec, network: { mac: '52:52:52:52:52:53', vlan: 7 } }],
    ['a field added later (cloudInit)', { ...spec, cloudInit: { hostname: 'x' } }],
  ])('changed by %s', (_what, other) => {
    expect(adoptionFingerprint(other as VirtualMachineSpec)).not.toBe(adoptionFingerprint(spec));
  });
});

describe('ownershipOf a claimed domain', () => {
  const claim = { uid: 'adopted-x', namespace: 'default', name: 'vm30', generation: 0, specHash: 'adopted-1', mac: '', adopted: true };
  it.each([
    ['declared: the controller that declares it', claim, true, { self: 'file://h/d' }, { kind: 'ours' }],
    ['not declared: nobody', claim, false, { self: 'file://h/d' }, { kind: 'elsewhere', controller: ADOPTING_OWNER }],
    ['not declared, even with --adopt-from legacy', claim, false, { self: 'file://h/d', adoptFrom: ['legacy'] }, { kind: 'elsewhere', controller: ADOPTING_OWNER }],
    ['naming this controller, declared: ours', { ...claim, controller: 'file://h/d' }, true, { self: 'file://h/d' }, { kind: 'ours' }],
    ['naming this controller, no longer declared: released, never removed', { ...claim, controller: 'file://h/d' }, false, { self: 'file://h/d' }, { kind: 'elsewhere', controller: 'file://h/d' }],
    ['taken by another controller: not ours', { ...claim, controller: 'file://other/d' }, true, { self: 'file://h/d' }, { kind: 'elsewhere', controller: 'file://other/d' }],
  ])('%s', (_what, owner, declared, identity, expected) => {
    expect(ownershipOf(owner, 'default', 'vm30', identity, declared)).toEqual(expected);
  });

  it('the claim element reads back as the owner it was made from', () => {
    const owner = { ...claim, vlan: 7, mac: '52:52:52:52:52:52' };
    const xml = `<domain><name>vm30</name><metadata>${ownerElementXml(owner).replace('<vm ', `<wimaxvm:vm xmlns:wimaxvm="${METADATA_NS}" `)}</metadata></domain>`;
    expect(parseDomainXml(xml).owner).toEqual(owner);
  });
});
