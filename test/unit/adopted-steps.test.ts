// The adopted domain through the whole step list over fakes: no define, no start, the claim
// written only when it must remember something, and its switch port (libvirt's name for it)
// tagged like any VM's when it is on the controller's bridge, left alone when it is not.
import { describe, expect, it } from 'vitest';
import { adoptionFingerprint } from '../../src/adoption/fingerprint.js';
import type { VirtualMachineSpec } from '../../src/api/virtual-machine.js';
import { METADATA_NS, ownerElementXml, type OwnerMetadata } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { VM_STEPS } from '../../src/reconcilers/virtual-machine/steps/index.js';
import { FakeDatapath } from '../fakes/fake-datapath.js';
import { stepHarness, vmNamed } from '../helpers/vm-steps.js';

const MAC = '52:54:00:00:0a:01';
const SPEC: Partial<VirtualMachineSpec> = { memory: '128Mi', vcpus: 1, network: { mac: MAC, vlan: 7 } };

function handMade(name: string, bridge: string, claim: OwnerMetadata): string {
  const element = ownerElementXml(claim).replace('<vm ', `<wimaxvm:vm xmlns:wimaxvm="${METADATA_NS}" `);
  return `<domain type='test'><name>${name}</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e1111</uuid><metadata>${element}</metadata>
<memory unit='KiB'>131072</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>
<interface type='bridge'><mac address='${MAC}'/><source bridge='${bridge}'/><virtualport type='openvswitch'/><target dev='vnet3'/></interface></devices></domain>`;
}

function adopted(bridge: string, vlan: number) {
  const datapath = new FakeDatapath();
  const h = stepHarness({ datapath, nic: { type: 'bridge', source: 'br-wimax', openvswitch: true } });
  const vm = vmNamed('ad1', { ...SPEC, network: { mac: MAC, vlan } });
  const claim: OwnerMetadata = { uid: 'adopted-x', namespace: 'default', name: 'ad1', generation: 0, specHash: adoptionFingerprint(vmNamed('ad1', SPEC).spec), mac: MAC, vlan: 7, startedOnce: true, adopted: true };
  h.hv.defineBehindBack(handMade('ad1', bridge, claim));
  h.hv.startBehindBack('ad1');
  datapath.plug('vnet3', { tag: 7 });
  h.hv.clearCalls();
  return { h, datapath, vm };
}

describe('an adopted domain through the steps', () => {
  it('in line: nothing is called that changes anything; Running, Adopted=True', async () => {
    const { h, datapath, vm } = adopted('br-wimax', 7);
    const out = await h.run(VM_STEPS, vm);
    expect(out.error).toBeUndefined();
    expect(h.hv.ops('ad1')).toEqual([]);
    expect(datapath.mutations().filter((m) => m.startsWith('setPort'))).toEqual([]);
    expect(out.status?.printableStatus).toBe('Running');
    expect(out.status?.conditions.find((c) => c.type === 'Adopted')).toMatchObject({ status: 'True', reason: 'OwnDefinition' });
    expect(out.status?.domain?.port).toBe('vnet3');
  });

  it('a new VLAN: its port (vnet3, not a wx name) is retagged and the claim remembers it; no define', async () => {
    const { h, datapath, vm } = adopted('br-wimax', 9);
    const out = await h.run(VM_STEPS, vm);
    expect(out.error).toBeUndefined();
    expect(datapath.mutations()).toContain('setPort vnet3');
    expect(await datapath.getPort('vnet3')).toEqual({ tag: 9 });
    expect(h.hv.ops('ad1')).toEqual(['setMetadata']);
  });

  it('on another bridge: its port is not this controller\'s to tag', async () => {
    const { h, datapath, vm } = adopted('br-other', 9);
    const out = await h.run(VM_STEPS, vm);
    expect(out.error).toBeUndefined();
    expect(datapath.mutations().filter((m) => m.startsWith('setPort'))).toEqual([]);
    expect(h.hv.ops('ad1').filter((o) => o !== 'setMetadata')).toEqual([]);
  });
});
