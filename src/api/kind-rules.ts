// Rules of a kind's spec that its CRD schema cannot express, checked by the same code the
// controller applies: what `validate` and the file mode accept, the controller accepts.
import type { FieldError } from './schema.js';
import { parseMemory } from './quantity.js';
import { VM_KIND, type VirtualMachineSpec } from './virtual-machine.js';
import { liveShapeOf } from './live-spec.js';
import { IPPOOL_KIND, type IPPoolSpec } from './ip-pool.js';
import { compilePool } from '../pools/pool-addresses.js';

export function kindRuleErrors(kind: string, spec: Record<string, unknown> | undefined): FieldError[] {
  if (kind === IPPOOL_KIND && spec) {
    // Ranges inside the subnet, no host bits: what the pool's status would report as not Ready.
    const compiled = compilePool(spec as unknown as IPPoolSpec);
    return compiled.ok ? [] : compiled.errors;
  }
  if (kind !== VM_KIND || spec === undefined) return [];
  return [...memoryErrors(spec), ...liveSpecErrors(spec)];
}

function memoryErrors(spec: Record<string, unknown>): FieldError[] {
  if (spec.memory === undefined) return [];
  try {
    parseMemory(spec.memory as string | number);
    return [];
  } catch (err) {
    // A string's value is bounded only here (a pattern cannot say "at most 1Ti").
    return [{ path: ['spec', 'memory'], message: `spec.memory: Invalid value: ${JSON.stringify(spec.memory)}: ${(err as Error).message}` }];
  }
}

/** Maxima below the current values, duplicate NIC names or MACs (the uid is not known here: a placeholder derives MACs). */
function liveSpecErrors(spec: Record<string, unknown>): FieldError[] {
  const result = liveShapeOf(spec as unknown as VirtualMachineSpec, 'validate');
  return 'errors' in result ? result.errors : [];
}
