// What the API server checks of labels and annotations (apimachinery's ValidateLabels and
// ValidateAnnotations), in its words. A CRD's schema cannot say this (the server allows only
// name and generateName to be constrained there): file mode, `validate` and the legacy API check
// it here, so every path refuses what kubectl would refuse.
import type { FieldError } from './schema.js';

const NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const NAME_RE = new RegExp(`^${NAME}$`);
const LABEL_VALUE_RE = new RegExp(`^(${NAME})?$`);
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes' total size limit of an object's annotations (keys and values). */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

const QUALIFIED_NAME_MESSAGE = `a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${NAME}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`;
const LABEL_VALUE_MESSAGE = `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(${NAME})?')`;

const shown = (s: string) => JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}...` : s);

/** Why `key` is not a qualified name ("prefix/name" or "name"), or undefined. */
function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return QUALIFIED_NAME_MESSAGE;
  const [prefix, name] = parts.length === 2 ? parts as [string, string] : [undefined, parts[0]!];
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'prefix part must be non-empty';
    if (prefix.length > 253) return 'prefix part must be no more than 253 characters';
    if (!DNS1123_SUBDOMAIN_RE.test(prefix)) return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_RE.test(name)) return `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${NAME}')`;
  return undefined;
}

export function labelErrors(labels: Record<string, string> | undefined): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    const path = ['metadata', 'labels', key];
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) errors.push({ path, message: `metadata.labels: Invalid value: ${shown(key)}: ${keyProblem}` });
    if (value.length > 63) errors.push({ path, message: `metadata.labels: Invalid value: ${shown(value)}: must be no more than 63 characters` });
    else if (!LABEL_VALUE_RE.test(value)) errors.push({ path, message: `metadata.labels: Invalid value: ${shown(value)}: ${LABEL_VALUE_MESSAGE}` });
  }
  return errors;
}

export function annotationErrors(annotations: Record<string, string> | undefined): FieldError[] {
  const errors: FieldError[] = [];
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    const keyProblem = qualifiedNameProblem(key.toLowerCase());
    if (keyProblem) errors.push({ path: ['metadata', 'annotations', key], message: `metadata.annotations: Invalid value: ${shown(key)}: ${keyProblem}` });
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > MAX_ANNOTATIONS_BYTES) errors.push({ path: ['metadata', 'annotations'], message: `metadata.annotations: Too long: must have at most ${MAX_ANNOTATIONS_BYTES} bytes` });
  return errors;
}
