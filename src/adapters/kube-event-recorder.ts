// Kubernetes Events (core/v1) for `kubectl describe`: what the controller did to a resource.
// Repeats of one event are folded into it (count and lastTimestamp), as client-go's recorder
// does, so a resync storm does not become an event storm. Recording never blocks a reconcile.
import { hostname } from 'node:os';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { parseResourceKey, type ResourceKey } from '../api/meta.js';
import type { Logger } from '../core/logger.js';
import type { EventRecorder, EventType } from '../ports/event-recorder.js';
import { httpStatus, kubeErrorMessage, kubeFailure } from './kube-api-error.js';

const COMPONENT = 'wimaxvm';
/** How many distinct recent events are remembered for folding repeats. */
const REMEMBERED = 4096;

export class KubeEventRecorder implements EventRecorder {
  private readonly api: CoreV1Api;
  private readonly recent = new Map<string, { name: string; count: number; pending: Promise<unknown> }>();
  private readonly instance = hostname();

  constructor(
    kubeConfig: KubeConfig,
    /** The involved object's identity, from the informers. */
    private readonly lookup: (key: ResourceKey) => { apiVersion: string; uid: string } | undefined,
    private readonly logger: Logger,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  record(key: ResourceKey, type: EventType, reason: string, message: string): void {
    const { kind, namespace, name } = parseResourceKey(key);
    const involved = this.lookup(key);
    if (!involved) return; // gone from the API: nothing to attach the event to
    const id = `${key}\u0000${involved.uid}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = new Date();
    const seen = this.recent.get(id);
    if (seen) {
      seen.count++;
      const count = seen.count;
      seen.pending = seen.pending.then(() => this.api.patchNamespacedEvent(
        { name: seen.name, namespace, body: { count, lastTimestamp: now.toISOString() } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )).catch((err) => {
        // The server deleted it (--event-ttl, 1 h by default): this repeat starts a new Event,
        // or folds into the one an earlier repeat already started.
        if (httpStatus(err) === 404) {
          if (this.recent.get(id) === seen) this.recent.delete(id);
          this.record(key, type, reason, message);
          return;
        }
        this.logger.warn('event update failed', { key, reason, error: kubeErrorMessage(err) });
      });
      return;
    }
    const eventName = `${name}.${(now.getTime() * 1000 + this.recent.size % 1000).toString(16)}`;
    const body: CoreV1Event = {
      metadata: { name: eventName, namespace },
      involvedObject: { apiVersion: involved.apiVersion, kind, name, namespace, uid: involved.uid },
      reason, message, type,
      count: 1, firstTimestamp: now, lastTimestamp: now,
      source: { component: COMPONENT, host: this.instance },
      reportingComponent: COMPONENT, reportingInstance: this.instance,
    };
    const pending = this.api.createNamespacedEvent({ namespace, body }).catch((err) => {
      // A namespace being deleted takes no new content: its objects' last events are expected to go.
      const level = kubeFailure(err).causes?.includes('NamespaceTerminating') ? 'debug' : 'warn';
      this.logger[level]('event not recorded', { key, reason, error: kubeErrorMessage(err) });
    });
    this.recent.set(id, { name: eventName, count: 1, pending });
    if (this.recent.size > REMEMBERED) this.recent.delete(this.recent.keys().next().value!);
  }
}
