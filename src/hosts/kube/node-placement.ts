// What the VM placement step reads and calls on a node in Kubernetes mode (DaemonSet): every
// Hypervisor, where the cluster's VMs are placed, and moves of this node's guests to another
// node. A move is file mode's (src/hosts/domain-move.ts: live where the guest runs, else cold,
// the old definition removed only with the deletion gate's permit) over a connection this node
// opens to the other node's advertised URI. Once the guest is there, the placement step writes
// the new node into status.nodeName: the handover (src/sources/kube-source.ts, nodeOf). Only
// then does the old definition go (removeMovedCopy, with the gate's permit): a controller that
// stops in between finds it on restart and finishes the move instead of starting a new guest.
// This node never acts on a guest once it is another node's.
import { LibvirtDiskCarrier } from '../../adapters/libvirt/disk-carrier.js';
import type { LibvirtHypervisor } from '../../adapters/libvirt/libvirt-hypervisor.js';
import type { Hypervisor } from '../../api/hypervisor.js';
import { resourceKey } from '../../api/meta.js';
import { domainNameFor, vmKeyForDomain, VM_KIND, type VirtualMachineSpec } from '../../api/virtual-machine.js';
import type { DeletionGate } from '../../core/deletion-gate.js';
import type { Logger } from '../../core/logger.js';
import type { DiskCarrier } from '../../ports/disk-carrier.js';
import type { PlacementView } from '../../reconcilers/virtual-machine/steps/placement.js';
import type { KubeObject } from '../../sources/kube-source.js';
import { copiedPaths, LIVE_MIGRATION, moveDomain, removeOldDefinition, type MoveHosts } from '../domain-move.js';
import { ANY_ATTEMPT, Migrations } from '../migrations.js';
import { demandOf, type PlacedVm } from '../placement.js';
import { reachableFromOtherHosts } from './reachable-uri.js';


export interface NodePlacementOptions {
  /** This node. */
  self: string;
  /** This node's own libvirt connection. */
  local: LibvirtHypervisor;
  /** Every Hypervisor as last listed (this node's own is there once registered). */
  hypervisors: () => Hypervisor[];
  /** Every node's VirtualMachines, as the watch holds them. */
  vms: () => readonly KubeObject[];
  gate: Pick<DeletionGate, 'decideMigrated'>;
  logger: Logger;
  /** A VM looks again (its move ended). */
  requeue: (key: string) => void;
  /** Opens a connection to another node's libvirt. */
  open: (uri: string) => LibvirtHypervisor;
  /** Carries a cold-moved guest's disk files to a node that does not see them (default: through libvirt). */
  disks?: DiskCarrier;
  /** A guest stopped for a move (its disks cannot follow it live) is powered off after this long (--shutdown-timeout). */
  stopTimeoutMs: number;
}

export interface NodePlacement extends PlacementView {
  close(): Promise<void>;
}

export function nodePlacement(opts: NodePlacementOptions): NodePlacement {
  const { self, local, logger } = opts;
  const migrations = new Migrations();
  /** Domain name → the files its cold move copied here → there: they leave this node with its old definition (a restart forgets them: they stay). */
  const carried = new Map<string, string[]>();
  const remotes = new Map<string, LibvirtHypervisor>();
  const object = (host: string) => opts.hypervisors().find((hv) => hv.metadata.name === host);
  const uriOf = (host: string): string => host === self ? local.uri : object(host)?.spec.uri ?? '';
  const portOf = (host: string): LibvirtHypervisor => {
    const port = host === self ? local : remotes.get(host);
    if (!port) throw new Error(`no connection to node ${host}`);
    return port;
  };
  /** The other node's connection, opened the first time (and again when its URI changed). */
  const connect = async (host: string): Promise<void> => {
    const uri = uriOf(host);
    let conn = remotes.get(host);
    if (conn?.uri !== uri) {
      await conn?.close();
      conn = opts.open(uri);
      remotes.set(host, conn);
    }
    if (!conn.connected && await conn.connectOrWait() !== 'connected') throw new Error(`cannot reach node ${host}'s libvirt at ${uri}${conn.unreachableBecause ? `: ${conn.unreachableBecause}` : ''}`);
  };
  const moveHosts: MoveHosts = {
    portOf,
    uriOf,
    migrateLive: (name, _from, to) => local.migrate(name, uriOf(to), LIVE_MIGRATION),
    isPersistent: (name, host) => portOf(host).isPersistent(name),
    disks: opts.disks ?? new LibvirtDiskCarrier(),
    stopTimeoutMs: opts.stopTimeoutMs,
  };

  return {
    hypervisors: () => {
      const all = opts.hypervisors();
      return all.length ? all : [{ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'Hypervisor', metadata: { name: self, namespace: '', uid: '', generation: 0, creationTimestamp: '' }, spec: { uri: local.uri } }];
    },
    localHost: () => self,
    placed: () => {
      const out: PlacedVm[] = [];
      const moving = migrations.inFlight();
      for (const vm of opts.vms()) {
        const domainName = domainNameFor(vm.metadata.namespace, vm.metadata.name);
        const nodeName = moving.get(domainName)?.to ?? (vm.status?.nodeName as string | undefined);
        if (!nodeName) continue;
        out.push({ key: resourceKey(VM_KIND, vm.metadata.namespace, vm.metadata.name), domainName, nodeName, ...demandOf((vm.spec ?? {}) as unknown as VirtualMachineSpec) });
      }
      return out;
    },
    movableTo: (host: string) => host !== self && reachableFromOtherHosts(object(host)?.spec.uri ?? ''),
    // After a move the guest is the destination's: the step hands the VM over.
    hostOf: (domainName: string) => {
      const job = migrations.get(domainName);
      return job?.moved ? job.to : undefined;
    },
    migrate: (domainName, from, to, attempt = ANY_ATTEMPT) => migrations.start(domainName, from, to, attempt,
      async (observer) => {
        await connect(to);
        // The old definition stays until the VM is handed over (removeMovedCopy): until then it is the move's record here.
        return moveDomain({ key: vmKeyForDomain(domainName), domainName, from, to, mayStop: attempt.mayStop }, moveHosts, opts.gate, { ...observer, carried: (disks) => carried.set(domainName, copiedPaths(disks)) }, true);
      },
      () => local.migrationProgress(domainName),
      (job) => {
        if (job.error) logger.warn(`moving ${domainName} from ${from} to node ${to}: ${job.error}`, { moved: job.moved === true });
        else logger.info(`moved ${domainName} from ${from} to node ${to} (${job.mode})`);
        opts.requeue(vmKeyForDomain(domainName));
      }),
    removeMovedCopy: async (key, domainName, to) => {
      await connect(to);
      await removeOldDefinition({ key, domainName, from: self, to }, moveHosts, opts.gate, carried.get(domainName));
      carried.delete(domainName);
    },
    clearMigration: (domainName: string) => migrations.clear(domainName),
    moveUnderWay: (domainName: string) => migrations.inFlight().get(domainName),
    close: async () => {
      await Promise.all([...remotes.values()].map((c) => c.close()));
      remotes.clear();
    },
  };
}
