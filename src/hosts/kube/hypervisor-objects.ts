// The Hypervisor objects (cluster-scoped) through the API: read, registered, their status written;
// and a VM's status replaced under its resourceVersion (the placement leader's only VM write, so
// that of two leaders at most one places a VM: the other gets 409).
import { CustomObjectsApi, makeInformer, PatchStrategy, setHeaderOptions, type Informer, type KubeConfig, type ObjectCache } from '@kubernetes/client-node';
import { GROUP, VERSION, type Resource } from '../../api/meta.js';
import { HYPERVISOR_KIND, HYPERVISOR_PLURAL, type Hypervisor, type HypervisorSpec, type HypervisorStatus } from '../../api/hypervisor.js';
import { httpStatus } from '../../adapters/kube-api-error.js';
import type { KubeObject } from '../../sources/kube-source.js';

const HVS = { group: GROUP, version: VERSION, plural: HYPERVISOR_PLURAL };

export type HypervisorObject = Omit<KubeObject, 'metadata'> & { metadata: Omit<KubeObject['metadata'], 'namespace'> & { namespace?: string } };

/** As the engine's types see it (src/api/hypervisor.ts). */
export function toHypervisor(object: HypervisorObject): Hypervisor {
  const m = object.metadata;
  return {
    apiVersion: `${GROUP}/${VERSION}`, kind: HYPERVISOR_KIND,
    metadata: { name: m.name, namespace: '', uid: m.uid ?? '', generation: m.generation ?? 0, creationTimestamp: String(m.creationTimestamp ?? ''),
      ...(m.labels ? { labels: m.labels } : {}), ...(m.annotations ? { annotations: m.annotations } : {}) },
    spec: (object.spec ?? {}) as unknown as HypervisorSpec,
    ...(object.status ? { status: object.status as unknown as HypervisorStatus } : {}),
  } as Resource<HypervisorSpec, HypervisorStatus> as Hypervisor;
}

export class HypervisorObjects {
  private readonly api: CustomObjectsApi;

  constructor(private readonly kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async get(name: string): Promise<HypervisorObject | undefined> {
    try {
      return await this.api.getClusterCustomObject({ ...HVS, name }) as HypervisorObject;
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  /** Registers the host as the kubelet registers its Node: created if absent, its URI kept current. */
  async register(name: string, uri: string): Promise<HypervisorObject> {
    const existing = await this.get(name);
    if (!existing) {
      try {
        return await this.api.createClusterCustomObject({ ...HVS, body: { apiVersion: `${GROUP}/${VERSION}`, kind: HYPERVISOR_KIND, metadata: { name }, spec: { uri } } }) as HypervisorObject;
      } catch (err) {
        if (httpStatus(err) !== 409) throw err; // made meanwhile: read it again
        return this.register(name, uri);
      }
    }
    if (existing.spec?.uri === uri) return existing;
    return await this.api.patchClusterCustomObject({ ...HVS, name, body: { spec: { uri } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)) as HypervisorObject;
  }

  /** The node's own status write (it is the only writer while it lives). */
  async writeStatus(name: string, status: HypervisorStatus): Promise<void> {
    await this.api.patchClusterCustomObjectStatus({ ...HVS, name, body: [{ op: 'add', path: '/status', value: status }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  }

  /** The leader's write: only over the object as it read it (409 if the node wrote meanwhile). */
  async replaceStatus(object: HypervisorObject, status: HypervisorStatus): Promise<void> {
    await this.api.replaceClusterCustomObjectStatus({ ...HVS, name: object.metadata.name, body: { ...object, status } });
  }

  async replaceVmStatus(object: KubeObject, status: unknown): Promise<void> {
    const m = object.metadata;
    await this.api.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, plural: 'virtualmachines', namespace: m.namespace, name: m.name, body: { ...object, status } });
  }

  /** Every Hypervisor, kept current (list + watch). */
  informer(): Informer<HypervisorObject> & ObjectCache<HypervisorObject> {
    const list = () => this.api.listClusterCustomObject(HVS);
    return makeInformer<HypervisorObject>(this.kubeConfig, `/apis/${GROUP}/${VERSION}/${HYPERVISOR_PLURAL}`, list as never) as Informer<HypervisorObject> & ObjectCache<HypervisorObject>;
  }
}
