// Validation of declared resources against the CRDs in crds/, so a bad file gets the error
// kubectl would have given. Defaults from the schema are applied, as the API server does.
import type { ErrorObject } from 'ajv';
import { API_VERSION, DEFAULT_NAMESPACE } from './meta.js';
import { knownKinds, validatorFor } from './crd-schemas.js';
import { annotationErrors, labelErrors } from './metadata-checks.js';
import { kindRuleErrors } from './kind-rules.js';
import { LEASE_DURATION_HELP, LEASE_DURATION_PATTERN } from '../leases/duration.js';

/** Patterns said in words (the API server shows only the regex). */
const PATTERN_HINTS: Record<string, string> = { [LEASE_DURATION_PATTERN]: LEASE_DURATION_HELP };

export { checkCrdSchemas, crdDocuments, knownKinds } from './crd-schemas.js';

export type FieldPath = (string | number)[];
/** `hint`: what a valid value looks like, for a pattern a reader cannot be expected to decode (file mode shows it; the API server's words stay as they are). */
export interface FieldError { path: FieldPath; message: string; hint?: string }

export interface DeclaredResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

export type ValidationResult = { ok: true; resource: DeclaredResource } | { ok: false; errors: FieldError[] };

function pathOf(instancePath: string): FieldPath {
  if (!instancePath) return [];
  return instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out || '<root>';
}

function valueAt(doc: unknown, path: FieldPath): unknown {
  let cur: any = doc;
  for (const p of path) cur = cur?.[p];
  return cur;
}

/** Go's %v of a float64 (strconv's shortest 'g'): 1 → 1, 1048576 → 1.048576e+06. */
export function goFloat(n: number): string {
  const [mantissa, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) {
    return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(n);
}

const JSON_TYPE = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);

/**
 * kube-openapi's wording of each limit (k8s.io/kube-openapi/pkg/validation/errors). An integer
 * value is compared, and the limit printed, as an integer; any other number as a Go float64.
 */
function limitMessage(e: ErrorObject, value: unknown): string {
  const limit = (e.params as { limit: number }).limit;
  const shown = Number.isInteger(value) && Number.isInteger(limit) ? String(limit) : goFloat(limit);
  switch (e.keyword) {
    case 'minimum': return `should be greater than or equal to ${shown}`;
    case 'maximum': return `should be less than or equal to ${shown}`;
    case 'minLength': return `should be at least ${limit} chars long`;
    case 'maxLength': return `should be at most ${limit} chars long`;
    case 'minItems': return `should have at least ${limit} items`;
    default: return `should have at most ${limit} items`;
  }
}

/** Values longer than this are cut in error messages (a 4 MiB value must not make a 4 MiB log line). */
const MAX_SHOWN_VALUE = 200;

function shortJson(v: unknown): string {
  const json = JSON.stringify(v) ?? String(v);
  return json.length > MAX_SHOWN_VALUE ? `${json.slice(0, MAX_SHOWN_VALUE)}... (${json.length} characters)` : json;
}

/** The API server's four complaints about an int-or-string value of neither type (seen on v1.28). */
function notIntOrString(path: FieldPath, value: unknown, limits: ErrorObject[]): FieldError[] {
  const shown = formatPath(path);
  const found = JSON.stringify(JSON_TYPE(value));
  return [
    { path, message: `${shown}: Invalid value: ${found}: ${shown} in body must be of type integer,string: ${found}` },
    { path, message: `<nil>: Invalid value: "": "${shown}" must validate at least one schema (anyOf)` },
    { path, message: `${shown}: Invalid value: ${found}: ${shown} in body must be of type integer: ${found}` },
    ...limits.map((e) => ({ path, message: `${shown}: Invalid value: ${shortJson(value)}: ${shown} in body ${limitMessage(e, value)}` })),
  ];
}

/**
 * ajv's errors in the words of the API server's field validation. An int-or-string field is
 * judged by the branch of its value's type, as the server does.
 */
function toFieldErrors(doc: unknown, errors: ErrorObject[]): FieldError[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const out: FieldError[] = [];
  for (const e of errors) {
    const path = pathOf(e.instancePath);
    const shown = formatPath(path);
    const actual = valueAt(doc, path);
    // Only where the message shows it: stringifying a parent object once per error is quadratic.
    const value = () => shortJson(actual);
    if (anyOfPaths.has(e.instancePath)) {
      const intOrString = Number.isInteger(actual) || typeof actual === 'string';
      if (e.keyword === 'anyOf' && !intOrString) {
        out.push(...notIntOrString(path, actual, errors.filter((x) => x.instancePath === e.instancePath && (x.keyword === 'minimum' || x.keyword === 'maximum'))));
      }
      if (e.keyword === 'anyOf' || e.keyword === 'type' || !intOrString) continue;
    }
    switch (e.keyword) {
      case 'additionalProperties': {
        const field = (e.params as { additionalProperty: string }).additionalProperty;
        out.push({ path: [...path, field], message: `unknown field "${formatPath([...path, field])}"` });
        break;
      }
      case 'required': {
        const field = (e.params as { missingProperty: string }).missingProperty;
        out.push({ path: [...path, field], message: `${formatPath([...path, field])}: Required value` });
        break;
      }
      case 'enum': {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
        out.push({ path, message: `${shown}: Unsupported value: ${value()}: supported values: ${allowed}` });
        break;
      }
      case 'pattern': {
        const pattern = (e.params as { pattern: string }).pattern;
        const hint = PATTERN_HINTS[pattern];
        out.push({ path, message: `${shown}: Invalid value: ${value()}: ${shown} in body should match '${pattern}'`, ...(hint ? { hint } : {}) });
        break;
      }
      case 'type': {
        // The server shows the JSON type it found where the value would be.
        const found = JSON.stringify(JSON_TYPE(actual));
        out.push({ path, message: `${shown}: Invalid value: ${found}: ${shown} in body must be of type ${(e.params as { type: string }).type}: ${found}` });
        break;
      }
      case 'minimum': case 'maximum': case 'maxLength': case 'minLength': case 'maxItems': case 'minItems':
        out.push({ path, message: `${shown}: Invalid value: ${value()}: ${shown} in body ${limitMessage(e, actual)}` });
        break;
      default:
        out.push({ path, message: `${shown}: ${e.message ?? e.keyword}` });
    }
  }
  return out;
}

/**
 * Validates one declared document (a parsed YAML/JSON object). Defaults are applied to a copy;
 * the input is not changed.
 */
export function validateResource(input: unknown): ValidationResult {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [{ path: [], message: 'a resource must be a mapping with apiVersion, kind, metadata and spec' }] };
  }
  const doc = structuredClone(input) as Record<string, any>;
  const { apiVersion, kind } = doc;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return { ok: false, errors: [{ path: typeof apiVersion !== 'string' ? ['apiVersion'] : ['kind'], message: 'apiVersion and kind are required' }] };
  }
  const validate = kind.includes('/') ? undefined : validatorFor(apiVersion, kind);
  if (!validate) {
    return {
      ok: false,
      errors: [{ path: ['kind'], message: `no matches for kind "${kind}" in version "${apiVersion}" (wimaxvm knows ${knownKinds().map((k) => `${API_VERSION} ${k}`).join(', ')})` }],
    };
  }
  if (!validate(doc)) return { ok: false, errors: toFieldErrors(doc, validate.errors ?? []) };
  // What the schema cannot say: the API server's own metadata rules, the controller's rules of a kind.
  const more = [...labelErrors(doc.metadata.labels), ...annotationErrors(doc.metadata.annotations), ...kindRuleErrors(kind, doc.spec)];
  if (more.length) return { ok: false, errors: more };
  delete doc.status;
  doc.metadata.namespace ??= DEFAULT_NAMESPACE;
  return { ok: true, resource: doc as DeclaredResource };
}
