// Checks the real server makes while decoding and validating an object, in its words:
// object metadata names, MicroTime fields (a 400 at decoding), and custom resources against
// their CRD schema through the project's own validator (src/api/schema.ts), which applies the
// schema's defaults as the server does.
import { validateResource, formatPath, knownKinds, type FieldPath } from '../../src/api/schema.js';
import { GROUP, VERSION } from '../../src/api/meta.js';
import type { KubeObject, ResourceType } from './resources.js';
import { badRequest, fieldErrorFromBody, fieldInvalid, fieldRequired, type FieldError } from './status.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** ValidateObjectMeta's name rules for built-in kinds (custom resources get them from their schema). */
export function validateName(obj: KubeObject, rule: 'label' | 'subdomain'): FieldError[] {
  const name = obj.metadata.name;
  if (!name) return [fieldRequired('metadata.name', 'name or generateName is required')];
  if (rule === 'label' && (name.length > 63 || !DNS1123_LABEL.test(name))) {
    return [fieldInvalid('metadata.name', JSON.stringify(name),
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")];
  }
  if (rule === 'subdomain' && (name.length > 253 || !DNS1123_SUBDOMAIN.test(name))) {
    return [fieldInvalid('metadata.name', JSON.stringify(name),
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")];
  }
  return [];
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

/**
 * metav1.MicroTime only parses RFC 3339 with exactly six fractional digits: a JavaScript Date's
 * toISOString() (three digits) is a 400 at decoding, before any validation.
 */
export function checkMicroTimes(type: ResourceType, obj: KubeObject): void {
  for (const path of type.microTimeFields) {
    let value: any = obj;
    for (const key of path) value = value?.[key];
    if (value === undefined || value === null || (typeof value === 'string' && MICRO_TIME.test(value))) continue;
    const shown = String(value);
    const rest = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(shown) ? shown.slice(19) : shown;
    throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: parsing time ${JSON.stringify(shown)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${JSON.stringify(rest)} as ".000000"`);
  }
}

/** Only this project's CRDs have a validator; a CRD a test makes up is served unvalidated. */
export function hasProjectSchema(type: ResourceType): boolean {
  return type.group === GROUP && type.version === VERSION && knownKinds().includes(type.kind);
}

function deleteAt(doc: any, path: FieldPath): void {
  let cur = doc;
  for (const key of path.slice(0, -1)) cur = cur?.[key];
  if (cur && typeof cur === 'object') delete cur[path[path.length - 1]!];
}

/**
 * Validates a custom resource against its CRD schema, in place: unknown fields are pruned as a
 * structural schema does (or, with fieldValidation=Strict, refused with a 400), and defaults are
 * filled in. Metadata other than name, namespace, labels and annotations, and status, are not
 * the schema's business.
 */
export function validateCustomResource(type: ResourceType, obj: KubeObject, strict: boolean): FieldError[] {
  const { metadata, status: _status, ...content } = obj;
  const userMeta: Record<string, unknown> = {};
  for (const key of ['name', 'namespace', 'labels', 'annotations'] as const) {
    if (metadata[key] !== undefined) userMeta[key] = metadata[key];
  }
  const doc = { ...structuredClone(content), apiVersion: `${type.group}/${type.version}`, kind: type.kind, metadata: userMeta };
  let result = validateResource(doc);
  if (!result.ok) {
    const unknown = result.errors.filter((e) => e.message.startsWith('unknown field'));
    if (unknown.length && strict) throw badRequest(`strict decoding error: ${unknown.map((e) => e.message).join(', ')}`);
    if (unknown.length) {
      for (const e of unknown) deleteAt(doc, e.path);
      result = validateResource(doc);
    }
  }
  if (!result.ok) {
    return result.errors.map((e) => {
      const field = formatPath(e.path);
      return fieldErrorFromBody(field, e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message);
    });
  }
  // Keep what the schema produced (pruned, defaulted) for every field but metadata and status.
  const validated: Record<string, unknown> = { ...result.resource };
  delete validated.metadata;
  for (const key of Object.keys(obj)) if (key !== 'metadata' && key !== 'status') delete obj[key];
  Object.assign(obj, validated);
  return [];
}
