// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does
// it for controller-runtime: 15 s lease, 10 s renew deadline, 2 s retry. A lease counts as expired
// by the time this process last saw it change (not the holder's clock). A leader that cannot
// renew within the deadline stops leading at once.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../core/logger.js';
import { httpStatus, kubeErrorMessage } from './kube-api-error.js';

export interface LeaseElectorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
}

export interface LeadershipCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const onAbort = () => { clearTimeout(timer); resolve(); };
  const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
  signal.addEventListener('abort', onAbort, { once: true });
});

/** A Lease call that hangs (a black-holed connection) counts as failed after `ms`. */
function within<T>(ms: number, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

export class LeaseElector {
  private readonly api: CoordinationV1Api;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  /** The lease as last read, and when its holder/renew time last changed in our eyes. */
  private observed: { holder: string; renewTime: string; at: number } | undefined;
  private leading = false;

  constructor(private readonly opts: LeaseElectorOptions) {
    this.api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Acquires, leads until the lease is lost or `signal` aborts (then releases it). */
  async run(callbacks: LeadershipCallbacks, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) await sleep(this.retryMs, signal);
    if (signal.aborted) return;
    this.leading = true;
    this.opts.logger.info('became leader', { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity });
    callbacks.onStartedLeading();
    // The deadline is kept by a timer of its own, so a renew call that hangs cannot stretch it.
    const lost = new AbortController();
    let watchdog: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => lost.abort(), this.renewDeadlineMs);
    };
    arm();
    const stop = AbortSignal.any([signal, lost.signal]);
    while (!stop.aborted) {
      await sleep(this.retryMs, stop);
      if (stop.aborted) break;
      if (await this.tryAcquireOrRenew()) arm();
    }
    clearTimeout(watchdog);
    this.leading = false;
    if (lost.signal.aborted && !signal.aborted) {
      this.opts.logger.error('lost the lease: stopping', { lease: `${this.opts.namespace}/${this.opts.name}` });
      callbacks.onStoppedLeading();
      return;
    }
    callbacks.onStoppedLeading();
    await this.release();
  }

  private async get(): Promise<V1Lease | undefined> {
    try {
      return await within(this.retryMs * 2, this.api.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace }));
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  private spec(previous: V1Lease['spec'] | undefined): NonNullable<V1Lease['spec']> {
    const now = new V1MicroTime();
    const keep = previous?.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      acquireTime: keep && previous?.acquireTime ? new V1MicroTime(previous.acquireTime) : now,
      renewTime: now,
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (keep ? 0 : 1),
    };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    try {
      const lease = await this.get();
      if (!lease) {
        await within(this.retryMs * 2, this.api.createNamespacedLease({ namespace: this.opts.namespace, body: { metadata: { name: this.opts.name, namespace: this.opts.namespace }, spec: this.spec(undefined) } }));
        return true;
      }
      const holder = lease.spec?.holderIdentity ?? '';
      const renewTime = String(lease.spec?.renewTime ?? '');
      if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) {
        this.observed = { holder, renewTime, at: Date.now() };
      }
      const durationMs = (lease.spec?.leaseDurationSeconds ?? Math.ceil(this.leaseMs / 1000)) * 1000;
      const heldByOther = holder !== '' && holder !== this.opts.identity;
      if (heldByOther && Date.now() < this.observed.at + durationMs) return false;
      // Ours to renew, released, or expired: take it, guarded by resourceVersion.
      await within(this.retryMs * 2, this.api.replaceNamespacedLease({
        name: this.opts.name, namespace: this.opts.namespace,
        body: { metadata: { ...lease.metadata, name: this.opts.name, namespace: this.opts.namespace }, spec: this.spec(lease.spec) },
      }));
      return true;
    } catch (err) {
      if (httpStatus(err) !== 409) this.opts.logger.warn('lease update failed', { error: kubeErrorMessage(err) });
      return false;
    }
  }

  /** Hands the lease back so that another replica takes over without waiting for expiry. */
  private async release(): Promise<void> {
    try {
      const lease = await this.get();
      if (lease?.spec?.holderIdentity !== this.opts.identity) return;
      await this.api.replaceNamespacedLease({
        name: this.opts.name, namespace: this.opts.namespace,
        body: { metadata: lease.metadata!, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() } },
      });
      this.opts.logger.info('released the lease', { lease: `${this.opts.namespace}/${this.opts.name}` });
    } catch (err) {
      this.opts.logger.warn('could not release the lease', { error: kubeErrorMessage(err) });
    }
  }
}
