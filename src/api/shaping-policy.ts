// ShapingPolicy: shaping on or off for a namespace (the policy named "default").
import { resourceKey, type Resource } from './meta.js';

export const SHAPING_POLICY_KIND = 'ShapingPolicy';
export const SHAPING_POLICY_NAME = 'default';

export type ShapingPolicy = Resource<{ enabled: boolean }, never>;

export function shapingPolicyKey(namespace: string): string {
  return resourceKey(SHAPING_POLICY_KIND, namespace, SHAPING_POLICY_NAME);
}
