// drain / cordon / uncordon in Kubernetes mode: merge patches of the Hypervisor (cluster-scoped)
// and of pinned VMs, as kubectl cordon/drain patch a Node; the progress read from the VMs' status
// (status.nodeName, the Scheduled condition) and the Hypervisor's status.vms, written by the
// nodes' controllers.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/meta.js';
import { HYPERVISOR_PLURAL, type HypervisorStatus } from '../api/hypervisor.js';
import type { VirtualMachine, VirtualMachineStatus } from '../api/virtual-machine.js';
import { kubeFailure } from '../adapters/kube-api-error.js';
import { mergePatchOf } from '../adapters/kube-desired-state-writer.js';
import { kubeConfig, vmLabel } from './declared-source.js';
import type { DrainTarget } from './drain-command.js';

const HVS = { group: GROUP, version: VERSION, plural: HYPERVISOR_PLURAL };
const VMS = { group: GROUP, version: VERSION, plural: 'virtualmachines' };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

type VmObject = VirtualMachine & { status?: VirtualMachineStatus };

export async function clusterTarget(kubeconfig: string | undefined, host: string): Promise<DrainTarget> {
  const api = (await kubeConfig(kubeconfig)).makeApiClient(CustomObjectsApi);
  const listVms = async () => (await call('listing virtualmachines', () => api.listClusterCustomObject(VMS)) as { items: VmObject[] }).items;
  return {
    editHypervisor: async (changes) => {
      await call(`hypervisor "${host}"`, () => api.patchClusterCustomObject({ ...HVS, name: host, body: mergePatchOf(changes) }, MERGE));
    },
    pinned: async () => (await listVms()).filter((vm) => vm.spec.nodeName === host).map((vm) => ({
      label: vmLabel(vm),
      unpin: async () => {
        await call(`virtualmachine ${vmLabel(vm)}`, () => api.patchNamespacedCustomObject(
          { ...VMS, namespace: vm.metadata.namespace ?? 'default', name: vm.metadata.name, body: { spec: { nodeName: null } } }, MERGE));
      },
    })),
    // Whether a node's controller runs is not for the CLI to know: the timeout says it.
    noMover: () => undefined,
    progress: () => ({
      read: async () => {
        const [vms, hv] = await Promise.all([listVms(), call(`hypervisor "${host}"`, () => api.getClusterCustomObject({ ...HVS, name: host })) as Promise<{ status?: HypervisorStatus }>]);
        return {
          vms: vms.map((vm) => ({
            label: vmLabel(vm),
            status: vm.status,
            // The API server bumps metadata.generation with each spec change; the status answers it once it has observed that one.
            current: async () => vm.status?.observedGeneration !== undefined && vm.status.observedGeneration === vm.metadata.generation,
          })),
          left: hv.status?.vms ?? [],
        };
      },
      close: () => undefined,
    }),
  };
}

/** The call's answer; a failure says what was asked and what the server said (404: not found). */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const { code, message } = kubeFailure(err);
    if (code === 404) throw new Error(`${what} not found in the cluster: ${message}`);
    throw new Error(`${what}: ${code ? `the API server answered ${code}: ` : 'the API server did not answer: '}${message}`);
  }
}
