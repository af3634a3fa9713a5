// The fake API server, driven by the real @kubernetes/client-node, must behave as kube-apiserver
// does for what a controller relies on. Where the client library has quirks, the tests pin them.
import {
  ApiextensionsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api,
  KubernetesObjectApi, makeInformer, PatchStrategy, setHeaderOptions, V1MicroTime, Watch,
  type KubernetesListObject, type KubernetesObject, type V1Lease,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CRDS_DIR } from '../../src/package-root.js';
import { FakeApiServer } from './api-server.js';
import { callFailure } from './call-failure.js';

const GROUP = 'wimaxvm.io';
const VERSION = 'v1alpha1';
const VMS = { group: GROUP, version: VERSION, plural: 'virtualmachines' };
const VM_PATH = `/apis/${GROUP}/${VERSION}/namespaces/default/virtualmachines`;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** A VirtualMachine as CustomObjectsApi returns it: raw JSON, so timestamps are strings. */
interface Vm {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; generation: number; labels?: Record<string, string>; finalizers?: string[]; deletionTimestamp?: string; deletionGracePeriodSeconds?: number; creationTimestamp: string };
  spec: Record<string, any>;
  status?: Record<string, any>;
}

function vm(name: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>) {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'VirtualMachine', metadata: { name, ...(labels ? { labels } : {}) }, spec: { memory: '128Mi', ...spec } };
}

let server: FakeApiServer;
let custom: CustomObjectsApi;
let core: CoreV1Api;

beforeEach(async () => {
  server = await FakeApiServer.start({ installCrds: true });
  custom = server.kubeConfig().makeApiClient(CustomObjectsApi);
  core = server.kubeConfig().makeApiClient(CoreV1Api);
});

afterEach(async () => {
  await server.stop();
});

const createVm = (body: object) => custom.createNamespacedCustomObject({ ...VMS, namespace: 'default', body }) as Promise<Vm>;
const getVm = (name: string) => custom.getNamespacedCustomObject({ ...VMS, namespace: 'default', name }) as Promise<Vm>;
const replaceVm = (body: Vm) => custom.replaceNamespacedCustomObject({ ...VMS, namespace: 'default', name: body.metadata.name, body }) as Promise<Vm>;
const patchVm = (name: string, body: object) => custom.patchNamespacedCustomObject({ ...VMS, namespace: 'default', name, body }, MERGE) as Promise<Vm>;
const listVms = (query: { labelSelector?: string; fieldSelector?: string } = {}) =>
  custom.listNamespacedCustomObject({ ...VMS, namespace: 'default', ...query }) as Promise<{ metadata: { resourceVersion: string }; items: Vm[] }>;
/** Informer callbacks are typed with KubernetesObject, whose Date timestamps CRs do not have. */
const asVm = (o: KubernetesObject) => o as unknown as Vm;

describe('CRDs and discovery', () => {
  it('installs the project CRDs as established, and serves them to KubernetesObjectApi through discovery', async () => {
    const crds = await server.kubeConfig().makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    expect(crds.items.map((c) => c.metadata?.name).sort()).toEqual(['hypervisors.wimaxvm.io', 'ippools.wimaxvm.io', 'shapingpolicies.wimaxvm.io', 'virtualmachines.wimaxvm.io', 'wimaxclients.wimaxvm.io']);
    for (const crd of crds.items) expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');

    const objects = KubernetesObjectApi.makeApiClient(server.kubeConfig());
    const created = await objects.create(vm('generic') as KubernetesObject);
    expect(created.metadata?.namespace).toBe('default');
    expect((await objects.read({ apiVersion: `${GROUP}/${VERSION}`, kind: 'VirtualMachine', metadata: { name: 'generic', namespace: 'default' } })).metadata?.uid)
      .toBe(created.metadata?.uid);
    // KubernetesObjectApi asks the group-version's resource list (once, then caches it).
    expect(server.requests.filter((r) => r.path === `/apis/${GROUP}/${VERSION}`)).toHaveLength(1);
  });

  it('serves a CRD created at run time, and stops serving it (and its objects) when it is deleted', async () => {
    const extensions = server.kubeConfig().makeApiClient(ApiextensionsV1Api);
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' },
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
        },
      },
    });
    const widgets = { group: 'example.com', version: 'v1', plural: 'widgets', namespace: 'default' };
    await custom.createNamespacedCustomObject({ ...widgets, body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, data: 1 } });
    expect((await fetch(`${server.url}/apis`).then((r) => r.json())).groups.map((g: any) => g.name)).toContain('example.com');

    await extensions.deleteCustomResourceDefinition({ name: 'widgets.example.com' });
    const gone = await callFailure(custom.listNamespacedCustomObject(widgets));
    expect(gone).toMatchObject({ code: 404, status: { reason: 'NotFound', message: 'the server could not find the requested resource' } });
  });

  it('refuses a CRD whose name is not plural.group', async () => {
    const extensions = server.kubeConfig().makeApiClient(ApiextensionsV1Api);
    const { code, status } = await callFailure(extensions.createCustomResourceDefinition({
      body: { metadata: { name: 'wrong' }, spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true }] } },
    }));
    expect(code).toBe(422);
    expect(status.message).toBe('CustomResourceDefinition.apiextensions.k8s.io "wrong" is invalid: metadata.name: Invalid value: "wrong": must be spec.names.plural+"."+spec.group');
  });
});

// Issue 8 (1): the first VirtualMachine CRD put types inside the int-or-string anyOf; the real
// server refused it and the double accepted it. The double now applies the structural rules.
describe('CRD structural schemas', () => {
  const crdFile = readFileSync(join(CRDS_DIR, 'virtualmachines.wimaxvm.io.yaml'), 'utf8');
  /** The project's VirtualMachine CRD under another group, with `edit` applied to spec's schema. */
  const variant = (edit: (spec: any) => void) => {
    const crd = parse(crdFile);
    crd.metadata.name = 'virtualmachines.example.com';
    crd.spec.group = 'example.com';
    edit(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec);
    return crd;
  };
  const post = async (crd: object) => {
    const res = await fetch(`${server.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(crd),
    });
    return { code: res.status, body: await res.json() as { message: string } };
  };
  const PREFIX = 'CustomResourceDefinition.apiextensions.k8s.io "virtualmachines.example.com" is invalid: ';
  const MEMORY = 'spec.validation.openAPIV3Schema.properties[spec].properties[memory]';

  it('refuses types inside the int-or-string anyOf, with the real server\'s message', async () => {
    const first = variant((spec) => {
      const memory = spec.properties.memory;
      memory.anyOf = [{ type: 'integer', minimum: 1048576 }, { type: 'string', pattern: memory.pattern }];
      delete memory.minimum; delete memory.maximum; delete memory.pattern;
    });
    expect(await post(first)).toEqual({
      code: 422,
      body: expect.objectContaining({
        message: `${PREFIX}[${MEMORY}.anyOf[0].type: Forbidden: must be empty to be structural, ${MEMORY}.anyOf[1].type: Forbidden: must be empty to be structural]`,
      }),
    });
  });

  it.each<[string, (spec: any) => void, string]>([
    ['a field without a type', (spec) => { delete spec.properties.vcpus.type; },
      'spec.validation.openAPIV3Schema.properties[spec].properties[vcpus].type: Required value: must not be empty for specified object fields'],
    ['a description inside anyOf', (spec) => { spec.properties.memory.allOf = [{ description: 'x' }]; },
      `${MEMORY}.allOf[0].description: Forbidden: must be empty to be structural`],
    ['an array without items', (spec) => { delete spec.properties.disks.items; },
      'spec.validation.openAPIV3Schema.properties[spec].properties[disks].items: Required value: must be specified'],
  ])('refuses %s', async (_label, edit, message) => {
    expect(await post(variant(edit))).toMatchObject({ code: 422, body: { message: `${PREFIX}${message}` } });
  });

  // Completeness is checked from the root's junctors (validateStructuralCompleteness).
  it('refuses a field only a junctor of the root mentions', async () => {
    const crd = variant(() => {});
    crd.spec.versions[0].schema.openAPIV3Schema.anyOf = [{ properties: { extra: { minimum: 1 } } }];
    expect(await post(crd)).toMatchObject({
      code: 422,
      body: { message: `${PREFIX}spec.validation.openAPIV3Schema.properties[extra]: Required value: because it is defined in spec.validation.openAPIV3Schema.anyOf[0].properties[extra]` },
    });
  });

  it('refuses a root metadata schema with more than a type', async () => {
    const crd = variant(() => {});
    crd.spec.versions[0].schema.openAPIV3Schema.properties.metadata.description = 'meta';
    expect(await post(crd)).toMatchObject({
      code: 422,
      body: { message: `${PREFIX}spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified` },
    });
  });

  // Seen on a real v1.28 server: `{ type: string, description: A, b. }` in YAML is two keys.
  it('refuses an unknown schema field under fieldValidation=Strict, as kubectl apply sends it', async () => {
    const crd = variant((spec) => { spec.properties.vcpus['derived from the uid.'] = null; });
    const res = await fetch(`${server.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldValidation=Strict`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(crd),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toBe('CustomResourceDefinition in version "v1" cannot be handled as a CustomResourceDefinition: strict decoding error: '
      + 'unknown field "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.vcpus.derived from the uid."');
  });

  it('accepts the shipped form (bare types in anyOf, constraints beside)', async () => {
    expect((await post(variant(() => {}))).code).toBe(201);
  });
});

describe('custom resources', () => {
  it('creates with server-set metadata and schema defaults, and refuses a second create', async () => {
    const created = await createVm({ ...vm('vm1'), status: { printableStatus: 'Running' } });
    expect(created.metadata).toMatchObject({ name: 'vm1', namespace: 'default', generation: 1 });
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(created.spec).toEqual({ memory: '128Mi', runStrategy: 'Always', vcpus: 1 });
    expect(created.status).toBeUndefined(); // create cannot set status when there is a status subresource
    expect(await getVm('vm1')).toEqual(created);

    const again = await callFailure(createVm(vm('vm1')));
    expect(again).toMatchObject({ code: 409, status: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists',
      message: 'virtualmachines.wimaxvm.io "vm1" already exists', details: { name: 'vm1', group: GROUP, kind: 'virtualmachines' } } });
  });

  it('moves one global resourceVersion on every write, and lists carry it', async () => {
    const a = await createVm(vm('a'));
    await core.createNamespace({ body: { metadata: { name: 'other' } } });
    const b = await createVm(vm('b'));
    expect(Number(b.metadata.resourceVersion)).toBe(Number(a.metadata.resourceVersion) + 2);
    const list = await listVms();
    expect(list.metadata?.resourceVersion).toBe(server.resourceVersion);
    expect(list.items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect(list.items[0]).toMatchObject({ apiVersion: `${GROUP}/${VERSION}`, kind: 'VirtualMachine' }); // CR list items keep their type
  });

  it('refuses a replace from a stale resourceVersion with 409, and one without any with 422', async () => {
    const created = await createVm(vm('vm1'));
    const updated = await replaceVm({ ...created, spec: { ...created.spec, vcpus: 2 } });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));

    const stale = await callFailure(replaceVm({ ...created, spec: { ...created.spec, vcpus: 3 } }));
    expect(stale).toMatchObject({ code: 409, status: { reason: 'Conflict',
      message: 'Operation cannot be fulfilled on virtualmachines.wimaxvm.io "vm1": the object has been modified; please apply your changes to the latest version and try again' } });

    // Custom resources do not allow unconditional updates (customResourceStrategy.AllowUnconditionalUpdate is false).
    const { resourceVersion: _rv, ...withoutRv } = updated.metadata;
    const unconditional = await callFailure(replaceVm({ ...updated, metadata: withoutRv as Vm['metadata'] }));
    expect(unconditional).toMatchObject({ code: 422, status: { reason: 'Invalid',
      message: 'virtualmachines.wimaxvm.io "vm1" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update' } });

    // A patch needs no resourceVersion: it applies to whatever is stored.
    expect((await patchVm('vm1', { spec: { vcpus: 4 } })).spec.vcpus).toBe(4);
  });

  it('bumps generation on spec changes only, and does not write no-op updates', async () => {
    const created = await createVm(vm('vm1'));
    const labelled = await patchVm('vm1', { metadata: { labels: { tier: 'edge' } } });
    expect(labelled.metadata.generation).toBe(1);
    const specChanged = await patchVm('vm1', { spec: { vcpus: 2 } });
    expect(specChanged.metadata.generation).toBe(2);
    const withStatus = await custom.patchNamespacedCustomObjectStatus({ ...VMS, namespace: 'default', name: 'vm1', body: { status: { printableStatus: 'Running' } } }, MERGE) as Vm;
    expect(withStatus.metadata.generation).toBe(2);

    const noop = await replaceVm(withStatus);
    expect(noop.metadata.resourceVersion).toBe(withStatus.metadata.resourceVersion);
    expect(server.resourceVersion).toBe(withStatus.metadata.resourceVersion);
    expect(created.metadata.uid).toBe(noop.metadata.uid);
  });

  it('keeps status and spec apart through the status subresource', async () => {
    const created = await createVm(vm('vm1'));
    const statusWritten = await custom.replaceNamespacedCustomObjectStatus({
      ...VMS, namespace: 'default', name: 'vm1',
      body: { ...created, metadata: { ...created.metadata, labels: { sneaky: 'yes' } }, spec: { ...created.spec, vcpus: 8 }, status: { printableStatus: 'Running' } },
    }) as Vm;
    expect(statusWritten.status).toEqual({ printableStatus: 'Running' });
    expect(statusWritten.spec.vcpus).toBe(1);
    expect(statusWritten.metadata.labels).toBeUndefined();
    expect(statusWritten.metadata.generation).toBe(1);

    const specWritten = await replaceVm({ ...statusWritten, spec: { ...statusWritten.spec, vcpus: 2 }, status: { printableStatus: 'Failed' } });
    expect(specWritten.status).toEqual({ printableStatus: 'Running' });
    expect(specWritten.spec.vcpus).toBe(2);

    const stale = await callFailure(custom.replaceNamespacedCustomObjectStatus({ ...VMS, namespace: 'default', name: 'vm1', body: statusWritten }));
    expect(stale.code).toBe(409);
  });

  it('applies merge and JSON patches, and answers a strategic merge patch with 415 as for any CR', async () => {
    await createVm(vm('vm1', { network: { mac: '52:54:00:00:00:01', vlan: 10 } }));
    const merged = await patchVm('vm1', { spec: { network: { vlan: null, ip: '10.0.0.2' } } });
    expect(merged.spec.network).toEqual({ mac: '52:54:00:00:00:01', ip: '10.0.0.2' });

    // The client's default patch content type is JSON patch.
    const patched = await custom.patchNamespacedCustomObject({ ...VMS, namespace: 'default', name: 'vm1',
      body: [{ op: 'test', path: '/spec/vcpus', value: 1 }, { op: 'replace', path: '/spec/vcpus', value: 3 }, { op: 'add', path: '/metadata/finalizers', value: ['x.io/f'] }] }) as Vm;
    expect(patched.spec.vcpus).toBe(3);
    expect(patched.metadata.finalizers).toEqual(['x.io/f']);
    expect(server.requests.at(-1)).toMatchObject({ method: 'PATCH', path: `${VM_PATH}/vm1` });

    const failedTest = await callFailure(custom.patchNamespacedCustomObject({ ...VMS, namespace: 'default', name: 'vm1', body: [{ op: 'test', path: '/spec/vcpus', value: 1 }] }));
    expect(failedTest).toMatchObject({ code: 422, status: { reason: 'Invalid' } });

    const strategic = await callFailure(custom.patchNamespacedCustomObject({ ...VMS, namespace: 'default', name: 'vm1', body: { spec: { vcpus: 5 } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)));
    expect(strategic).toMatchObject({ code: 415, status: { reason: 'UnsupportedMediaType',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml' } });
  });

  it('refuses an invalid spec with 422 and the messages kubectl prints', async () => {
    const { code, status } = await callFailure(createVm(vm('bad', { runStrategy: 'Sometimes', network: { mac: 'zz:zz' } })));
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toMatch(/^VirtualMachine\.wimaxvm\.io "bad" is invalid: \[/);
    expect(status.message).toContain('spec.runStrategy: Unsupported value: "Sometimes": supported values: "Always", "RerunOnFailure", "Manual", "Halted", "Once"');
    expect(status.message).toContain('spec.network.mac: Invalid value: "zz:zz": spec.network.mac in body should match');
    expect(status.details).toMatchObject({ name: 'bad', group: GROUP, kind: 'VirtualMachine' });
    expect(status.details.causes).toEqual(expect.arrayContaining([
      expect.objectContaining({ reason: 'FieldValueNotSupported', field: 'spec.runStrategy' }),
      expect.objectContaining({ reason: 'FieldValueInvalid', field: 'spec.network.mac' }),
    ]));

    const created = await createVm(vm('good'));
    const badUpdate = await callFailure(replaceVm({ ...created, spec: { ...created.spec, vcpus: 0 } }));
    expect(badUpdate.status.message).toBe('VirtualMachine.wimaxvm.io "good" is invalid: spec.vcpus: Invalid value: 0: spec.vcpus in body should be greater than or equal to 1');
  });

  it('prunes unknown fields as a structural schema does, unless fieldValidation=Strict', async () => {
    const created = await createVm(vm('vm1', { colour: 'blue' }));
    expect(created.spec).not.toHaveProperty('colour');
    const strict = await callFailure(custom.createNamespacedCustomObject({ ...VMS, namespace: 'default', body: vm('vm2', { colour: 'blue' }), fieldValidation: 'Strict' }));
    expect(strict).toMatchObject({ code: 400, status: { reason: 'BadRequest', message: 'strict decoding error: unknown field "spec.colour"' } });
  });

  it('deletes at once without finalizers, answering with a Success Status', async () => {
    const created = await createVm(vm('vm1'));
    const deleted = await custom.deleteNamespacedCustomObject({ ...VMS, namespace: 'default', name: 'vm1' });
    expect(deleted).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'vm1', group: GROUP, kind: 'virtualmachines', uid: created.metadata.uid } });
    expect(await callFailure(getVm('vm1'))).toMatchObject({ code: 404, status: { reason: 'NotFound', message: 'virtualmachines.wimaxvm.io "vm1" not found' } });
  });

  it('keeps an object with finalizers until the last one is removed', async () => {
    await createVm({ ...vm('vm1'), metadata: { name: 'vm1', finalizers: ['wimaxvm.io/cleanup'] } });
    const marked = await custom.deleteNamespacedCustomObject({ ...VMS, namespace: 'default', name: 'vm1' }) as Vm;
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(0);
    expect(marked.metadata.generation).toBe(2); // markAsDeleting bumps generation
    const again = await custom.deleteNamespacedCustomObject({ ...VMS, namespace: 'default', name: 'vm1' }) as Vm;
    expect(again.metadata.resourceVersion).toBe(marked.metadata.resourceVersion);

    const adding = await callFailure(patchVm('vm1', { metadata: { finalizers: ['wimaxvm.io/cleanup', 'other.io/late'] } }));
    expect(adding).toMatchObject({ code: 422, status: { reason: 'Invalid',
      message: 'VirtualMachine.wimaxvm.io "vm1" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"other.io/late"}' } });

    const watcher = new Watch(server.kubeConfig());
    const events: string[] = [];
    const stream = await watcher.watch(VM_PATH, { resourceVersion: marked.metadata.resourceVersion }, (type, obj) => events.push(`${type} ${obj.metadata.name}`), () => {});
    const last = await patchVm('vm1', { metadata: { finalizers: null } });
    expect(last.metadata.deletionTimestamp).toBeDefined();
    await vi.waitFor(() => expect(events).toEqual(['DELETED vm1']));
    expect((await callFailure(getVm('vm1'))).code).toBe(404);
    stream.abort();
  });

  it('selects by labels (=, !=, in, notin, exists, !exists) and by metadata fields', async () => {
    await createVm(vm('a', {}, { tier: 'edge', site: 'lab' }));
    await createVm(vm('b', {}, { tier: 'core' }));
    await createVm(vm('c'));
    const names = async (query: { labelSelector?: string; fieldSelector?: string }) => (await listVms(query)).items.map((i) => i.metadata.name);
    expect(await names({ labelSelector: 'tier=edge' })).toEqual(['a']);
    expect(await names({ labelSelector: 'tier==core' })).toEqual(['b']);
    expect(await names({ labelSelector: 'tier!=edge' })).toEqual(['b', 'c']);
    expect(await names({ labelSelector: 'tier in (edge, core)' })).toEqual(['a', 'b']);
    expect(await names({ labelSelector: 'tier notin (edge)' })).toEqual(['b', 'c']);
    expect(await names({ labelSelector: 'site' })).toEqual(['a']);
    expect(await names({ labelSelector: '!site' })).toEqual(['b', 'c']);
    expect(await names({ labelSelector: 'tier,!site' })).toEqual(['b']);
    expect(await names({ fieldSelector: 'metadata.name=c' })).toEqual(['c']);
    expect(await names({ fieldSelector: 'metadata.name!=c,metadata.namespace=default' })).toEqual(['a', 'b']);
    expect((await callFailure(listVms({ labelSelector: 'tier in edge' }))).code).toBe(400);
    expect((await callFailure(listVms({ fieldSelector: 'spec.vcpus=1' }))).code).toBe(400);
  });

  it('needs the namespace to exist, as NamespaceLifecycle does', async () => {
    const missing = await callFailure(custom.createNamespacedCustomObject({ ...VMS, namespace: 'nowhere', body: vm('vm1') }));
    expect(missing).toMatchObject({ code: 404, status: { message: 'namespaces "nowhere" not found' } });
  });
});

describe('core objects', () => {
  it('serves namespaces (cluster-scoped; typed list items carry no kind)', async () => {
    await core.createNamespace({ body: { metadata: { name: 'lab', labels: { team: 'wimax' } } } });
    const list = await fetch(`${server.url}/api/v1/namespaces?labelSelector=team%3Dwimax`).then((r) => r.json());
    expect(list).toMatchObject({ kind: 'NamespaceList', apiVersion: 'v1', items: [{ metadata: { name: 'lab' }, status: { phase: 'Active' } }] });
    expect(list.items[0]).not.toHaveProperty('kind');
    expect((await core.readNamespace({ name: 'lab' })).kind).toBe('Namespace');
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system', 'lab']);
    const bad = await callFailure(core.createNamespace({ body: { metadata: { name: 'Not_A_Label' } } }));
    expect(bad).toMatchObject({ code: 422, status: { message: expect.stringMatching(/^Namespace "Not_A_Label" is invalid: metadata.name: Invalid value: "Not_A_Label": a lowercase RFC 1123 label/) } });
  });

  it('serves events through core/v1 and events.k8s.io/v1 as one resource', async () => {
    const eventsV1 = server.kubeConfig().makeApiClient(EventsV1Api);
    await eventsV1.createNamespacedEvent({
      namespace: 'default',
      body: {
        metadata: { name: 'vm1.1' }, eventTime: new V1MicroTime(), type: 'Normal', reason: 'Started', action: 'Start', note: 'domain started',
        reportingController: 'wimaxvm.io/controller', reportingInstance: 'host-1',
        regarding: { apiVersion: `${GROUP}/${VERSION}`, kind: 'VirtualMachine', name: 'vm1', namespace: 'default' },
      },
    });
    const [asCore] = (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=vm1' })).items;
    expect(asCore).toMatchObject({ message: 'domain started', reportingComponent: 'wimaxvm.io/controller', involvedObject: { name: 'vm1' } });

    const incomplete = await callFailure(eventsV1.createNamespacedEvent({ namespace: 'default', body: { metadata: { name: 'vm1.2' }, eventTime: new V1MicroTime(), type: 'Normal', reason: 'Started' } }));
    expect(incomplete).toMatchObject({ code: 422, status: { message: 'Event.events.k8s.io "vm1.2" is invalid: [reportingController: Required value, reportingInstance: Required value, action: Required value]' } });
  });

  it('handles Leases as leader election does, with optimistic concurrency', async () => {
    const leases = server.kubeConfig().makeApiClient(CoordinationV1Api);
    const lease = (holder: string): V1Lease => ({
      metadata: { name: 'wimaxvm-controller', namespace: 'kube-system' },
      spec: { holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: new V1MicroTime(), renewTime: new V1MicroTime(), leaseTransitions: 0 },
    });
    const created = await leases.createNamespacedLease({ namespace: 'kube-system', body: lease('a') });
    // The client does not turn MicroTime back into a Date: it stays the server's string.
    expect(created.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    // Two candidates renew/take over from the same read: one wins, the other gets 409.
    const read = await leases.readNamespacedLease({ name: 'wimaxvm-controller', namespace: 'kube-system' });
    const takeOver = (holder: string) => leases.replaceNamespacedLease({
      name: 'wimaxvm-controller', namespace: 'kube-system',
      body: { ...lease(holder), metadata: { ...lease(holder).metadata, resourceVersion: read.metadata?.resourceVersion }, spec: { ...lease(holder).spec, leaseTransitions: 1 } },
    });
    const won = await takeOver('b');
    expect(won.spec?.holderIdentity).toBe('b');
    expect((await callFailure(takeOver('c'))).code).toBe(409);

    // Leases refuse unconditional updates, and a JavaScript Date is not a MicroTime.
    expect((await callFailure(leases.replaceNamespacedLease({ name: 'wimaxvm-controller', namespace: 'kube-system', body: lease('d') }))).status.message)
      .toBe('leases.coordination.k8s.io "wimaxvm-controller" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    const withDate = await callFailure(leases.createNamespacedLease({ namespace: 'kube-system', body: { metadata: { name: 'other' }, spec: { renewTime: new Date('2024-01-02T03:04:05.678Z') } } }));
    expect(withDate).toMatchObject({ code: 400, status: { reason: 'BadRequest',
      message: 'Lease in version "v1" cannot be handled as a Lease: parsing time "2024-01-02T03:04:05.678Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".678Z" as ".000000"' } });
  });
});

describe('watches and informers', () => {
  // A ListWatch list function: anything resolving to { metadata.resourceVersion, items }.
  const listFn = () => custom.listNamespacedCustomObject({ ...VMS, namespace: 'default' }) as Promise<KubernetesListObject<KubernetesObject>>;

  it('feeds an informer ADD, UPDATE and DELETE from a list and a watch at its resourceVersion', async () => {
    await createVm(vm('before'));
    const informer = makeInformer(server.kubeConfig(), VM_PATH, listFn);
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${asVm(o).spec.vcpus}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    const list = server.requests.find((r) => r.method === 'GET' && r.path === VM_PATH && !r.query.watch)!;
    const watch = server.requests.find((r) => r.path === VM_PATH && r.query.watch)!;
    expect(list).toBeDefined();
    expect(watch.query).toMatchObject({ watch: 'true', resourceVersion: expect.stringMatching(/^\d+$/) });

    await createVm(vm('after'));
    await patchVm('after', { spec: { vcpus: 2 } });
    await custom.deleteNamespacedCustomObject({ ...VMS, namespace: 'default', name: 'before' });
    await vi.waitFor(() => expect(seen).toEqual(['add before', 'add after', 'update after 2', 'delete before']));
    expect(informer.list('default').map((o) => o.metadata?.name)).toEqual(['after']);
    await informer.stop();
  });

  it('answers a watch from a compacted resourceVersion with an ERROR event carrying 410 Expired, then ends the stream', async () => {
    const first = await createVm(vm('vm1'));
    await patchVm('vm1', { spec: { vcpus: 2 } });
    server.compactHistory();
    const events: { type: string; obj: any }[] = [];
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(server.kubeConfig()).watch(VM_PATH, { resourceVersion: first.metadata.resourceVersion }, (type, obj) => events.push({ type, obj }), resolve);
    });
    // The client reports the 410 through the event callback; done() then gets no error at all.
    expect(await ended).toBeNull();
    expect(events).toEqual([{ type: 'ERROR', obj: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired',
      message: `too old resource version: ${first.metadata.resourceVersion} (${Number(server.resourceVersion) + 1})` }) }]);
  });

  it('replays kept history to a watch that resumes, and starts with ADDED events without a resourceVersion', async () => {
    const a = await createVm(vm('a'));
    await createVm(vm('b'));
    const resumed: string[] = [];
    const fresh: string[] = [];
    const watcher = new Watch(server.kubeConfig());
    const s1 = await watcher.watch(VM_PATH, { resourceVersion: a.metadata.resourceVersion }, (type, o) => resumed.push(`${type} ${o.metadata.name}`), () => {});
    const s2 = await watcher.watch(VM_PATH, {}, (type, o) => fresh.push(`${type} ${o.metadata.name}`), () => {});
    await vi.waitFor(() => {
      expect(resumed).toEqual(['ADDED b']);
      expect(fresh).toEqual(['ADDED a', 'ADDED b']);
    });
    s1.abort();
    s2.abort();
  });

  it('ends a watch cleanly after timeoutSeconds, as the real server ends every watch in time', async () => {
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(server.kubeConfig()).watch(VM_PATH, { timeoutSeconds: 1 }, () => {}, resolve);
    });
    expect(await ended).toBeNull();
    expect(server.openWatches).toBe(0);
  });

  it('filters watches by namespace and label selector, turning label changes into ADDED/DELETED', async () => {
    await core.createNamespace({ body: { metadata: { name: 'other' } } });
    const seen: string[] = [];
    const stream = await new Watch(server.kubeConfig()).watch(VM_PATH, { labelSelector: 'watched=yes', resourceVersion: server.resourceVersion },
      (type, o) => seen.push(`${type} ${o.metadata.name}`), () => {});
    await custom.createNamespacedCustomObject({ ...VMS, namespace: 'other', body: vm('elsewhere', {}, { watched: 'yes' }) });
    await createVm(vm('vm1'));
    await patchVm('vm1', { metadata: { labels: { watched: 'yes' } } });
    await patchVm('vm1', { spec: { vcpus: 2 } });
    await patchVm('vm1', { metadata: { labels: { watched: 'no' } } });
    await vi.waitFor(() => expect(seen).toEqual(['ADDED vm1', 'MODIFIED vm1', 'DELETED vm1']));
    stream.abort();
  });

  it('lets an informer relist by itself after a 410 on re-watch', async () => {
    await createVm(vm('vm1'));
    const informer = makeInformer(server.kubeConfig(), VM_PATH, listFn);
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    // Writes elsewhere move the revision past the informer's; compaction then forgets them.
    await core.createNamespace({ body: { metadata: { name: 'elsewhere' } } });
    server.compactHistory();
    const lists = () => server.requests.filter((r) => r.method === 'GET' && r.path === VM_PATH && !r.query.watch).length;
    expect(lists()).toBe(1);
    server.closeWatches(); // the informer re-watches from its old resourceVersion, gets 410, relists
    await vi.waitFor(() => expect(lists()).toBe(2));
    await vi.waitFor(() => expect(server.openWatches).toBe(1));

    const updated: string[] = [];
    informer.on('update', (o) => updated.push(o.metadata!.name!));
    await patchVm('vm1', { spec: { vcpus: 2 } });
    await vi.waitFor(() => expect(updated).toEqual(['vm1']));
    expect(errors).toEqual([]);
    await informer.stop();
  });

  it('stops an informer on a dropped connection: the error callback fires and nothing re-watches', async () => {
    await createVm(vm('vm1'));
    const informer = makeInformer(server.kubeConfig(), VM_PATH, listFn);
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    await vi.waitFor(() => expect(server.openWatches).toBe(1));
    const watchesBefore = server.requests.filter((r) => r.query.watch).length;

    server.dropWatches();
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    await patchVm('vm1', { spec: { vcpus: 2 } });
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests.filter((r) => r.query.watch)).toHaveLength(watchesBefore);
    expect(server.openWatches).toBe(0);

    // The controller must start it again; it resumes from its resourceVersion and gets what it missed.
    const updated: number[] = [];
    informer.on('update', (o) => updated.push(asVm(o).spec.vcpus));
    await informer.start();
    await vi.waitFor(() => expect(updated).toEqual([2]));
    await informer.stop();
  });
});

describe('test hooks', () => {
  it('fails the next matching request with the Status of the given code, once, and logs requests', async () => {
    server.failNext('GET', /\/virtualmachines$/, 503);
    const injected = await callFailure(listVms({ labelSelector: 'a=b' }));
    expect(injected).toMatchObject({ code: 503, status: { kind: 'Status', reason: 'ServiceUnavailable' } });
    expect((await listVms()).items).toEqual([]);
    expect(server.requests.filter((r) => r.path === VM_PATH)).toEqual([
      { method: 'GET', path: VM_PATH, query: { labelSelector: 'a=b' }, userAgent: expect.stringMatching(/^node-fetch\//) },
      { method: 'GET', path: VM_PATH, query: {}, userAgent: expect.stringMatching(/^node-fetch\//) },
    ]);
  });
});
