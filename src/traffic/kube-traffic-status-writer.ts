// Where a round of status.traffic goes in Kubernetes mode: the status subresource, as one JSON
// patch of /status/traffic per resource.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { kindInfo } from '../api/kinds.js';
import { parseResourceKey, type ResourceKey } from '../api/meta.js';
import { httpStatus, KubeApiError } from '../adapters/kube-api-error.js';
import type { TrafficStatus, TrafficStatusWriter } from './traffic-status.js';

/** One JSON patch per resource, of /status/traffic only: the reconcilers' fields are never replaced. */
export class KubeTrafficStatusWriter implements TrafficStatusWriter {
  private readonly api: CustomObjectsApi;
  constructor(kubeConfig: KubeConfig, private readonly concurrency = 4) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async write(updates: Map<ResourceKey, TrafficStatus | undefined>): Promise<void> {
    const queue = [...updates];
    const errors: unknown[] = [];
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await this.patch(...next).catch((err: unknown) => void errors.push(err));
    }));
    if (errors.length) throw errors[0];
  }

  private async patch(key: ResourceKey, traffic: TrafficStatus | undefined): Promise<void> {
    const { kind, namespace, name } = parseResourceKey(key);
    const info = kindInfo(kind);
    const body = traffic ? [{ op: 'add', path: '/status/traffic', value: traffic }] : [{ op: 'remove', path: '/status/traffic' }];
    try {
      await this.api.patchNamespacedCustomObjectStatus(
        { group: info.group, version: info.version, namespace, plural: info.plural, name, body },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
    } catch (err) {
      // Gone, or (a removal) no traffic left to remove: nothing to report on. A 422 of an addition
      // is the schema refusing it, and is reported.
      if (httpStatus(err) === 404 || (!traffic && httpStatus(err) === 422)) return;
      throw new KubeApiError(`writing status.traffic of ${key}`, err);
    }
  }
}
