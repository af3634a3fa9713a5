// DesiredStateWriter in Kubernetes mode: the legacy API's and CLI's changes become creates,
// merge patches and deletes of the resources, as `kubectl apply|patch|delete` would make them.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { kindInfo } from '../api/kinds.js';
import { parseResourceKey, type ResourceKey } from '../api/meta.js';
import { DesiredStateError, type DesiredStateWriter, type FieldChange, type NewResource } from '../ports/desired-state-writer.js';
import { kubeFailure } from './kube-api-error.js';

/** A merge patch that sets (or, with null, removes) each field. */
export function mergePatchOf(changes: FieldChange[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const { path, value } of changes) {
    let node = patch;
    path.slice(0, -1).forEach((part) => {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    });
    node[path.at(-1)!] = value === undefined ? null : value;
  }
  return patch;
}

export class KubeDesiredStateWriter implements DesiredStateWriter {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async create(object: NewResource): Promise<void> {
    const info = kindInfo(object.kind);
    const namespace = object.metadata.namespace ?? 'default';
    await this.call(`${object.kind} ${namespace}/${object.metadata.name}`, () =>
      this.api.createNamespacedCustomObject({ group: info.group, version: info.version, namespace, plural: info.plural, body: { ...object, metadata: { ...object.metadata, namespace } } }));
  }

  async patch(key: ResourceKey, changes: FieldChange[]): Promise<void> {
    const { kind, namespace, name } = parseResourceKey(key);
    const info = kindInfo(kind);
    await this.call(`${kind} ${namespace}/${name}`, () => this.api.patchNamespacedCustomObject(
      { group: info.group, version: info.version, namespace, plural: info.plural, name, body: mergePatchOf(changes) },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ));
  }

  async remove(key: ResourceKey): Promise<void> {
    const { kind, namespace, name } = parseResourceKey(key);
    const info = kindInfo(kind);
    await this.call(`${kind} ${namespace}/${name}`, () => this.api.deleteNamespacedCustomObject({ group: info.group, version: info.version, namespace, plural: info.plural, name }));
  }

  /** Every failure says what the server said, with its HTTP status; none is a bare 500. */
  private async call(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const { code, message } = kubeFailure(err);
      if (code === undefined) throw new DesiredStateError(`${what}: the API server did not answer: ${message}`, 'Unavailable');
      if (code === 404) throw new DesiredStateError(`${what}: ${message}`, 'NotFound', code); // the object, or its namespace
      if (code === 409) throw new DesiredStateError(message, 'Conflict', code);
      if (code === 422 || code === 400) throw new DesiredStateError(message, 'Invalid', code);
      throw new DesiredStateError(message, 'Refused', code);
    }
  }
}
