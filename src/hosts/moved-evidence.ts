// When a moved VM's definition may leave its old host (the deletion gate's decideMigrated):
// only when the new host holds a persistent domain of the same uuid and nothing of it still
// runs, or is saved, at the old one. So a move never leaves zero definitions (the destination's
// is seen before the source's goes) and never two running guests (an active source blocks it).
import type { DomainState } from '../ports/hypervisor.js';

export interface MoveSide {
  host: string;
  uri: string;
  /** The domain of that name on the host, as just looked up (undefined: none). */
  domain?: { uuid: string; state: DomainState; persistent: boolean; saved?: boolean } | undefined;
}

export interface MoveSides {
  /** The VM is still declared (a VM no longer declared is deleted, not moved). */
  declared: boolean;
  from: MoveSide;
  to: MoveSide;
}

const INACTIVE: ReadonlySet<DomainState> = new Set(['shutoff', 'nostate']);

export function movedEvidence(name: string, { declared, from, to }: MoveSides): { evidence: string } | { why: string } {
  if (!declared) return { why: `${name} is not declared any more: removing it is a deletion, not a move` };
  if (from.uri === to.uri) return { why: `${from.host} and ${to.host} are the same libvirt URI` };
  if (!from.domain) return { why: `${from.host} holds no domain ${name}: nothing to remove` };
  if (!to.domain) return { why: `${to.host} holds no domain ${name}: the source's definition is the only one` };
  if (to.domain.uuid !== from.domain.uuid) return { why: `${to.host}'s ${name} has uuid ${to.domain.uuid}, ${from.host}'s ${from.domain.uuid}: not the same guest` };
  if (!to.domain.persistent) return { why: `${to.host}'s ${name} is not persistent (it would vanish when it stops)` };
  if (!INACTIVE.has(from.domain.state)) return { why: `${name} is still ${from.domain.state} on ${from.host}` };
  if (from.domain.saved) return { why: `${name} has a saved state on ${from.host} that removing it would lose` };
  return { evidence: `${to.host} holds ${name} (uuid ${to.domain.uuid}, ${to.domain.state}, persistent); ${from.host}'s copy is ${from.domain.state}` };
}
