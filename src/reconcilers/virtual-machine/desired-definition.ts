// The domain a VirtualMachine asks for: the spec checks, its MAC, its disks' images and the
// definition with wimaxvm's metadata. Spec errors only the user can fix are TerminalErrors.
import { createHash } from 'node:crypto';
import type { ResourceKey } from '../../api/meta.js';
import { parseMemory } from '../../api/quantity.js';
import type { VirtualMachine, VirtualMachineStatus } from '../../api/virtual-machine.js';
import type { MacAllocator } from '../../allocators/mac-allocator.js';
import { errorMessage } from '../../core/logger.js';
import { TerminalError } from '../../core/result.js';
import { ImageError, type DiskImages } from '../../ports/disk-images.js';
import type { Hypervisor } from '../../ports/hypervisor.js';
import { domainNameProblem } from './domain-name.js';
import { logsSerialConsole, vmPortName, type DomainDefinition, type NicAttachment, type OwnerMetadata } from './domain-xml.js';
import type { Observed } from './observe.js';
import type { Identity } from './ownership.js';

export interface DefinitionDeps {
  disks: DiskImages;
  nic: NicAttachment;
  hypervisor: Hypervisor;
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

/** Spec errors found before anything is claimed: a spec that can never run must not tie up a MAC, VLAN or address. */
export function checkSpec(vm: VirtualMachine, domainName: string): void {
  const nameProblem = domainNameProblem(domainName);
  if (nameProblem) throw new TerminalError('NameTooLong', nameProblem);
  memoryKiB(vm.spec.memory);
}

/** The VM's MAC: the spec's (if no other VM holds it), else the one it already has, else a new one. */
export function claimMac(
  macs: MacAllocator, key: ResourceKey, vm: VirtualMachine, observed: Observed | undefined, previous: VirtualMachineStatus | undefined,
): string {
  const specMac = vm.spec.network?.mac?.toLowerCase();
  if (specMac) {
    const holder = macs.holder(specMac);
    if (holder && holder !== key) throw new TerminalError('MACConflict', `MAC ${specMac} is already used by ${holder}`);
    macs.claim(key, specMac);
    return specMac;
  }
  // Keep the MAC the guest already has (from status, or the domain if status was lost).
  const kept = previous?.allocations.mac ?? observed?.owner?.mac;
  if (!macs.get(key) && kept && !macs.holder(kept)) macs.claim(key, kept);
  return macs.allocate(key, vm.metadata.uid);
}

/** Each disk's base image, resolved in the image directory. */
export async function resolveDiskImages(disks: DiskImages, vm: VirtualMachine): Promise<string[]> {
  const diskImages: string[] = [];
  for (const disk of vm.spec.disks ?? []) {
    try {
      diskImages.push(await disks.resolveImage(disk.image));
    } catch (err) {
      if (err instanceof ImageError) throw new TerminalError('ImageNotFound', err.message);
      throw err;
    }
  }
  return diskImages;
}

/** What the definition is built from: the spec and what the allocation steps chose. */
export interface DefinitionInputs {
  vm: VirtualMachine;
  domainName: string;
  mac: string;
  diskImages: string[];
  vlan?: number;
  observed?: Observed;
  previous?: VirtualMachineStatus;
}

/** The definition the VM asks for, with wimaxvm's metadata (and the specHash that tells a changed spec). */
export function buildDefinition(deps: DefinitionDeps, inputs: DefinitionInputs): DomainDefinition {
  const { vm, domainName, mac, diskImages, vlan, observed, previous } = inputs;
  const { disks, nic: nic0, hypervisor } = deps;
  const uuid = observed?.snapshot.uuid ?? previous?.allocations.uuid ?? domainUuidFor(vm.metadata.uid);
  const nic: NicAttachment = nic0.type === 'bridge' ? { ...nic0, ...(vlan !== undefined ? { vlan } : {}), port: vmPortName(domainName) } : nic0;
  const shape = {
    type: hypervisor.domainType(),
    memoryKiB: memoryKiB(vm.spec.memory),
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
  return { name: domainName, uuid, ...shape, owner, serialLog: logsSerialConsole(hypervisor.uri) };
}

/**
 * A step that adds to the definition (a seed CD-ROM, memory maxima) folds what it added into
 * the specHash, so that a change of it alone redefines the domain.
 */
export function extendSpecHash(definition: DomainDefinition, addition: unknown): void {
  definition.owner.specHash = createHash('sha256').update(definition.owner.specHash).update(JSON.stringify(addition)).digest('hex').slice(0, 16);
}
