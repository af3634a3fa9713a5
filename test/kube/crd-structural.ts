// The structural-schema rules kube-apiserver applies to a CustomResourceDefinition's
// openAPIV3Schema (apiextensions-apiserver pkg/apiserver/schema: validateStructuralInvariants,
// validateStructuralCompleteness), with its field paths and messages, so the double refuses a
// non-structural CRD as the real server does. Not modelled: the checks of defaults against the
// schema, CEL rules (x-kubernetes-validations), regular-expression syntax (RE2), list-type rules.
import { fieldForbidden, fieldInvalid, fieldRequired, type FieldError } from './status.js';

type Schema = Record<string, any>;
type Level = 'root' | 'item' | 'field';

const JUNCTORS = ['allOf', 'anyOf', 'oneOf'] as const;

/** Go's field.Path: .child, [key] for map keys, [index] for list items. */
const child = (path: string, name: string) => `${path}.${name}`;
const key = (path: string, name: string) => `${path}[${name}]`;

/** The one int-or-string exception: anyOf exactly [{type: integer}, {type: string}], nothing else. */
function isIntOrStringAnyOf(anyOf: unknown): boolean {
  return Array.isArray(anyOf) && anyOf.length === 2
    && JSON.stringify(anyOf[0]) === '{"type":"integer"}' && JSON.stringify(anyOf[1]) === '{"type":"string"}';
}

/** A schema inside a logical junctor may only restrict values: no structure of its own. */
function nestedValueValidation(v: Schema | undefined, skipAnyOf: boolean, path: string): FieldError[] {
  if (!v || typeof v !== 'object') return [];
  const errors = valueValidation(v, skipAnyOf, false, path);
  if (v.items) errors.push(...nestedValueValidation(v.items, false, child(path, 'items')));
  for (const [name, sub] of Object.entries<Schema>(v.properties ?? {})) errors.push(...nestedValueValidation(sub, false, key(child(path, 'properties'), name)));
  if (v.type) errors.push(fieldForbidden(child(path, 'type'), 'must be empty to be structural'));
  if (v.additionalProperties !== undefined) errors.push(fieldForbidden(child(path, 'additionalProperties'), 'must be undefined to be structural'));
  if (v.default !== undefined) errors.push(fieldForbidden(child(path, 'default'), 'must be undefined to be structural'));
  if (v.title) errors.push(fieldForbidden(child(path, 'title'), 'must be empty to be structural'));
  if (v.description) errors.push(fieldForbidden(child(path, 'description'), 'must be empty to be structural'));
  if (v.nullable) errors.push(fieldForbidden(child(path, 'nullable'), 'must be false to be structural'));
  for (const [ext, word] of [['x-kubernetes-preserve-unknown-fields', 'false'], ['x-kubernetes-embedded-resource', 'false'], ['x-kubernetes-int-or-string', 'false']] as const) {
    if (v[ext]) errors.push(fieldForbidden(child(path, ext), `must be ${word} to be structural`));
  }
  if (v['x-kubernetes-list-map-keys']?.length) errors.push(fieldForbidden(child(path, 'x-kubernetes-list-map-keys'), 'must be empty to be structural'));
  if (v['x-kubernetes-list-type'] !== undefined) errors.push(fieldForbidden(child(path, 'x-kubernetes-list-type'), 'must be undefined to be structural'));
  if (v.properties?.metadata) errors.push(fieldForbidden(key(child(path, 'properties'), 'metadata'), 'must not be specified in a nested context'));
  return errors;
}

function valueValidation(s: Schema, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!skipAnyOf) (s.anyOf ?? []).forEach((v: Schema, i: number) => errors.push(...nestedValueValidation(v, false, `${child(path, 'anyOf')}[${i}]`)));
  (s.allOf ?? []).forEach((v: Schema, i: number) => errors.push(...nestedValueValidation(v, skipFirstAllOfAnyOf && i === 0, `${child(path, 'allOf')}[${i}]`)));
  (s.oneOf ?? []).forEach((v: Schema, i: number) => errors.push(...nestedValueValidation(v, false, `${child(path, 'oneOf')}[${i}]`)));
  if (s.not) errors.push(...nestedValueValidation(s.not, false, child(path, 'not')));
  return errors;
}

function invariants(s: Schema, level: Level, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (s.type === 'array' && !s.items) errors.push(fieldRequired(child(path, 'items'), 'must be specified'));
  if (s.items) errors.push(...invariants(s.items, 'item', child(path, 'items')));
  for (const [name, sub] of Object.entries<Schema>(s.properties ?? {})) errors.push(...invariants(sub, 'field', key(child(path, 'properties'), name)));
  if (s.additionalProperties !== undefined && level === 'root') errors.push(fieldForbidden(child(path, 'additionalProperties'), 'must not be used at the root'));
  if (s.additionalProperties && typeof s.additionalProperties === 'object') errors.push(...invariants(s.additionalProperties, 'field', child(path, 'additionalProperties')));
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (intOrString && s['x-kubernetes-preserve-unknown-fields']) errors.push(fieldInvalid(child(path, 'x-kubernetes-preserve-unknown-fields'), 'true', 'must be false if x-kubernetes-int-or-string is true'));
  errors.push(...valueValidation(s, isIntOrStringAnyOf(s.anyOf), isIntOrStringAnyOf(s.allOf?.[0]?.anyOf), path));
  if (!s.type && !intOrString && !s['x-kubernetes-preserve-unknown-fields']) {
    const where = { root: 'at the root', item: 'for specified array items', field: 'for specified object fields' }[level];
    errors.push(fieldRequired(child(path, 'type'), `must not be empty ${where}`));
  }
  if (level === 'root' && s.type && s.type !== 'object') errors.push(fieldInvalid(child(path, 'type'), JSON.stringify(s.type), 'must be object at the root'));
  const metadata = s.properties?.metadata;
  if (level === 'root' && metadata) {
    const { type: _type, default: _default, ...rest } = metadata;
    const names = Object.keys(rest.properties ?? {});
    if (names.every((n) => n === 'name' || n === 'generateName')) delete rest.properties;
    if (Object.keys(rest).length) {
      errors.push(fieldForbidden(key(child(path, 'properties'), 'metadata'), 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
    }
  }
  return errors;
}

/**
 * Every field or item a junctor mentions must also be specified outside it (checked from the
 * root, as validateStructuralCompleteness is).
 */
function completeness(s: Schema, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const nested = (v: Schema | undefined, node: Schema, sPath: string, vPath: string): void => {
    if (!v || typeof v !== 'object') return;
    for (const j of JUNCTORS) (v[j] ?? []).forEach((w: Schema, i: number) => nested(w, node, sPath, `${child(vPath, j)}[${i}]`));
    nested(v.not, node, sPath, child(vPath, 'not'));
    for (const [name, sub] of Object.entries<Schema>(v.properties ?? {})) {
      const outer = node.properties?.[name];
      const [sp, vp] = [key(child(sPath, 'properties'), name), key(child(vPath, 'properties'), name)];
      if (!outer) errors.push(fieldRequired(sp, `because it is defined in ${vp}`));
      else nested(sub, outer, sp, vp);
    }
    if (v.items && !node.items) errors.push(fieldRequired(child(sPath, 'items'), `because it is defined in ${child(vPath, 'items')}`));
    else if (v.items) nested(v.items, node.items, child(sPath, 'items'), child(vPath, 'items'));
  };
  for (const j of JUNCTORS) (s[j] ?? []).forEach((v: Schema, i: number) => nested(v, s, path, `${child(path, j)}[${i}]`));
  nested(s.not, s, path, child(path, 'not'));
  return errors;
}

/** What the server says of a CRD's schemas; [] when every version's schema is structural. */
export function structuralErrors(spec: { versions?: { schema?: { openAPIV3Schema?: Schema } }[] }): FieldError[] {
  const versions = spec.versions ?? [];
  const schemas = versions.map((v) => JSON.stringify(v.schema?.openAPIV3Schema ?? null));
  // The server moves a schema all versions share to spec.validation (the internal version) and
  // names it there in its errors.
  if (versions.length && schemas.every((s) => s === schemas[0])) {
    const schema = versions[0]!.schema?.openAPIV3Schema;
    return schema ? [...invariants(schema, 'root', 'spec.validation.openAPIV3Schema'), ...completeness(schema, 'spec.validation.openAPIV3Schema')] : [];
  }
  return versions.flatMap((v, i) => {
    const path = `spec.versions[${i}].schema.openAPIV3Schema`;
    return v.schema?.openAPIV3Schema ? [...invariants(v.schema.openAPIV3Schema, 'root', path), ...completeness(v.schema.openAPIV3Schema, path)] : [];
  });
}

/** The fields of apiextensions.k8s.io/v1 JSONSchemaProps; anything else is an unknown field. */
const SCHEMA_FIELDS = new Set([
  'id', '$schema', '$ref', 'description', 'type', 'format', 'title', 'default', 'maximum', 'exclusiveMaximum', 'minimum',
  'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'enum',
  'maxProperties', 'minProperties', 'required', 'items', 'allOf', 'oneOf', 'anyOf', 'not', 'properties',
  'additionalProperties', 'patternProperties', 'dependencies', 'additionalItems', 'definitions', 'externalDocs', 'example',
  'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-validations',
]);

/**
 * Unknown fields in a CRD's schemas, named as the server's strict decoding names them
 * ("spec.versions[0].schema.openAPIV3Schema.properties.status.properties.x.y"). A YAML flow
 * mapping with a comma in an unquoted description makes one: the real server refused such a CRD.
 */
export function unknownSchemaFields(spec: { versions?: { schema?: { openAPIV3Schema?: Schema } }[] }): string[] {
  const out: string[] = [];
  const walk = (s: unknown, path: string): void => {
    if (!s || typeof s !== 'object' || Array.isArray(s)) return;
    for (const [name, value] of Object.entries(s as Schema)) {
      if (!SCHEMA_FIELDS.has(name)) out.push(`${path}.${name}`);
      else if (name === 'properties' || name === 'patternProperties' || name === 'definitions') {
        for (const [k, sub] of Object.entries<Schema>(value ?? {})) walk(sub, `${path}.${name}.${k}`);
      } else if (name === 'items' || name === 'not' || (name === 'additionalProperties' && typeof value === 'object')) walk(value, `${path}.${name}`);
      else if (name === 'allOf' || name === 'anyOf' || name === 'oneOf') (value as Schema[]).forEach((sub, i) => walk(sub, `${path}.${name}[${i}]`));
    }
  };
  (spec.versions ?? []).forEach((v, i) => walk(v.schema?.openAPIV3Schema, `spec.versions[${i}].schema.openAPIV3Schema`));
  return out;
}
