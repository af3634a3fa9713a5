// The generic registry's rules (k8s.io/apiserver/pkg/registry/generic/registry/store.go and
// rest/create.go, update.go) over the fake etcd: what create, update, patch and delete do to
// metadata, resourceVersion, generation, status, finalizers and deletion.
import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { jsonPatch, mergePatch, type Json } from './patch.js';
import { apiVersionOf, type KubeObject, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  alreadyExists, badRequest, conflict, fieldForbidden, fieldInvalid, forbidden, invalid, notFound,
  OPTIMISTIC_LOCK_MESSAGE, serverError, success, unimplementedPatch, unsupportedMediaType, type GroupResource, type Status,
} from './status.js';
import type { Store } from './store.js';
import { checkMicroTimes } from './validation.js';

export interface WriteOptions {
  /** fieldValidation=Strict: unknown fields are refused instead of pruned. */
  strict: boolean;
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface Selection {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ObjectList {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string };
  items: KubeObject[];
}

/** The patch formats the fake applies; the others a real server takes are refused loudly. */
const MERGE_PATCH = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

const groupResource = (t: ResourceType): GroupResource => ({ group: t.group, resource: t.plural });
const groupKind = (t: ResourceType) => ({ group: t.group, kind: t.kind });
/** metav1.Time is encoded with whole seconds. */
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** names.SimpleNameGenerator: generateName plus five random characters. */
function generateName(base: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return base + [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Everything but metadata: what a generation bump looks at (status is reset before that). */
function withoutMetadata(obj: KubeObject): Omit<KubeObject, 'metadata'> {
  const { metadata: _metadata, ...rest } = obj;
  return rest;
}

export class Operations {
  constructor(private readonly store: Store) {}

  /** A matcher on stored objects, shared by list and watch. */
  selector(type: ResourceType, selection: Selection): (obj: KubeObject) => boolean {
    const labels = parseLabelSelector(selection.labelSelector);
    const fields = parseFieldSelector(selection.fieldSelector, type.fieldSelectors);
    return (obj) => (selection.namespace === undefined || obj.metadata.namespace === selection.namespace) && labels(obj) && fields(obj);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const stored = this.store.get(type.storage, namespace, name);
    if (!stored) throw notFound(groupResource(type), name);
    return type.fromStorage(stored);
  }

  list(type: ResourceType, selection: Selection): ObjectList {
    const matches = this.selector(type, selection);
    const items = this.store.list(type.storage, selection.namespace).filter(matches).map((o) => {
      const served = type.fromStorage(o);
      if (type.custom) return served;
      // Built-in lists are typed: their items carry no apiVersion or kind of their own.
      const { apiVersion: _apiVersion, kind: _kind, ...item } = served;
      return item as KubeObject;
    });
    return { apiVersion: apiVersionOf(type), kind: type.listKind, metadata: { resourceVersion: String(this.store.resourceVersion) }, items };
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions): KubeObject {
    const obj = this.decode(type, namespace, body);
    const meta = obj.metadata;
    if (meta.resourceVersion) throw serverError('resourceVersion should not be set on objects to be created');
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (type.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    type.prepareForCreate(obj);

    const stored = type.toStorage(obj);
    const errors = type.validate(stored, { strict: options.strict });
    const name = meta.name;
    if (errors.length) throw invalid(groupKind(type), name ?? '', errors);
    // Types whose validation does not look at the name (core/v1 events) fail at the storage key.
    if (!name) throw badRequest('Name parameter required.');
    if (namespace !== undefined) this.checkNamespaceAcceptsContent(type, namespace, name);
    const existing = this.store.get(type.storage, namespace, name);
    if (existing) throw alreadyExists(groupResource(type), name, Boolean(existing.metadata.deletionTimestamp));
    return type.fromStorage(this.store.create(type.storage, stored));
  }

  /** PUT to the object, or to its status subresource. */
  update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, options: WriteOptions, subresource?: 'status'): { object: KubeObject; created: boolean } {
    const obj = this.decode(type, namespace, body);
    if (obj.metadata.name && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    const current = this.store.get(type.storage, namespace, name);
    if (!current) {
      if (!type.allowCreateOnUpdate || subresource) throw notFound(groupResource(type), name);
      delete obj.metadata.resourceVersion;
      return { object: this.create(type, namespace, obj, options), created: true };
    }
    const old = type.fromStorage(current);
    this.checkPreconditions(type, old, obj.metadata.uid, obj.metadata.resourceVersion);
    if (!obj.metadata.resourceVersion && !type.allowUnconditionalUpdate) {
      // Store.Update names the resource, not the kind, here; the value is a uint64 printed by %#v.
      throw invalid({ group: type.group, kind: type.plural }, name,
        [fieldInvalid('metadata.resourceVersion', '0x0', 'must be specified for an update')]);
    }

    const next = subresource ? this.statusUpdate(old, obj) : this.specUpdate(type, old, obj);
    const stored = type.toStorage(next);
    const storedOld = type.toStorage(old);
    const errors = [...type.validate(stored, { old: storedOld, strict: options.strict }), ...this.finalizerErrors(old, next)];
    if (errors.length) throw invalid(groupKind(type), name, errors);
    // Only writes to the main resource move generation; status writes never do.
    if (!subresource && type.tracksGeneration && !isDeepStrictEqual(withoutMetadata(stored), withoutMetadata(storedOld))) {
      stored.metadata.generation = (storedOld.metadata.generation ?? 0) + 1;
    }

    // The last finalizer removed from an object being deleted: it goes now.
    if (old.metadata.deletionTimestamp && !stored.metadata.finalizers?.length) {
      return { object: type.fromStorage(this.store.remove(type.storage, stored)), created: false };
    }
    // A write that changes nothing is not a write: same resourceVersion, no watch event.
    if (isDeepStrictEqual(stored, storedOld)) return { object: old, created: false };
    return { object: type.fromStorage(this.store.update(type.storage, stored)), created: false };
  }

  patch(type: ResourceType, namespace: string | undefined, name: string, contentType: string, body: string, options: WriteOptions, subresource?: 'status'): KubeObject {
    if (!type.patchTypes.includes(contentType)) throw unsupportedMediaType(type.patchTypes);
    if (contentType !== MERGE_PATCH && contentType !== JSON_PATCH) {
      throw unimplementedPatch(`the fake API server does not implement ${contentType} patches; send ${MERGE_PATCH} or ${JSON_PATCH}`);
    }
    let patch: Json;
    try {
      patch = JSON.parse(body) as Json;
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    const current = this.get(type, namespace, name) as unknown as Json;
    const patched = contentType === MERGE_PATCH ? mergePatch(current, patch) : jsonPatch(current, patch);
    return this.update(type, namespace, name, patched, options, subresource).object;
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions): KubeObject | Omit<Status, 'code'> {
    const current = this.store.get(type.storage, namespace, name);
    if (!current) throw notFound(groupResource(type), name);
    const old = type.fromStorage(current);
    this.checkDeletePreconditions(type, old, options.preconditions?.uid, options.preconditions?.resourceVersion);

    if (current.metadata.finalizers?.length) {
      // Already being deleted: nothing changes (no new resourceVersion).
      if (current.metadata.deletionTimestamp) return old;
      // markAsDeleting: the finalizers' owners see the timestamp and let go.
      current.metadata.deletionTimestamp = now();
      current.metadata.deletionGracePeriodSeconds = 0;
      if (current.metadata.generation) current.metadata.generation++;
      return type.fromStorage(this.store.update(type.storage, current));
    }
    const removed = this.store.remove(type.storage, current);
    if (type.returnDeletedObject) return type.fromStorage(removed);
    return success({ name, group: type.group, kind: type.plural, uid: removed.metadata.uid! });
  }

  deleteCollection(type: ResourceType, selection: Selection, options: DeleteOptions): ObjectList {
    const list = this.list(type, selection);
    for (const item of list.items) this.delete(type, item.metadata.namespace, item.metadata.name!, options);
    return list;
  }

  /** The body as an object of this type, in the namespace of the URL. */
  private decode(type: ResourceType, namespace: string | undefined, body: unknown): KubeObject {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
    const obj = structuredClone(body) as KubeObject;
    const expected = apiVersionOf(type);
    if (type.custom && !obj.kind) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    if (obj.apiVersion && obj.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
    }
    if (obj.kind && obj.kind !== type.kind) throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${type.kind})`);
    obj.apiVersion = expected;
    obj.kind = type.kind;
    obj.metadata = typeof obj.metadata === 'object' && obj.metadata ? obj.metadata : {};
    if (!type.namespaced) delete obj.metadata.namespace;
    else if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    } else obj.metadata.namespace = namespace;
    checkMicroTimes(type, obj);
    return obj;
  }

  /** The NamespaceLifecycle admission plugin. */
  private checkNamespaceAcceptsContent(type: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get('namespaces', undefined, namespace);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp) {
      // As the real server's NamespaceLifecycle admission says it, cause included.
      throw forbidden(groupResource(type), name, `unable to create new content in namespace ${namespace} because it is being terminated`,
        [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }]);
    }
  }

  private checkPreconditions(type: ResourceType, old: KubeObject, uid: string | undefined, resourceVersion: string | undefined): void {
    const name = old.metadata.name!;
    if (uid && uid !== old.metadata.uid) {
      throw conflict(groupResource(type), name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (resourceVersion === undefined || resourceVersion === '') return;
    if (resourceVersion !== old.metadata.resourceVersion) throw conflict(groupResource(type), name, OPTIMISTIC_LOCK_MESSAGE);
  }

  /**
   * A delete's preconditions, as rest.BeforeDelete checks them on the object read: the 409 names
   * the kind, not the resource (its GroupResource is built from the object's GroupVersionKind).
   */
  private checkDeletePreconditions(type: ResourceType, old: KubeObject, uid: string | undefined, resourceVersion: string | undefined): void {
    const byKind = { group: type.group, resource: type.kind };
    const name = old.metadata.name!;
    if (uid && uid !== old.metadata.uid) {
      throw conflict(byKind, name, `the UID in the precondition (${uid}) does not match the UID in record (${old.metadata.uid}). The object might have been deleted and then recreated`);
    }
    if (resourceVersion && resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(byKind, name, `the ResourceVersion in the precondition (${resourceVersion}) does not match the ResourceVersion in record (${old.metadata.resourceVersion}). The object might have been modified`);
    }
  }

  /** The main resource: system metadata and (with a status subresource) status stay the server's. */
  private specUpdate(type: ResourceType, old: KubeObject, obj: KubeObject): KubeObject {
    const next = structuredClone(obj);
    const meta = next.metadata;
    for (const key of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'resourceVersion'] as const) {
      if (old.metadata[key] === undefined) delete meta[key];
      else meta[key] = old.metadata[key] as never;
    }
    if (type.statusSubresource) {
      if (old.status === undefined) delete next.status;
      else next.status = old.status;
    }
    return next;
  }

  /** The status subresource: everything but status stays as stored. */
  private statusUpdate(old: KubeObject, obj: KubeObject): KubeObject {
    const next = structuredClone(old);
    if (obj.status === undefined) delete next.status;
    else next.status = obj.status;
    return next;
  }

  /** ValidateNoNewFinalizers, part of ValidateObjectMetaUpdate. */
  private finalizerErrors(old: KubeObject, next: KubeObject) {
    if (!old.metadata.deletionTimestamp) return [];
    const before = new Set(old.metadata.finalizers ?? []);
    const added = [...new Set(next.metadata.finalizers ?? [])].filter((f) => !before.has(f)).sort();
    if (!added.length) return [];
    const goSlice = `[]string{${added.map((f) => JSON.stringify(f)).join(', ')}}`;
    return [fieldForbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${goSlice}`)];
  }
}
