// The domain a VirtualMachine asks for: its MAC, disks, VLAN and the definition with wimaxvm's
// metadata. Spec errors only the user can fix are TerminalErrors.
import { createHash } from 'node:crypto';
import type { ResourceKey } from '../../api/meta.js';
import { parseMemory } from '../../api/quantity.js';
import type { VirtualMachine, VirtualMachineStatus } from '../../api/virtual-machine.js';
import type { MacAllocator } from '../../allocators/mac-allocator.js';
import type { VlanAllocator } from '../../allocators/vlan-allocator.js';
import { errorMessage } from '../../core/logger.js';
import { TerminalError } from '../../core/result.js';
import { ImageError, type DiskImages } from '../../ports/disk-images.js';
import type { Hypervisor } from '../../ports/hypervisor.js';
import type { VlanClaims } from '../../ports/vlan-claims.js';
import { domainNameProblem } from './domain-name.js';
import { logsSerialConsole, vmPortName, type DomainDefinition, type NicAttachment, type OwnerMetadata } from './domain-xml.js';
import type { Observed } from './observe.js';
import type { Identity } from './ownership.js';
import { chooseVlan, type VlanChoice } from './slice-network.js';

export interface DefinitionDeps {
  macs: MacAllocator;
  disks: DiskImages;
  nic: NicAttachment;
  hypervisor: Hypervisor;
  vlans: VlanAllocator;
  vlanClaims: VlanClaims;
  identity: Identity;
}

/** A stable UUID from the resource's uid, so define is idempotent after a crash. */
export function domainUuidFor(uid: string): string {
  const h = createHash('sha256').update(`wimaxvm/domain/${uid}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function memoryKiB(memory: string | number): number {
  let bytes: number;
  try {
    bytes = parseMemory(memory);
  } catch (err) {
    throw new TerminalError('InvalidMemory', errorMessage(err));
  }
  // Whole MiB: what QEMU will actually give the guest, so observed and desired compare equal.
  return Math.ceil(bytes / 2 ** 20) * 1024;
}

/** The definition the VM asks for, with the VLAN it gets (or why it gets none yet). */
export async function desiredDefinition(
  deps: DefinitionDeps, key: ResourceKey, vm: VirtualMachine, domainName: string, observed: Observed | undefined, previous: VirtualMachineStatus | undefined,
): Promise<{ definition: DomainDefinition; diskImages: string[]; vlanChoice: VlanChoice }> {
  const { macs, disks, nic: nic0, hypervisor } = deps;
  const nameProblem = domainNameProblem(domainName);
  if (nameProblem) throw new TerminalError('NameTooLong', nameProblem);
  // Before any VLAN is chosen: a spec that can never run must not tie one up (or take one from
  // a VM that names it) while it waits for the user.
  const memKiB = memoryKiB(vm.spec.memory);
  const specMac = vm.spec.network?.mac?.toLowerCase();
  let mac: string;
  if (specMac) {
    const holder = macs.holder(specMac);
    if (holder && holder !== key) throw new TerminalError('MACConflict', `MAC ${specMac} is already used by ${holder}`);
    macs.claim(key, specMac);
    mac = specMac;
  } else {
    // Keep the MAC the guest already has (from status, or the domain if status was lost).
    const kept = previous?.allocations.mac ?? observed?.owner?.mac;
    if (!macs.get(key) && kept && !macs.holder(kept)) macs.claim(key, kept);
    mac = macs.allocate(key, vm.metadata.uid);
  }

  const diskImages: string[] = [];
  for (const disk of vm.spec.disks ?? []) {
    try {
      diskImages.push(await disks.resolveImage(disk.image));
    } catch (err) {
      if (err instanceof ImageError) throw new TerminalError(err.reason, err.message);
      throw err;
    }
  }
  const uuid = observed?.snapshot.uuid ?? previous?.allocations.uuid ?? domainUuidFor(vm.metadata.uid);
  const vlanChoice = await chooseVlan(deps.vlans, deps.vlanClaims, { key, uid: vm.metadata.uid }, vm.spec.network?.vlan, previous?.allocations.vlan ?? observed?.owner?.vlan);
  // On a conflict the VM keeps the VLAN it holds, if any, until the one it asks for is free.
  const vlan = 'vlan' in vlanChoice ? vlanChoice.vlan : deps.vlans.get(key);
  const nic: NicAttachment = nic0.type === 'bridge' ? { ...nic0, ...(vlan !== undefined ? { vlan } : {}), port: vmPortName(domainName) } : nic0;
  const shape = {
    type: hypervisor.domainType(),
    memoryKiB: memKiB,
    vcpus: vm.spec.vcpus,
    diskPaths: diskImages.map((image, i) => disks.overlayPath(domainName, i, image)),
    mac,
    nic,
  };
  const specHash = createHash('sha256').update(JSON.stringify({ ...shape, images: diskImages, uuid })).digest('hex').slice(0, 16);
  const owner: OwnerMetadata = {
    uid: vm.metadata.uid, namespace: vm.metadata.namespace, name: vm.metadata.name, generation: vm.metadata.generation, specHash, mac,
    ...(vlan !== undefined ? { vlan } : {}),
    controller: deps.identity.self,
  };
  // Not part of specHash: where the console is logged is the connection's, not the spec's.
  return { definition: { name: domainName, uuid, ...shape, owner, serialLog: logsSerialConsole(hypervisor.uri) }, diskImages, vlanChoice };
}
