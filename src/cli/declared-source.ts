// Where `image` and `create` find declarations: the watched directory (--dir, or $WIMAXVM_DIR),
// or with --source kube the API server (the Kubernetes client is loaded only then).
import type { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { kindInfo } from '../api/kinds.js';
import { VM_KIND, type VirtualMachine } from '../api/virtual-machine.js';
import type { DesiredStateWriter } from '../ports/desired-state-writer.js';
import { DIR_ENV, namedDir } from './common-flags.js';
import { UsageError } from './usage.js';

export interface SourceFlags {
  dir?: string | undefined;
  source?: string | undefined;
  kubeconfig?: string | undefined;
}

export type DeclaredSource = { kind: 'dir'; dir: string } | { kind: 'kube'; kubeconfig: string | undefined };

/** The source named by the flags; undefined when none is named (file mode without --dir). */
export function declaredSource(flags: SourceFlags): DeclaredSource | undefined {
  const source = flags.source ?? 'dir';
  if (source !== 'dir' && source !== 'kube') throw new UsageError(`--source: expected dir or kube, got ${JSON.stringify(source)}`);
  if (source === 'kube') {
    if (flags.dir !== undefined) throw new UsageError('--dir goes with --source dir, not kube');
    return { kind: 'kube', kubeconfig: flags.kubeconfig };
  }
  if (flags.kubeconfig !== undefined) throw new UsageError('--kubeconfig goes with --source kube');
  const dir = namedDir(flags.dir);
  return dir === undefined ? undefined : { kind: 'dir', dir };
}

export const NO_SOURCE = `name the VMs' declarations: --dir DIR (or ${DIR_ENV}=DIR) or --source kube`;

/** The kubeconfig --source kube reaches the cluster with (--kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster). */
export async function kubeConfig(path: string | undefined): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { identifyClient } = await import('../adapters/kube-client-identity.js');
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (!process.env.KUBECONFIG && !existsSync(join(homedir(), '.kube', 'config')) && !process.env.KUBERNETES_SERVICE_HOST) {
    // loadFromDefault would fall back to http://localhost:8080, a cluster nobody meant.
    throw new UsageError('no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run in a pod');
  } else kc.loadFromDefault();
  return identifyClient(kc);
}

/** Every declared VM, in every namespace. */
export async function declaredVms(source: DeclaredSource): Promise<VirtualMachine[]> {
  if (source.kind === 'dir') {
    const { declaredListing } = await import('./declared-listing.js');
    return declaredListing(source.dir, { kind: VM_KIND, selector: [] }).list() as VirtualMachine[];
  }
  const { CustomObjectsApi } = await import('@kubernetes/client-node');
  const { kubeFailure } = await import('../adapters/kube-api-error.js');
  const info = kindInfo(VM_KIND);
  const api = (await kubeConfig(source.kubeconfig)).makeApiClient(CustomObjectsApi);
  try {
    const list = await api.listClusterCustomObject({ group: info.group, version: info.version, plural: info.plural }) as { items: VirtualMachine[] };
    return list.items;
  } catch (err) {
    const { code, message } = kubeFailure(err);
    throw new Error(`listing virtualmachines from the API server${code ? ` (HTTP ${code})` : ''}: ${message}`);
  }
}

/** The writer for the source: the watched directory's files, or the API server. */
export async function writerFor(source: DeclaredSource): Promise<DesiredStateWriter> {
  if (source.kind === 'dir') return new (await import('../adapters/file-desired-state-writer.js')).FileDesiredStateWriter(source.dir);
  const { KubeDesiredStateWriter } = await import('../adapters/kube-desired-state-writer.js');
  return new KubeDesiredStateWriter(await kubeConfig(source.kubeconfig));
}

/** "vm30" in the default namespace, "ns/vm30" elsewhere: how used-by lists name VMs. */
export function vmLabel(vm: VirtualMachine): string {
  const ns = vm.metadata.namespace ?? 'default';
  return ns === 'default' ? vm.metadata.name : `${ns}/${vm.metadata.name}`;
}
