// The CRDs in crds/ as ajv validators: each version's schema read once, in the words ajv's
// strict mode understands, and compiled when a document of its kind is first validated.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { load } from 'js-yaml';
import { CRDS_DIR } from '../package-root.js';
import { GROUP } from './meta.js';

const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** What the API server checks of metadata on create, for the fields a user may write. */
const METADATA_SCHEMA = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 253, pattern: DNS1123_SUBDOMAIN },
    namespace: { type: 'string', maxLength: 63, pattern: DNS1123_LABEL },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

interface CrdVersion { name: string; schema: { openAPIV3Schema: Record<string, any> } }
interface Crd { spec: { group: string; names: { kind: string }; versions: CrdVersion[] } }

/**
 * A structural schema prunes unknown fields; kubectl's default strict field validation turns
 * them into errors. Mark every object that lists its properties as closed, like that.
 */
function closeObjects(schema: any): any {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [key, value] of Object.entries(schema)) out[key] = closeObjects(value);
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

const NUMBER_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];
const STRING_KEYWORDS = ['pattern', 'minLength', 'maxLength', 'format'];

/**
 * The API server's int-or-string form (`anyOf: [{type: integer}, {type: string}]`, constraints
 * beside it) in the words ajv's strict mode understands: each constraint moved into the branch of
 * the type it applies to, as the server applies it (pattern to strings, minimum to integers).
 */
function intOrStringForAjv(schema: any): any {
  if (Array.isArray(schema)) return schema.map(intOrStringForAjv);
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [key, value] of Object.entries(schema)) out[key] = intOrStringForAjv(value);
  if (out['x-kubernetes-int-or-string'] !== true) return out;
  const integer: any = { type: 'integer' };
  const string: any = { type: 'string' };
  for (const k of NUMBER_KEYWORDS) if (k in out) { integer[k] = out[k]; delete out[k]; }
  for (const k of STRING_KEYWORDS) if (k in out) { string[k] = out[k]; delete out[k]; }
  out.anyOf = [integer, string];
  return out;
}

/** The schema a declared document of one CRD version is validated against (as the API server's field validation sees it). */
function documentSchema(root: Record<string, any>): Record<string, unknown> {
  return {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', ...(root.required ?? [])],
    additionalProperties: false,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: METADATA_SCHEMA,
      spec: closeObjects(intOrStringForAjv(root.properties.spec)),
      // Status is the controller's: the API server ignores it on create, and so do we.
      status: {},
    },
  };
}

/**
 * Each CRD version's document schema, by `group/version/kind`. Read with js-yaml: the CRDs are
 * plain YAML, which it reads alike (test/unit/schema.test.ts holds them equal) about six times
 * faster than the yaml library, and every parse worker and `validate` reads them at its start.
 */
function loadCrdSchemas(dir: string): Map<string, Record<string, unknown>> {
  const schemas = new Map<string, Record<string, unknown>>();
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const crd = load(readFileSync(join(dir, file), 'utf8')) as Crd;
    if (crd.spec.group !== GROUP) continue;
    for (const version of crd.spec.versions) schemas.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, documentSchema(version.schema.openAPIV3Schema));
  }
  return schemas;
}

/**
 * An ajv for the CRDs' schemas. `checkSchemas` also checks each schema against JSON Schema's
 * meta-schema (compiling that costs about 80 ms a process): the tests do (checkCrdSchemas);
 * validation at run time trusts the CRDs the tests have checked. Strict mode applies either way.
 */
function crdAjv(checkSchemas: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, validateSchema: checkSchemas });
  for (const keyword of [
    'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-embedded-resource',
  ]) ajv.addKeyword({ keyword });
  return ajv;
}

let schemas: Map<string, Record<string, unknown>> | undefined;
let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

/** The validator of `group/version/kind`, compiled when first asked for: a directory of VMs compiles the VM schema only. */
export function validatorFor(apiVersion: string, kind: string): ValidateFunction | undefined {
  const key = `${apiVersion}/${kind}`;
  const known = compiled.get(key);
  if (known) return known;
  schemas ??= loadCrdSchemas(CRDS_DIR);
  const schema = schemas.get(key);
  if (!schema) return undefined;
  ajv ??= crdAjv(false);
  const validate = ajv.compile(schema);
  compiled.set(key, validate);
  return validate;
}

export function knownKinds(): string[] {
  schemas ??= loadCrdSchemas(CRDS_DIR);
  return [...schemas.keys()].map((k) => k.split('/').pop()!);
}

/** Compiles every CRD's schema as run time does, and checks each against the meta-schema too: for the tests. Throws on the first problem. */
export function checkCrdSchemas(dir = CRDS_DIR): string[] {
  const checker = crdAjv(true);
  const checked: string[] = [];
  for (const [key, schema] of loadCrdSchemas(dir)) {
    checker.compile(schema);
    checked.push(key);
  }
  return checked;
}

/** The CRD files as run time reads them (js-yaml), by file name: for the test that holds them equal to the yaml library's reading. */
export function crdDocuments(dir = CRDS_DIR): Map<string, unknown> {
  return new Map(readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => [f, load(readFileSync(join(dir, f), 'utf8'))]));
}
