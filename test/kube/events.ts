// Events are one resource served by two APIs: core/v1 and events.k8s.io/v1 read and write the
// same objects under different field names. They are stored in the core/v1 form, and
// validated by the rules of pkg/apis/core/validation/events.go.
import type { KubeObject } from './resources.js';
import { fieldInvalid, fieldRequired, type FieldError } from './status.js';

/** events.k8s.io/v1 field → core/v1 field, for the fields whose names differ. */
const RENAMED: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(obj: KubeObject, pairs: [string, string][]): KubeObject {
  const out: KubeObject = { ...obj };
  for (const [from, to] of pairs) {
    delete out[from];
    if (obj[from] !== undefined) out[to] = obj[from];
  }
  return out;
}

export const eventsV1ToCore = (obj: KubeObject): KubeObject => ({ ...rename(obj, RENAMED), apiVersion: 'v1', kind: 'Event' });

export const coreToEventsV1 = (obj: KubeObject): KubeObject => {
  const { apiVersion: _v, kind: _k, ...rest } = rename(obj, RENAMED.map(([a, b]) => [b, a]));
  return { apiVersion: 'events.k8s.io/v1', kind: 'Event', ...rest };
};

/** Fields core/v1 events can be selected by (EventToSelectableFields), besides metadata's. */
export const EVENT_FIELDS: Record<string, (e: any) => string | undefined> = {
  'involvedObject.kind': (e) => e.involvedObject?.kind,
  'involvedObject.namespace': (e) => e.involvedObject?.namespace,
  'involvedObject.name': (e) => e.involvedObject?.name,
  'involvedObject.uid': (e) => e.involvedObject?.uid,
  'involvedObject.apiVersion': (e) => e.involvedObject?.apiVersion,
  'involvedObject.resourceVersion': (e) => e.involvedObject?.resourceVersion,
  'involvedObject.fieldPath': (e) => e.involvedObject?.fieldPath,
  reason: (e) => e.reason,
  source: (e) => e.source?.component,
  type: (e) => e.type,
};

const len = (v: unknown) => (typeof v === 'string' ? v.length : 0);

/** legacyValidateEvent: what every event must satisfy, whichever API wrote it (core/v1 form). */
export function validateEvent(e: any): FieldError[] {
  const errors: FieldError[] = [];
  const namespace = e.metadata.namespace ?? '';
  const involvedNamespace = e.involvedObject?.namespace ?? '';
  const mismatch = fieldInvalid('involvedObject.namespace', JSON.stringify(involvedNamespace), 'does not match event.namespace');
  if (!e.eventTime) {
    if (involvedNamespace ? namespace !== involvedNamespace : namespace !== '' && namespace !== 'default') errors.push(mismatch);
    return errors;
  }
  if (!involvedNamespace && namespace !== 'default' && namespace !== 'kube-system') errors.push(mismatch);
  if (!e.reportingComponent) errors.push(fieldRequired('reportingController'));
  if (!e.reportingInstance) errors.push(fieldRequired('reportingInstance'));
  if (len(e.reportingInstance) > 128) errors.push(fieldInvalid('reportingInstance', '""', 'can have at most 128 characters'));
  if (!e.action) errors.push(fieldRequired('action'));
  if (len(e.action) > 128) errors.push(fieldInvalid('action', '""', 'can have at most 128 characters'));
  if (!e.reason) errors.push(fieldRequired('reason'));
  if (len(e.reason) > 128) errors.push(fieldInvalid('reason', '""', 'can have at most 128 characters'));
  if (len(e.message) > 1024) errors.push(fieldInvalid('message', '""', 'can have at most 1024 characters'));
  return errors;
}

/** ValidateEventCreate's stricter rules for events created through events.k8s.io/v1 (core/v1 form). */
export function validateNewEvent(e: any): FieldError[] {
  const errors: FieldError[] = [];
  if (e.series) {
    if (!(e.series.count >= 2)) errors.push(fieldInvalid('series.count', '""', 'should be at least 2'));
    if (!e.series.lastObservedTime) errors.push(fieldRequired('series.lastObservedTime'));
  }
  if (!e.eventTime) errors.push(fieldRequired('eventTime'));
  if (e.type !== 'Normal' && e.type !== 'Warning') errors.push(fieldInvalid('type', '""', `has invalid value: ${e.type ?? ''}`));
  if (e.firstTimestamp) errors.push(fieldInvalid('firstTimestamp', '""', 'needs to be unset'));
  if (e.lastTimestamp) errors.push(fieldInvalid('lastTimestamp', '""', 'needs to be unset'));
  if (e.count) errors.push(fieldInvalid('count', '""', 'needs to be unset'));
  if (e.source?.component || e.source?.host) errors.push(fieldInvalid('source', '""', 'needs to be unset'));
  return errors;
}
