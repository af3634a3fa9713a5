// Kubernetes-shaped metadata, conditions and keys shared by every kind.

export const GROUP = 'wimaxvm.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const DEFAULT_NAMESPACE = 'default';

/** Annotation recording where a resource was declared ("file:line"). */
export const SOURCE_ANNOTATION = 'wimaxvm.io/source';

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface Resource<Spec, Status> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

/** Queue keys are strings: "Kind/namespace/name". The queue never carries objects. */
export type ResourceKey = string;

export function resourceKey(kind: string, namespace: string, name: string): ResourceKey {
  return `${kind}/${namespace}/${name}`;
}

export function parseResourceKey(key: ResourceKey): { kind: string; namespace: string; name: string } {
  const [kind, namespace, name] = key.split('/');
  if (!kind || !namespace || !name) throw new Error(`malformed resource key ${JSON.stringify(key)}`);
  return { kind, namespace, name };
}

/**
 * Sets a condition the way apimachinery's meta.SetStatusCondition does: lastTransitionTime
 * moves only when status flips, so rewriting the same condition is not a change.
 */
export function setCondition(
  conditions: Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition[] {
  const existing = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = existing && existing.status === next.status ? existing.lastTransitionTime : now;
  const merged: Condition = { ...next, lastTransitionTime };
  return existing ? conditions.map((c) => (c.type === next.type ? merged : c)) : [...conditions, merged];
}

export function removeCondition(conditions: Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
