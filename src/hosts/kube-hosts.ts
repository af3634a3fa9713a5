// Kubernetes mode's hosts part (src/hosts/kube/), for the composition root: only with a node
// (the DaemonSet), and loaded only then (file mode never needs the Kubernetes client).
import type { LibvirtHypervisor } from '../adapters/libvirt/libvirt-hypervisor.js';
import type { Config } from '../config.js';
import type { DeletionGate } from '../core/deletion-gate.js';
import type { Identity } from '../reconcilers/virtual-machine/ownership.js';
import type { Logger } from '../core/logger.js';
import type { Mode } from '../modes/mode.js';
import type { KubeHostsPart } from './kube/kube-hosts-part.js';

export async function makeKubeHosts(config: Config, mode: Mode, hypervisor: LibvirtHypervisor, logger: Logger,
  moves: { gate: Pick<DeletionGate, 'decideMigrated'>; requeue: (key: string) => void; identity: Identity }): Promise<KubeHostsPart | undefined> {
  const nodeName = config.kube?.nodeName;
  if (mode.name !== 'kube' || !nodeName) return undefined;
  const [{ makeKubeHostsPart }, { KubeMode, loadKubeConfig }] = await Promise.all([import('./kube/kube-hosts-part.js'), import('../modes/kube-mode.js')]);
  const kube = mode as InstanceType<typeof KubeMode>;
  return makeKubeHostsPart({
    kubeConfig: loadKubeConfig(config.kube?.kubeconfig), source: kube.witness, onObjectSeen: (l) => kube.onObjectSeen(l),
    host: nodeName, uri: config.kube?.advertiseUri ?? config.connect, local: hypervisor, stopTimeoutMs: config.shutdownTimeoutMs, ...moves, namespace: config.kube!.vlanClaimNamespace, logger,
    ...(config.kube?.hosts ? { timings: config.kube.hosts } : {}),
  });
}
