// StatusStore in Kubernetes mode: status read from the informers' cache and written through
// the status subresource only (a merge patch of .status: spec is never written). remove() runs
// once a deleted resource is cleaned up: it takes our finalizer off, which lets the object go.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { FINALIZER, kindInfo } from '../api/kinds.js';
import { parseResourceKey, type Resource, type ResourceKey } from '../api/meta.js';
import { ConflictError } from '../core/result.js';
import type { StatusStore } from '../ports/status-store.js';
import { toResource, type KubeSource } from '../sources/kube-source.js';
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
    // A VM that moved to another node is that node's to report on: this one wrote its last status in the handover.
    if (this.source.movedAway(key) !== undefined) return;
    // Handed over in a write the watch has not brought back yet: a second write could replace the new node's.
    const node = this.source.nodeName;
    const last = this.written.get(key) as { nodeName?: string } | undefined;
    if (node && last?.nodeName && last.nodeName !== node) return;
    try {
      // The whole status, as a JSON patch: a merge patch could not remove fields that went away
      // (a stopped domain's id, rates no longer set). "add" replaces a member that exists.
      await this.api.patchNamespacedCustomObjectStatus(
        { group: info.group, version: info.version, namespace, plural: info.plural, name, body: [{ op: 'add', path: '/status', value: object.status }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
      this.written.set(key, object.status);
    } catch (err) {
      if (httpStatus(err) === 404) return; // deleted meanwhile: nothing to report on
      if (httpStatus(err) === 409) throw new ConflictError(`status of ${key}: ${kubeErrorMessage(err)}`);
      throw new KubeApiError(`writing the status of ${key}`, err);
    }
  }

  async remove(key: ResourceKey): Promise<void> {
    this.written.delete(key);
    // Moved to another node: the object, its finalizer and its status are that node's now.
    if (this.source.movedAway(key) !== undefined) return;
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
}
