// StatusStore in Kubernetes mode: status read from the informers' cache and written through
// the status subresource only (a merge patch of .status: spec is never written). remove() runs
// once a deleted resource is cleaned up: it takes our finalizer off, which lets the object go.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { FINALIZER, kindInfo } from '../api/kinds.js';
import { setKstatusConditions } from '../api/kstatus.js';
import { parseResourceKey, setCondition, type Condition, type Resource, type ResourceKey } from '../api/meta.js';
import { ConflictError } from '../core/result.js';
import type { StatusStore } from '../ports/status-store.js';
import { toResource, type KubeObject, type KubeSource } from '../sources/kube-source.js';
import { httpStatus, KubeApiError, kubeErrorMessage } from './kube-api-error.js';

export { httpStatus };

export class KubeStatusStore implements StatusStore {
  private readonly api: CustomObjectsApi;
  /** Statuses written and not yet seen back through the watch, so a reconcile reads its own write. */
  private readonly written = new Map<ResourceKey, unknown>();

  constructor(kubeConfig: KubeConfig, private readonly source: KubeSource) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** The watch delivered a newer object: its status is the truth again. */
  seen(key: ResourceKey): void {
    this.written.delete(key);
  }

  get(key: ResourceKey): Resource<unknown, any> | undefined {
    const object = this.source.object(key);
    if (!object) return undefined;
    return { ...toResource(object), status: this.written.has(key) ? this.written.get(key) : object.status };
  }

  list(kind: string): Resource<unknown, any>[] {
    return this.source.list(kind).map((o) => ({ ...toResource(o), status: o.status }));
  }

  async write(key: ResourceKey, object: Resource<unknown, unknown>): Promise<void> {
    const { kind, namespace, name } = parseResourceKey(key);
    const info = kindInfo(kind);
    // A VM that moved to another node is stopped here (Terminating) while the new node's
    // controller may already have written its own status: only the status this node last saw may
    // be replaced then, as markMoved does.
    const moved = this.source.movedAway(key);
    const seenGeneration = (moved?.object.status as { observedGeneration?: number } | undefined)?.observedGeneration;
    if (moved && seenGeneration === undefined) return; // none of ours to replace: the new node's stands
    const guard = moved ? [{ op: 'test', path: '/status/observedGeneration', value: seenGeneration }] : [];
    try {
      // The whole status, as a JSON patch: a merge patch could not remove fields that went away
      // (a stopped domain's id, rates no longer set). "add" replaces a member that exists.
      await this.api.patchNamespacedCustomObjectStatus(
        { group: info.group, version: info.version, namespace, plural: info.plural, name, body: [...guard, { op: 'add', path: '/status', value: object.status }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
      this.written.set(key, object.status);
    } catch (err) {
      if (httpStatus(err) === 404) return; // deleted meanwhile: nothing to report on
      if (moved && httpStatus(err) === 422) return; // the new node has written already: its status stands
      if (httpStatus(err) === 409) throw new ConflictError(`status of ${key}: ${kubeErrorMessage(err)}`);
      throw new KubeApiError(`writing the status of ${key}`, err);
    }
  }

  async remove(key: ResourceKey): Promise<void> {
    this.written.delete(key);
    const moved = this.source.movedAway(key);
    if (moved) return this.markMoved(key, moved.object, moved.toNode);
    const object = this.source.object(key);
    const finalizers = object?.metadata.finalizers ?? [];
    if (!object || !finalizers.includes(FINALIZER)) return;
    const { kind, namespace, name } = parseResourceKey(key);
    const info = kindInfo(kind);
    try {
      // Guarded by resourceVersion: another finalizer added or removed meanwhile means look again.
      await this.api.patchNamespacedCustomObject(
        { group: info.group, version: info.version, namespace, plural: info.plural, name,
          body: { metadata: { resourceVersion: object.metadata.resourceVersion, finalizers: finalizers.filter((f) => f !== FINALIZER) } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      if (httpStatus(err) === 404) return;
      if (httpStatus(err) === 409) throw new ConflictError(`finalizer of ${key}: ${kubeErrorMessage(err)}`);
      throw new KubeApiError(`removing the finalizer of ${key}`, err);
    }
  }

  /**
   * This node let go of a VM that moved to another node: its status must not stay Running with
   * a domain that no longer exists here. It becomes Unknown, without the domain part, Reconciling
   * until the new node's controller writes its own (observedGeneration stays behind, which
   * kstatus also reads as in progress). Guarded by a JSON patch test: if the new node wrote
   * first, its status stands. The finalizer stays: the VM still exists.
   */
  private async markMoved(key: ResourceKey, object: KubeObject, toNode: string): Promise<void> {
    const old = object.status as { observedGeneration?: number; conditions?: Condition[]; [field: string]: unknown } | undefined;
    // Only a status this node wrote before the move (an older generation) is ours to change.
    if (!old || old.observedGeneration === undefined || old.observedGeneration >= (object.metadata.generation ?? 0)) return;
    const now = new Date().toISOString();
    const why = { reason: 'NodeChanged', message: `spec.nodeName is now ${toNode}: node ${this.source.nodeName} stopped and removed its domain; waiting for ${toNode}'s controller`, observedGeneration: old.observedGeneration };
    const { domain: _domain, shaping: _shaping, ...kept } = old;
    let conditions = setCondition(old.conditions ?? [], { type: 'Ready', status: 'Unknown', ...why }, now);
    conditions = setKstatusConditions(conditions, { state: 'reconciling', why }, old.observedGeneration, now);
    const { kind, namespace, name } = parseResourceKey(key);
    const info = kindInfo(kind);
    try {
      await this.api.patchNamespacedCustomObjectStatus(
        { group: info.group, version: info.version, namespace, plural: info.plural, name,
          body: [{ op: 'test', path: '/status/observedGeneration', value: old.observedGeneration }, { op: 'add', path: '/status', value: { ...kept, printableStatus: 'Unknown', conditions } }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
    } catch (err) {
      const code = httpStatus(err);
      if (code === 404 || code === 422) return; // gone, or the new node has written already
      throw new KubeApiError(`marking ${key} as moved to ${toNode}`, err);
    }
  }
}
