// The placement leader in Kubernetes mode: of the nodes' controllers, the one holding the
// placement Lease places the VMs that have no node (status.nodeName, written under the VM's
// resourceVersion: of two leaders at most one places a VM) and watches the nodes' heartbeats: a
// node gone silent is Ready=False and its VMs Unknown, never placed again elsewhere. Each node's
// controller then runs the VMs placed on it (src/sources/kube-source.ts, nodeOf).
import type { KubeConfig } from '@kubernetes/client-node';
import { resourceKey } from '../../api/meta.js';
import { domainNameFor, VM_KIND, type VirtualMachineSpec, type VirtualMachineStatus } from '../../api/virtual-machine.js';
import { httpStatus, kubeErrorMessage } from '../../adapters/kube-api-error.js';
import { LeaseElector } from '../../adapters/kube-lease-elector.js';
import type { Logger } from '../../core/logger.js';
import { nodeOf, type KubeObject, type KubeSource } from '../../sources/kube-source.js';
import { HeartbeatClock, readHeartbeats } from './heartbeat.js';
import { toHypervisor, type HypervisorObject, type HypervisorObjects } from './hypervisor-objects.js';
import { lostHostStatus, planPlacements, unknownVmsOn, type ClusterVm } from './leader-plan.js';

export interface PlacementLeaderOptions {
  kubeConfig: KubeConfig;
  source: KubeSource;
  objects: HypervisorObjects;
  /** Where the placement Lease and the heartbeats are. */
  namespace: string;
  /** This node: the leader's identity. */
  host: string;
  logger: Logger;
  /** How often heartbeats are looked at and unschedulable VMs tried again. */
  checkMs: number;
  heartbeatDurationMs: number;
  election?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
}

export const PLACEMENT_LEASE = 'wimaxvm-placement';

export class PlacementLeader {
  private readonly hypervisors: ReturnType<HypervisorObjects['informer']>;
  private readonly clock: HeartbeatClock;
  private readonly abort = new AbortController();
  /** Placed by this leader and not seen back through the watch yet (kube-scheduler's assumed pods). */
  private readonly assumed = new Map<string, string>();
  private leading = false;
  private election: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private again = false;
  /** The Hypervisors have been listed: before that, every VM would look unschedulable. */
  private listed = false;
  /** The next pass also reads the heartbeats (the timer's passes; a VM's change alone needs no API call). */
  private checkHeartbeats = false;
  private readonly changeListeners: ((host: string) => void)[] = [];

  constructor(private readonly opts: PlacementLeaderOptions) {
    this.hypervisors = opts.objects.informer();
    this.clock = new HeartbeatClock(opts.heartbeatDurationMs);
    for (const event of ['add', 'update', 'delete'] as const) {
      this.hypervisors.on(event, (object) => {
        this.wake();
        for (const listener of this.changeListeners) listener(object.metadata.name);
      });
    }
    this.hypervisors.on('error', (err) => {
      if (this.abort.signal.aborted) return;
      opts.logger.warn('the Hypervisor watch failed; restarting', { error: kubeErrorMessage(err) });
      setTimeout(() => { if (!this.abort.signal.aborted) void this.hypervisors.start().catch(() => undefined); }, 1_000).unref();
    });
  }

  /** Every Hypervisor as last listed (none before the first list). */
  hypervisorObjects(): readonly HypervisorObject[] {
    return this.listed ? this.hypervisors.list() : [];
  }

  /** Told whenever a Hypervisor is added, changed or removed (on every node, leading or not), with its name. */
  onHypervisorChange(listener: (host: string) => void): void {
    this.changeListeners.push(listener);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** A VM or Hypervisor changed: the leader looks again (changes close together, once). */
  wake(heartbeats = false): void {
    if (!this.leading) return;
    if (heartbeats) this.checkHeartbeats = true;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = (async () => {
      do {
        this.again = false;
        await new Promise((r) => setImmediate(r));
        await this.run().catch((err) => this.opts.logger.warn('placement pass failed; trying again', { error: kubeErrorMessage(err) }));
      } while (this.again && this.leading);
      this.pass = undefined;
    })();
  }

  async start(): Promise<void> {
    void this.watchHypervisors();
    const elector = new LeaseElector({
      kubeConfig: this.opts.kubeConfig, namespace: this.opts.namespace, name: PLACEMENT_LEASE, identity: this.opts.host, logger: this.opts.logger, ...this.opts.election,
    });
    this.election = elector.run({
      onStartedLeading: () => {
        this.leading = true;
        this.clock.reset();
        this.opts.logger.info('leads placement', { host: this.opts.host });
        this.timer = setInterval(() => this.wake(true), this.opts.checkMs);
        this.timer.unref();
        this.wake(true);
      },
      onStoppedLeading: () => {
        this.leading = false;
        this.assumed.clear();
        clearInterval(this.timer);
      },
    }, this.abort.signal);
  }

  /** Lists and watches the Hypervisors, retrying a failed first list (their CRD not served yet). */
  private async watchHypervisors(): Promise<void> {
    for (let delay = 1_000; !this.abort.signal.aborted; delay = Math.min(delay * 2, 30_000)) {
      try {
        await this.hypervisors.start();
        this.listed = true;
        this.wake(true);
        return;
      } catch (err) {
        this.opts.logger.warn('cannot list Hypervisors yet; placement waits', { error: kubeErrorMessage(err), retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.leading = false;
    clearInterval(this.timer);
    await this.pass;
    await this.election;
    await this.hypervisors.stop();
  }

  private async run(): Promise<void> {
    if (!this.listed) return;
    const { source, objects, logger } = this.opts;
    const now = new Date().toISOString();
    const objectsByKey = new Map<string, KubeObject>();
    const vms: ClusterVm[] = source.listAll(VM_KIND).map((o) => {
      const key = resourceKey(VM_KIND, o.metadata.namespace, o.metadata.name);
      objectsByKey.set(key, o);
      const node = nodeOf(o);
      if (node) this.assumed.delete(key); // seen back with its node
      return {
        key, domainName: domainNameFor(o.metadata.namespace, o.metadata.name), generation: o.metadata.generation ?? 0,
        spec: (o.spec ?? {}) as unknown as VirtualMachineSpec, status: o.status as VirtualMachineStatus | undefined, node, deleting: !!o.metadata.deletionTimestamp,
      };
    });
    for (const key of this.assumed.keys()) if (!objectsByKey.has(key)) this.assumed.delete(key);
    const hvObjects = this.hypervisors.list();
    if (this.checkHeartbeats) {
      this.checkHeartbeats = false;
      await this.markLostHosts(hvObjects, vms, objectsByKey, now);
    }
    const hypervisors = hvObjects.map(toHypervisor);
    for (const write of planPlacements(vms, hypervisors, this.assumed, now)) {
      if (!this.leading) return;
      try {
        await objects.replaceVmStatus(objectsByKey.get(write.key)!, write.status);
        if (write.kind === 'place') {
          this.assumed.set(write.key, write.node);
          logger.info(`placed ${write.key} on ${write.node}`);
        } else {
          logger.info(`${write.key} fits on no hypervisor`, { reason: write.status.conditions.find((c) => c.type === 'Scheduled')?.message });
        }
      } catch (err) {
        // 409: the VM changed meanwhile (or another leader placed it): its watch event brings it back.
        if (httpStatus(err) !== 409 && httpStatus(err) !== 404) logger.warn(`could not write the placement of ${write.key}`, { error: kubeErrorMessage(err) });
      }
    }
  }

  private async markLostHosts(hvObjects: readonly HypervisorObject[], vms: ClusterVm[], objectsByKey: Map<string, KubeObject>, now: string): Promise<void> {
    const { kubeConfig, namespace, objects, logger } = this.opts;
    const heartbeats = await readHeartbeats(kubeConfig, namespace);
    for (const { host, silentForMs } of this.clock.silent(hvObjects.map((o) => o.metadata.name), heartbeats, Date.now())) {
      const object = hvObjects.find((o) => o.metadata.name === host)!;
      const status = lostHostStatus(toHypervisor(object), silentForMs, now);
      try {
        if (status) {
          await objects.replaceStatus(object, status);
          logger.warn(`hypervisor ${host} is lost: no heartbeat for ${Math.round(silentForMs / 1000)} s; its VMs are Unknown`);
        }
        for (const { key, status: unknown } of unknownVmsOn(host, vms, now)) {
          await objects.replaceVmStatus(objectsByKey.get(key)!, unknown).catch((err) => {
            if (httpStatus(err) !== 409 && httpStatus(err) !== 404) throw err;
          });
        }
      } catch (err) {
        if (httpStatus(err) !== 409) logger.warn(`could not mark hypervisor ${host} lost`, { error: kubeErrorMessage(err) });
      }
    }
  }
}
