// Whose a domain is, from its wimaxvm metadata. Pure.
import type { OwnerMetadata } from './domain-xml.js';

export interface Identity {
  /** This controller's identity (src/core/controller-identity.ts). */
  readonly self: string;
  /** Identities of controllers gone for good whose domains this one takes over (--adopt-from). */
  readonly adoptFrom?: readonly string[];
}

/** What --adopt-from names to take over the domains made before identities were recorded. */
export const LEGACY_OWNER = 'legacy';

/** How a domain claimed by `wimaxvm adopt` and not declared yet is named where an owner is named. */
export const ADOPTING_OWNER = 'wimaxvm adopt (not declared yet)';

export type Ownership =
  /** Not a wimaxvm domain of this resource: never touched. */
  | { kind: 'foreign' }
  /** This resource's domain, created by another controller: never touched. */
  | { kind: 'elsewhere'; controller: string }
  | { kind: 'ours' };

/**
 * `declared`: this controller declares the resource now. Domains made before identities were
 * recorded carry none: the controller that declares one adopts it (it gets its identity at the
 * next define); no other controller may touch it, to remove it least of all, unless told so
 * with --adopt-from legacy.
 */
export function ownershipOf(owner: OwnerMetadata | undefined, namespace: string, name: string, identity: Identity, declared: boolean): Ownership {
  if (!owner || owner.namespace !== namespace || owner.name !== name) return { kind: 'foreign' };
  // Claimed by `wimaxvm adopt`, no controller has taken it yet: it becomes the one that declares
  // it, and is no controller's to remove before that (not even with --adopt-from legacy).
  if (owner.adopted && owner.controller === undefined) return declared ? { kind: 'ours' } : { kind: 'elsewhere', controller: ADOPTING_OWNER };
  const controller = owner.controller ?? LEGACY_OWNER;
  if (controller === identity.self || identity.adoptFrom?.includes(controller)) return { kind: 'ours' };
  if (owner.controller === undefined && declared) return { kind: 'ours' };
  return { kind: 'elsewhere', controller };
}
