// The fingerprint of the parts of a VirtualMachine spec that shape its domain definition. An
// adopted domain keeps its own definition while its spec's fingerprint is the one recorded at
// adoption (the owner metadata's specHash); a change of any of these parts is the user's say
// that wimaxvm's definition should replace it. Pure.
import { createHash } from 'node:crypto';
import { parseMemory } from '../api/quantity.js';
import { stableStringify } from '../api/stable-json.js';
import type { VirtualMachineSpec } from '../api/virtual-machine.js';

/**
 * Fields the controller applies without redefining a domain: power (runStrategy and what
 * decides it), the node, the VLAN (retagged on the switch), shaping (meters), the address
 * (DHCP, seeds). Everything else (memory, vCPUs, disks, MAC, and fields added later) counts.
 */
const NOT_DEFINITION = ['runStrategy', 'powerState', 'lease', 'nodeName'] as const;
const NETWORK_NOT_DEFINITION = ['vlan', 'shaping', 'ip', 'ipPool'] as const;

function memoryBytes(memory: string | number): string | number {
  try {
    return parseMemory(memory);
  } catch {
    return memory; // invalid: the definition step says so; the fingerprint just differs
  }
}

export function adoptionFingerprint(spec: VirtualMachineSpec): string {
  const rest: Record<string, unknown> = { ...spec, memory: memoryBytes(spec.memory) };
  for (const f of NOT_DEFINITION) delete rest[f];
  if (spec.network) {
    const network: Record<string, unknown> = { ...spec.network, ...(spec.network.mac ? { mac: spec.network.mac.toLowerCase() } : {}) };
    for (const f of NETWORK_NOT_DEFINITION) delete network[f];
    if (Object.keys(network).length) rest.network = network;
    else delete rest.network;
  }
  if (Array.isArray(rest.disks) && rest.disks.length === 0) delete rest.disks;
  return `adopted-${createHash('sha256').update(stableStringify(rest)).digest('hex').slice(0, 16)}`;
}
