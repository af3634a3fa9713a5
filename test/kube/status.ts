// Error answers of the fake API server: a metav1.Status worded as k8s.io/apimachinery's
// api/errors package words it, so code under test meets the same reasons, codes and messages
// as against a real cluster.

export interface StatusCause { reason: string; message: string; field?: string }

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Thrown anywhere below the HTTP layer; the router answers with its Status. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

/** What a DELETE that removed the object answers (finalizeDelete); the real one has no code. */
export function success(details: StatusDetails): Omit<Status, 'code'> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

/** schema.GroupResource: errors about storage name the plural ("virtualmachines.wimaxvm.io"). */
export interface GroupResource { group: string; resource: string }
/** schema.GroupKind: validation errors name the kind ("VirtualMachine.wimaxvm.io"). */
export interface GroupKind { group: string; kind: string }

const qualifiedResource = (gr: GroupResource) => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);
const qualifiedKind = (gk: GroupKind) => (gk.group ? `${gk.kind}.${gk.group}` : gk.kind);
/** Go's %q for the DNS-like names used here. */
const q = (s: string) => JSON.stringify(s);

export const notFound = (gr: GroupResource, name: string) =>
  failure(404, 'NotFound', `${qualifiedResource(gr)} ${q(name)} not found`, { name, group: gr.group, kind: gr.resource });

export const alreadyExists = (gr: GroupResource, name: string, beingDeleted: boolean) =>
  failure(409, 'AlreadyExists', `${beingDeleted ? 'object is being deleted: ' : ''}${qualifiedResource(gr)} ${q(name)} already exists`,
    { name, group: gr.group, kind: gr.resource });

export const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export const conflict = (gr: GroupResource, name: string, why: string) =>
  failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} ${q(name)}: ${why}`, { name, group: gr.group, kind: gr.resource });

export const forbidden = (gr: GroupResource, name: string, why: string, causes?: StatusCause[]) =>
  failure(403, 'Forbidden', `${qualifiedResource(gr)} ${q(name)} is forbidden: ${why}`, { name, group: gr.group, kind: gr.resource, ...(causes ? { causes } : {}) });

export const badRequest = (message: string) => failure(400, 'BadRequest', message);

/** A watch from a resourceVersion older than the kept history (NewResourceExpired). */
export const expired = (message: string) => failure(410, 'Expired', message);

/** What the server says for a path no API group serves. */
export const noSuchResource = () => failure(404, 'NotFound', 'the server could not find the requested resource', {});

export const methodNotAllowed = () => failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

export const unsupportedMediaType = (accepted: string[]) =>
  failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);

/** A patch format the real server takes but the fake does not implement: refused loudly. */
export const unimplementedPatch = (message: string) => failure(415, 'UnsupportedMediaType', message);

/** An error the server has no Status for (ErrorToAPIStatus's default): 500, reason Unknown. */
export const serverError = (message: string) => failure(500, 'Unknown', message);

/** A 422 made by the JSON patch applier, which has no field path (NewGenericServerResponse). */
export const unprocessable = (message: string) => failure(422, 'Invalid', message);

const REASON_BY_CODE: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  409: 'Conflict', 410: 'Gone', 415: 'UnsupportedMediaType', 422: 'Invalid', 429: 'TooManyRequests',
  500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

/** An error injected by a test (failNext): the Status a real server would send with that code. */
export const injected = (code: number) =>
  failure(code, REASON_BY_CODE[code] ?? 'Unknown', `injected by the fake API server's failNext (HTTP ${code})`);

// --- field errors (k8s.io/apimachinery/pkg/util/validation/field) ---

/** One field.Error: `body` is its ErrorBody(), e.g. `Unsupported value: "x": supported values: "a"`. */
export interface FieldError { type: string; field: string; body: string }

const withDetail = (base: string, detail: string) => (detail ? `${base}: ${detail}` : base);

export const fieldRequired = (field: string, detail = ''): FieldError =>
  ({ type: 'FieldValueRequired', field, body: withDetail('Required value', detail) });

/** `shownValue` is already formatted the way Go prints it (%q for strings, 0x0 for a uint64 zero). */
export const fieldInvalid = (field: string, shownValue: string, detail: string): FieldError =>
  ({ type: 'FieldValueInvalid', field, body: withDetail(`Invalid value: ${shownValue}`, detail) });

export const fieldForbidden = (field: string, detail: string): FieldError =>
  ({ type: 'FieldValueForbidden', field, body: withDetail('Forbidden', detail) });

/** Reads the cause type back from an ErrorBody made elsewhere (the project's CRD validator). */
export function fieldErrorFromBody(field: string, body: string): FieldError {
  const types: [string, string][] = [
    ['Required value', 'FieldValueRequired'], ['Unsupported value', 'FieldValueNotSupported'],
    ['Forbidden', 'FieldValueForbidden'], ['Invalid value', 'FieldValueInvalid'],
  ];
  const type = types.find(([prefix]) => body.startsWith(prefix))?.[1] ?? 'FieldValueInvalid';
  return { type, field, body };
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several deduplicated in brackets. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/** errors.NewInvalid: 422 whose message kubectl prints as is. */
export function invalid(gk: GroupKind, name: string, errors: FieldError[]): ApiError {
  const message = `${qualifiedKind(gk)} ${q(name)} is invalid: ${aggregate(errors.map((e) => `${e.field}: ${e.body}`))}`;
  return failure(422, 'Invalid', message, {
    name, group: gk.group, kind: gk.kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
  });
}
