// drain / cordon / uncordon in file mode: the Hypervisor's and the VMs' YAML in the watched
// directory, the controller's progress from its state database.
import { resourceKey } from '../api/meta.js';
import { HYPERVISOR_KIND, HYPERVISOR_NAMESPACE, hypervisorKey, type Hypervisor } from '../api/hypervisor.js';
import { VM_KIND, type VirtualMachine, type VirtualMachineStatus } from '../api/virtual-machine.js';
import { FileDesiredStateWriter } from '../adapters/file-desired-state-writer.js';
import { readLockHolder } from '../adapters/store/controller-lock.js';
import { StateReader } from '../adapters/store/state-reader.js';
import { stateDirFor } from '../config.js';
import { declaredListing } from './declared-listing.js';
import { vmLabel as label } from './declared-source.js';
import type { DrainTarget } from './drain-command.js';
import type { DrainSource } from './drain-watch.js';
import { declaredSpec, observed } from './wait-for-observed.js';

export function directoryTarget(dir: string, host: string, stateDirFlag: string | undefined): DrainTarget {
  const writer = new FileDesiredStateWriter(dir);
  const stateDir = stateDirFor({ dir, 'state-dir': stateDirFlag });
  const declared = declaredListing(dir, { kind: HYPERVISOR_KIND, name: host, selector: [] }).list()[0] as Hypervisor | undefined;
  if (!declared) throw new Error(`hypervisor "${host}" is not declared in ${dir}`);
  return {
    // Removing a field the file does not have would only rewrite it.
    editHypervisor: (changes) => writer.patch(hypervisorKey(host), changes.filter((c) => c.value !== undefined || valueAt(declared, c.path) !== undefined)),
    pinned: async () => (declaredListing(dir, { kind: VM_KIND, selector: [] }).list() as VirtualMachine[])
      .filter((vm) => vm.spec.nodeName === host)
      .map((vm) => ({ label: label(vm), unpin: () => writer.patch(resourceKey(VM_KIND, vm.metadata.namespace, vm.metadata.name), [{ path: ['spec', 'nodeName'], value: undefined }]) })),
    noMover: () => readLockHolder(stateDir) ? undefined : `no controller is running for ${dir}`,
    progress: () => stateDbSource(dir, stateDir, host),
  };
}

function valueAt(object: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((node, part) => (node as Record<string | number, unknown> | undefined)?.[part], object);
}

/** The controller's state database as drain reads it. */
function stateDbSource(dir: string, stateDir: string, host: string): DrainSource & { close(): void } {
  let reader: StateReader | undefined;
  return {
    async read() {
      reader ??= StateReader.open(stateDir);
      const vms = reader?.objects<VirtualMachine & { status?: VirtualMachineStatus }>(VM_KIND) ?? [];
      const hv = reader?.objects<Hypervisor>(HYPERVISOR_KIND, HYPERVISOR_NAMESPACE, host)[0];
      return {
        vms: vms.map((vm) => ({
          label: label(vm),
          status: vm.status,
          // The controller has seen the VM's spec as declared now (not an answer from before an edit).
          current: async () => observed(vm, await declaredSpec(dir, resourceKey(VM_KIND, vm.metadata.namespace, vm.metadata.name))),
        })),
        left: hv?.status?.vms ?? [],
      };
    },
    close: () => reader?.close(),
  };
}
