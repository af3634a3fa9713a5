// Reconciles one WimaxClient: the station's path through the switch to the VM it is bound to.
import { setKstatusConditions, type Progress } from '../../api/kstatus.js';
import { parseResourceKey, resourceKey, setCondition, type ResourceKey } from '../../api/meta.js';
import { shapingKbps } from '../../api/rate.js';
import { VM_KIND, type VirtualMachine, type VirtualMachineStatus } from '../../api/virtual-machine.js';
import { CLIENT_KIND, type WimaxClient, type WimaxClientStatus } from '../../api/wimax-client.js';
import { canonicalMac } from '../../allocators/mac-allocator.js';
import type { DesiredStore } from '../../core/desired-store.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import type { ReconcileResult, Reconciler } from '../../core/result.js';
import type { ClientPath, Datapath } from '../../ports/datapath.js';
import type { EventRecorder } from '../../ports/event-recorder.js';
import type { StatusStore } from '../../ports/status-store.js';
import { ProblemReporter } from '../problem-reporter.js';
import { sameDeclaration } from '../same-declaration.js';
import type { ClientIndex } from './client-index.js';

export interface WimaxClientReconcilerDeps {
  store: DesiredStore;
  statuses: StatusStore;
  events: EventRecorder;
  index: ClientIndex;
  logger: Logger;
  /** Absent when VM NICs are not on Open vSwitch: stations then cannot be bound. */
  datapath?: Datapath;
  shapingEnabled?: (namespace: string) => boolean;
}

type Outcome =
  | { bound: ClientPath; vmName: string }
  | { printable: 'Pending' | 'Conflict'; reason: string; message: string; vmName: string; vlan?: number };

export function samePath(a: ClientPath | undefined, b: ClientPath): boolean {
  return a !== undefined && a.mac === b.mac && a.vlan === b.vlan && a.vmPort === b.vmPort && a.uplinkKbps === b.uplinkKbps && a.downlinkKbps === b.downlinkKbps;
}

/** What only the user can fix (kstatus Stalled); the rest waits on the VM (Reconciling). */
const NEEDS_THE_USER = new Set(['DuplicateMAC', 'NoDatapath', 'InvalidShaping']);

export function progressOfClient(outcome: { reason: string; message: string }): Progress {
  const why = { reason: outcome.reason, message: outcome.message };
  return NEEDS_THE_USER.has(outcome.reason) ? { state: 'stalled', why } : { state: 'reconciling', why };
}

export class WimaxClientReconciler implements Reconciler {
  readonly kind = CLIENT_KIND;
  /** The VM domain id each station's path was programmed for: a restarted VM gets a new switch port number. */
  private readonly programmedFor = new Map<string, number | undefined>();

  private readonly problems: ProblemReporter;

  constructor(private readonly deps: WimaxClientReconcilerDeps) {
    this.problems = new ProblemReporter(deps);
  }

  async reconcile(key: ResourceKey): Promise<ReconcileResult> {
    const client = this.deps.store.get<WimaxClient>(key);
    if (!client) {
      this.problems.resolved(key);
      return this.remove(key);
    }
    // Its VM is declared but has no status yet (a fresh start): this station would be written
    // Pending only to be written Bound moments later. The VM's first status write queues it again.
    if (this.awaitsFirstVmStatus(key, client)) return { requeueAfterMs: 30_000 };
    const mac = canonicalMac(client.spec.mac);
    const outcome = this.decide(key, client, mac);
    if (!('bound' in outcome) && NEEDS_THE_USER.has(outcome.reason)) this.problems.report(key, outcome.reason, outcome.message);
    else this.problems.resolved(key);
    const { datapath } = this.deps;
    if ('bound' in outcome) {
      const vmStatus = this.vmStatus(key, client);
      const domainId = vmStatus?.domain?.id;
      if (!samePath(datapath!.clientPath(mac), outcome.bound) || this.programmedFor.get(mac) !== domainId) {
        await datapath!.applyClientPath(outcome.bound);
        this.programmedFor.set(mac, domainId);
        this.deps.events.record(key, 'Normal', 'Bound', `station ${mac} bound to ${outcome.vmName} on VLAN ${outcome.bound.vlan}`);
        this.deps.logger.info(`bound ${mac} to ${outcome.vmName}`, { key, vlan: outcome.bound.vlan });
      }
    } else if (datapath && this.pathIsOurs(key, mac) && datapath.clientPath(mac)) {
      await datapath.removeClientPath(mac);
      this.programmedFor.delete(mac);
      this.deps.logger.info(`unbound ${mac}`, { key, reason: outcome.reason });
    }
    await this.writeStatus(key, client, outcome);
    return 'bound' in outcome ? {} : { requeueAfterMs: 30_000 };
  }

  private decide(key: ResourceKey, client: WimaxClient, mac: string): Outcome {
    const vmName = client.spec.vmName;
    const duplicates = this.deps.index.duplicatesOf(key);
    if (duplicates.length) {
      const others = duplicates.map((k) => parseResourceKey(k)).map((k) => `${k.namespace}/${k.name}`).join(', ');
      return { printable: 'Conflict', reason: 'DuplicateMAC', message: `station ${mac} is also declared by ${others}; neither is bound until one is removed`, vmName };
    }
    if (!this.deps.datapath) {
      return { printable: 'Pending', reason: 'NoDatapath', message: 'VM NICs are not on Open vSwitch (run with --nic ovs:BRIDGE --uplink PORT)', vmName };
    }
    const { namespace } = parseResourceKey(key);
    const vm = this.deps.store.get<VirtualMachine>(resourceKey(VM_KIND, namespace, vmName));
    if (!vm) return { printable: 'Pending', reason: 'VMNotFound', message: `VirtualMachine ${namespace}/${vmName} does not exist`, vmName };
    const status = this.vmStatus(key, client);
    const vlan = status?.allocations.vlan;
    if (vlan === undefined) return { printable: 'Pending', reason: 'VMHasNoVLAN', message: `VirtualMachine ${vmName} has no VLAN yet`, vmName };
    const port = status?.domain?.port;
    if (!port || status?.domain?.state !== 'running') {
      return { printable: 'Pending', reason: 'VMNotRunning', message: `VirtualMachine ${vmName} is not running, so it has no switch port`, vmName, vlan };
    }
    let rates: { downlinkKbps?: number; uplinkKbps?: number } = {};
    if (this.deps.shapingEnabled?.(namespace) ?? true) {
      try {
        rates = shapingKbps(client.spec.shaping);
      } catch (err) {
        return { printable: 'Pending', reason: 'InvalidShaping', message: errorMessage(err), vmName, vlan };
      }
    }
    return { bound: { mac, vlan, vmPort: port, ...rates }, vmName };
  }

  private awaitsFirstVmStatus(key: ResourceKey, client: WimaxClient): boolean {
    if (!this.deps.datapath || this.deps.statuses.get(key)) return false;
    const vmKey = resourceKey(VM_KIND, parseResourceKey(key).namespace, client.spec.vmName);
    return this.deps.store.has(vmKey) && !this.deps.statuses.get(vmKey);
  }

  /** A station's path may be removed by this client only if no other valid client holds the MAC. */
  private pathIsOurs(key: ResourceKey, mac: string): boolean {
    return this.deps.index.claimsOf(mac).every((k) => k === key || this.deps.index.duplicatesOf(k).length > 0);
  }

  private vmStatus(key: ResourceKey, client: WimaxClient): VirtualMachineStatus | undefined {
    const { namespace } = parseResourceKey(key);
    return this.deps.statuses.get(resourceKey(VM_KIND, namespace, client.spec.vmName))?.status as VirtualMachineStatus | undefined;
  }

  private async remove(key: ResourceKey): Promise<ReconcileResult> {
    const stored = this.deps.statuses.get(key) as WimaxClient | undefined;
    if (!stored) return {};
    const mac = canonicalMac(stored.spec.mac);
    if (this.deps.datapath && this.deps.index.claimsOf(mac).length === 0 && this.deps.datapath.clientPath(mac)) {
      await this.deps.datapath.removeClientPath(mac);
      this.programmedFor.delete(mac);
      this.deps.logger.info(`unbound ${mac}`, { key, reason: 'deleted' });
    }
    await this.deps.statuses.remove(key);
    return {};
  }

  private async writeStatus(key: ResourceKey, client: WimaxClient, outcome: Outcome): Promise<void> {
    const previous = this.deps.statuses.get(key)?.status as WimaxClientStatus | undefined;
    const now = new Date().toISOString();
    const generation = client.metadata.generation;
    let status: WimaxClientStatus;
    if ('bound' in outcome) {
      const { vlan, vmPort, uplinkKbps, downlinkKbps } = outcome.bound;
      status = {
        printableStatus: 'Bound', observedGeneration: generation, vmName: outcome.vmName, vlan, port: vmPort,
        ...(uplinkKbps !== undefined || downlinkKbps !== undefined ? { rates: { ...(downlinkKbps !== undefined ? { downlinkKbps } : {}), ...(uplinkKbps !== undefined ? { uplinkKbps } : {}) } } : {}),
        conditions: setKstatusConditions(setCondition(previous?.conditions ?? [], {
          type: 'Ready', status: 'True', reason: 'Bound', observedGeneration: generation,
          message: `frames from ${outcome.bound.mac} reach ${outcome.vmName} on VLAN ${vlan}`,
        }, now), { state: 'done' }, generation, now),
      };
    } else {
      status = {
        printableStatus: outcome.printable, observedGeneration: generation, vmName: outcome.vmName,
        ...(outcome.vlan !== undefined ? { vlan: outcome.vlan } : {}),
        conditions: setKstatusConditions(setCondition(previous?.conditions ?? [], {
          type: 'Ready', status: 'False', reason: outcome.reason, message: outcome.message, observedGeneration: generation,
        }, now), progressOfClient(outcome), generation, now),
      };
    }
    const stored = this.deps.statuses.get(key);
    if (stored && JSON.stringify(stored.status) === JSON.stringify(status) && sameDeclaration(stored, client)) return;
    // What needs the user has its event from the problem reporter, once per cause.
    if (previous?.printableStatus !== status.printableStatus && !('bound' in outcome) && !NEEDS_THE_USER.has(outcome.reason)) {
      this.deps.events.record(key, 'Warning', outcome.reason, outcome.message);
    }
    await this.deps.statuses.write(key, { apiVersion: client.apiVersion, kind: client.kind, metadata: client.metadata, spec: client.spec, status });
  }
}
