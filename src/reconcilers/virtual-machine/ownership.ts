// Whose a domain is, from its wimaxvm metadata. Pure.
import { parseResourceKey } from '../../api/meta.js';
import type { OwnerMetadata } from './domain-xml.js';

export interface Identity {
  /** This controller's identity (src/core/controller-identity.ts). */
  readonly self: string;
  /** Identities of controllers gone for good whose domains this one takes over (--adopt-from). */
  readonly adoptFrom?: readonly string[];
}

/** What --adopt-from names to take over the domains made before identities were recorded. */
export const LEGACY_OWNER = 'legacy';

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
  const controller = owner.controller ?? LEGACY_OWNER;
  if (controller === identity.self || identity.adoptFrom?.includes(controller)) return { kind: 'ours' };
  if (owner.controller === undefined && declared) return { kind: 'ours' };
  return { kind: 'elsewhere', controller };
}

/** Why the domain named after this resource is not this controller's to touch; undefined if it is. */
export function notOurs(
  owner: OwnerMetadata | undefined, key: string, domainName: string, identity: Identity, declared: boolean,
): { reason: string; message: string } | undefined {
  const { namespace, name } = parseResourceKey(key);
  const ownership = ownershipOf(owner, namespace, name, identity, declared);
  if (ownership.kind === 'ours') return undefined;
  if (ownership.kind === 'elsewhere') {
    return { reason: 'DomainOwnedElsewhere', message: `domain ${domainName} belongs to the wimaxvm controller ${ownership.controller}; this controller (${identity.self}) leaves it alone (see README: taking over from a controller that is gone)` };
  }
  return { reason: 'DomainNameTaken', message: `a libvirt domain named ${domainName} exists and does not belong to this resource; wimaxvm leaves it alone` };
}
