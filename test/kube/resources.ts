// The resource types the fake serves, each with the strategy flags of its real registry
// (pkg/registry/... and apiextensions-apiserver's customresource strategy): built-ins, and one
// type per served version of every CustomResourceDefinition stored.
import { coreToEventsV1, EVENT_FIELDS, eventsV1ToCore, validateEvent, validateNewEvent } from './events.js';
import type { SelectableFields } from './selectors.js';
import { structuralErrors, unknownSchemaFields } from './crd-structural.js';
import { badRequest, fieldInvalid, type FieldError } from './status.js';
import { hasProjectSchema, validateCustomResource, validateName } from './validation.js';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ValidationContext { old?: KubeObject; strict: boolean }

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames?: string[];
  namespaced: boolean;
  /** Where the objects live; two served types can share it (core/v1 and events.k8s.io/v1 events). */
  storage: string;
  /** Served from a CRD: unstructured objects, so lists keep each item's apiVersion and kind. */
  custom: boolean;
  statusSubresource: boolean;
  /** metadata.generation is kept, and bumped by changes outside metadata (and status). */
  tracksGeneration: boolean;
  allowCreateOnUpdate: boolean;
  /** A PUT without metadata.resourceVersion is taken as "whatever is stored" instead of refused. */
  allowUnconditionalUpdate: boolean;
  /** A DELETE answers with the object instead of a Status. */
  returnDeletedObject: boolean;
  /** PATCH content types the real server accepts for this type (others get its 415). */
  patchTypes: string[];
  fieldSelectors: SelectableFields;
  /** Paths of metav1.MicroTime fields, which decode only with six fractional digits. */
  microTimeFields: string[][];
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
  /** What the strategy sets on create (PrepareForCreate), after the generic metadata. */
  prepareForCreate(obj: KubeObject): void;
  /** Strategy validation; may default and prune the object in place. */
  validate(obj: KubeObject, ctx: ValidationContext): FieldError[];
}

export const apiVersionOf = (t: { group: string; version: string }) => (t.group ? `${t.group}/${t.version}` : t.version);

/** The object as this type serves it: its apiVersion and kind first, as the server encodes them. */
function withTypeMeta(type: ResourceType, obj: KubeObject): KubeObject {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
  return { apiVersion: apiVersionOf(type), kind: type.kind, ...rest };
}

const metadataFields = (namespaced: boolean): SelectableFields => ({
  'metadata.name': (o) => o.metadata.name,
  ...(namespaced ? { 'metadata.namespace': (o: KubeObject) => o.metadata.namespace } : {}),
});

const BUILTIN_PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
const CUSTOM_PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

function builtin(t: Pick<ResourceType, 'group' | 'version' | 'plural' | 'kind' | 'namespaced'> & Partial<ResourceType>): ResourceType {
  const type: ResourceType = {
    singular: t.kind.toLowerCase(),
    listKind: `${t.kind}List`,
    storage: t.group ? `${t.plural}.${t.group}` : t.plural,
    custom: false,
    statusSubresource: false,
    tracksGeneration: false,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    returnDeletedObject: false,
    patchTypes: BUILTIN_PATCH_TYPES,
    fieldSelectors: metadataFields(t.namespaced),
    microTimeFields: [],
    toStorage: (o) => o,
    fromStorage: (o) => withTypeMeta(type, o),
    prepareForCreate: () => {},
    validate: (o) => validateName(o, 'subdomain'),
    ...t,
  };
  return type;
}

const namespaces = builtin({
  group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'],
  statusSubresource: true,
  returnDeletedObject: true,
  prepareForCreate: (o) => { o.status = { phase: 'Active' }; },
  validate: (o) => validateName(o, 'label'),
});

const coreEvents = builtin({
  group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'],
  storage: 'events',
  allowCreateOnUpdate: true,
  fieldSelectors: { ...metadataFields(true), ...EVENT_FIELDS },
  microTimeFields: [['eventTime'], ['series', 'lastObservedTime']],
  validate: (o) => validateEvent(o),
});

const eventsV1 = builtin({
  group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'],
  storage: 'events',
  allowCreateOnUpdate: true,
  microTimeFields: [['eventTime'], ['series', 'lastObservedTime']],
  toStorage: eventsV1ToCore,
  fromStorage: coreToEventsV1,
  // Runs on the stored (core/v1) form, like the internal-version validation of the real server.
  validate: (o, ctx) => [...validateName(o, 'subdomain'), ...validateEvent(o), ...(ctx.old ? [] : validateNewEvent(o))],
});

const leases = builtin({
  group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true,
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: false,
  microTimeFields: [['spec', 'acquireTime'], ['spec', 'renewTime']],
});

export const CRD_STORAGE = 'customresourcedefinitions.apiextensions.k8s.io';

interface CrdVersion { name: string; served: boolean; storage: boolean; subresources?: { status?: object }; schema?: { openAPIV3Schema?: Record<string, any> } }
interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[] };
  versions: CrdVersion[];
}

function validateCrd(o: KubeObject, strict: boolean): FieldError[] {
  const spec = o.spec as CrdSpec | undefined;
  // Decoding comes first: with fieldValidation=Strict (kubectl's default) an unknown schema field
  // is a 400; without, the server drops it (and warns), as the double does.
  const unknown = unknownSchemaFields(spec ?? {});
  if (unknown.length && strict) {
    throw badRequest(`CustomResourceDefinition in version "v1" cannot be handled as a CustomResourceDefinition: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  const errors: FieldError[] = [];
  if (o.metadata.name !== `${spec?.names?.plural}.${spec?.group}`) {
    errors.push(fieldInvalid('metadata.name', JSON.stringify(o.metadata.name ?? ''), 'must be spec.names.plural+"."+spec.group'));
  }
  if ((spec?.versions ?? []).filter((v) => v.storage).length !== 1) {
    errors.push(fieldInvalid('spec.versions', JSON.stringify(spec?.versions ?? []), 'must have exactly one version marked as storage version'));
  }
  // The server sorts them by their text (ValidateStructural).
  return [...errors, ...structuralErrors(spec ?? {}).sort((a, b) => `${a.field}: ${a.body}`.localeCompare(`${b.field}: ${b.body}`))];
}

const crds = builtin({
  group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false,
  shortNames: ['crd', 'crds'],
  statusSubresource: true,
  tracksGeneration: true,
  allowUnconditionalUpdate: false,
  // The real server accepts the names at once and serves the resource within moments.
  prepareForCreate: (o) => {
    const spec = o.spec as CrdSpec;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    o.status = {
      conditions: [
        { type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', status: 'True', lastTransitionTime: now, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ],
      acceptedNames: spec.names,
      storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
    };
  },
  validate: (o, ctx) => validateCrd(o, ctx.strict),
});

/** One type per served version; all versions share one storage, without conversion. */
export function typesFromCrd(crd: KubeObject): ResourceType[] {
  const spec = crd.spec as CrdSpec;
  const namespaced = spec.scope === 'Namespaced';
  return spec.versions.filter((v) => v.served).map((v) => {
    const type: ResourceType = {
      group: spec.group,
      version: v.name,
      plural: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
      namespaced,
      storage: `${spec.names.plural}.${spec.group}`,
      custom: true,
      statusSubresource: Boolean(v.subresources?.status),
      tracksGeneration: true,
      allowCreateOnUpdate: false,
      allowUnconditionalUpdate: false,
      returnDeletedObject: false,
      patchTypes: CUSTOM_PATCH_TYPES,
      fieldSelectors: metadataFields(namespaced),
      microTimeFields: [],
      toStorage: (o) => o,
      // Versions share the stored objects as they are: the fake converts nothing between them.
      fromStorage: (o) => withTypeMeta(type, o),
      // With a status subresource, create cannot set status.
      prepareForCreate: (o) => { if (type.statusSubresource) delete o.status; },
      validate: (o, ctx) => (hasProjectSchema(type) ? validateCustomResource(type, o, ctx.strict) : []),
    };
    return type;
  });
}

/** The types served now: the built-ins plus those of the stored CRDs. */
export class ResourceTypes {
  private readonly builtins = [namespaces, coreEvents, eventsV1, leases, crds];
  private readonly fromCrds = new Map<string, ResourceType[]>();

  readonly namespaces = namespaces;
  readonly crds = crds;
  readonly coreEvents = coreEvents;

  all(): ResourceType[] {
    return [...this.builtins, ...[...this.fromCrds.values()].flat()];
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.all().find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  setCrd(name: string, crd: KubeObject | undefined): void {
    if (crd) this.fromCrds.set(name, typesFromCrd(crd));
    else this.fromCrds.delete(name);
  }
}
