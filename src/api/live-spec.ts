// The spec fields that make live changes possible, and the rules between them that a CRD schema
// cannot say: the maxima are at least the current values, extra NICs have unique names and
// MACs. One function serves `validate`, file mode (kind-rules.ts) and the controller.
import { createHash } from 'node:crypto';
import { parseMemory } from './quantity.js';
import type { VirtualMachineSpec } from './virtual-machine.js';

/** A NIC after the first, on a libvirt network (KubeVirt's interfaces and networks, in one list). */
export interface VmInterface {
  /** Unique in the VM: the NIC's identity, from which its MAC is derived when none is given. */
  name: string;
  /** A libvirt network on the host (virsh net-list). */
  network: string;
  mac?: string;
}

export interface LiveSpecError {
  path: (string | number)[];
  message: string;
}

export interface LiveShape {
  /** Whole MiB in KiB, as the memory; undefined when not declared. */
  maxMemoryKiB?: number;
  maxVcpus?: number;
  extraNics: { name: string; mac: string; network: string }[];
}

/** Whole MiB: what QEMU gives the guest, so that observed and desired compare equal. */
export function memoryKiBOf(memory: string | number): number {
  return Math.ceil(parseMemory(memory) / 2 ** 20) * 1024;
}

/**
 * The MAC of an extra NIC without one in the spec: derived from the VM's uid and the NIC's name,
 * so it stays the same across restarts and controllers without being stored anywhere.
 */
export function derivedNicMac(uid: string, name: string): string {
  const d = createHash('sha256').update(`wimaxvm/nic/${uid}/${name}`).digest();
  return `52:54:00:${[d[0], d[1], d[2]].map((b) => b!.toString(16).padStart(2, '0')).join(':')}`;
}

/** The maxima and extra NICs the spec asks for, or what is wrong with them. */
export function liveShapeOf(spec: Pick<VirtualMachineSpec, 'memory' | 'vcpus' | 'maxMemory' | 'maxVcpus' | 'interfaces' | 'network'>, uid: string): { shape: LiveShape } | { errors: LiveSpecError[] } {
  const errors: LiveSpecError[] = [];
  const shape: LiveShape = { extraNics: [] };
  if (spec.maxMemory !== undefined) {
    try {
      shape.maxMemoryKiB = memoryKiBOf(spec.maxMemory);
    } catch (err) {
      errors.push({ path: ['spec', 'maxMemory'], message: `spec.maxMemory: Invalid value: ${JSON.stringify(spec.maxMemory)}: ${(err as Error).message}` });
    }
    // An invalid memory has its own error (kind-rules, InvalidMemory): compared only when both are valid.
    const memoryKiB = memoryValid(spec.memory) ? memoryKiBOf(spec.memory!) : undefined;
    if (shape.maxMemoryKiB !== undefined && memoryKiB !== undefined && shape.maxMemoryKiB < memoryKiB) {
      errors.push({ path: ['spec', 'maxMemory'], message: `spec.maxMemory: Invalid value: ${JSON.stringify(spec.maxMemory)}: must be at least spec.memory (${spec.memory})` });
    }
  }
  if (spec.maxVcpus !== undefined) {
    shape.maxVcpus = spec.maxVcpus;
    if (spec.maxVcpus < spec.vcpus) errors.push({ path: ['spec', 'maxVcpus'], message: `spec.maxVcpus: Invalid value: ${spec.maxVcpus}: must be at least spec.vcpus (${spec.vcpus})` });
  }
  const names = new Set<string>();
  const macs = new Map<string, string>();
  if (spec.network?.mac) macs.set(spec.network.mac.toLowerCase(), 'spec.network.mac');
  (spec.interfaces ?? []).forEach((nic, i) => {
    if (names.has(nic.name)) errors.push({ path: ['spec', 'interfaces', i, 'name'], message: `spec.interfaces[${i}].name: Duplicate value: ${JSON.stringify(nic.name)}` });
    names.add(nic.name);
    const mac = (nic.mac ?? derivedNicMac(uid, nic.name)).toLowerCase();
    const other = macs.get(mac);
    if (other) errors.push({ path: ['spec', 'interfaces', i, 'mac'], message: `spec.interfaces[${i}].mac: Duplicate value: ${JSON.stringify(mac)}: already ${other}` });
    macs.set(mac, `spec.interfaces[${i}].mac`);
    shape.extraNics.push({ name: nic.name, mac, network: nic.network });
  });
  return errors.length ? { errors } : { shape };
}

function memoryValid(memory: string | number | undefined): boolean {
  try {
    if (memory === undefined) return false;
    parseMemory(memory);
    return true;
  } catch {
    return false;
  }
}
