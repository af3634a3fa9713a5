// Whose a domain is, from its wimaxvm metadata. Pure.
import type { OwnerMetadata } from './domain-xml.js';

export interface Identity {
  /** This controller's identity (src/core/controller-identity.ts). */
  self: string;
  /** Identities of controllers gone for good whose domains this one takes over (--adopt-from). */
  adoptFrom?: readonly string[];
}

export type Ownership =
  /** Not a wimaxvm domain of this resource: never touched. */
  | { kind: 'foreign' }
  /** This resource's domain, created by another controller: never touched. */
  | { kind: 'elsewhere'; controller: string }
  | { kind: 'ours' };

export function ownershipOf(owner: OwnerMetadata | undefined, namespace: string, name: string, identity: Identity): Ownership {
  if (!owner || owner.namespace !== namespace || owner.name !== name) return { kind: 'foreign' };
  // Domains made before identities were recorded carry none: they are adopted by the controller
  // that declares them (and get its identity at the next define).
  if (owner.controller === undefined || owner.controller === identity.self) return { kind: 'ours' };
  if (identity.adoptFrom?.includes(owner.controller)) return { kind: 'ours' };
  return { kind: 'elsewhere', controller: owner.controller };
}
