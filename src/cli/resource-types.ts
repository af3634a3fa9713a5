// The resource types the CLI knows, by the names kubectl accepts for them: kind, singular,
// plural and the CRDs' short names (crds/*.yaml), plus the CLI's own `vm`/`vms`.
import { KINDS } from '../api/kinds.js';
import { IPPOOL_KIND } from '../api/ip-pool.js';
import { HYPERVISOR_KIND, HYPERVISOR_PLURAL } from '../api/hypervisor.js';
import { SHAPING_POLICY_KIND } from '../api/shaping-policy.js';
import { VM_KIND } from '../api/virtual-machine.js';
import { CLIENT_KIND } from '../api/wimax-client.js';
import { UsageError } from './usage.js';

export interface ResourceType {
  kind: string;
  /** What kubectl's `api-resources` calls NAME: the plural. */
  plural: string;
  shortNames: string[];
  /** Further names the CLI has always taken. */
  aliases: string[];
}

const SHORT_NAMES: Record<string, string[]> = { [VM_KIND]: ['wvm'], [CLIENT_KIND]: ['wxc'], [SHAPING_POLICY_KIND]: ['wsp'], [IPPOOL_KIND]: ['ipp'] };
const ALIASES: Record<string, string[]> = { [VM_KIND]: ['vm', 'vms'], [CLIENT_KIND]: ['clients'], [SHAPING_POLICY_KIND]: [], [IPPOOL_KIND]: ['pools'] };

export const RESOURCE_TYPES: ResourceType[] = [
  ...KINDS.map(({ kind, plural }) => ({ kind, plural, shortNames: SHORT_NAMES[kind] ?? [], aliases: ALIASES[kind] ?? [] })),
  // Cluster-scoped, kept by its own part of the controller (src/hosts/), not among KINDS.
  { kind: HYPERVISOR_KIND, plural: HYPERVISOR_PLURAL, shortNames: ['hv'], aliases: [] },
];

/** Every name of every type (lower case), e.g. for shell completion. */
export function typeNames(type: ResourceType): string[] {
  return [type.plural, type.kind.toLowerCase(), ...type.shortNames, ...type.aliases];
}

export function resourceType(kind: string): ResourceType {
  return RESOURCE_TYPES.find((t) => t.kind === kind)!;
}

/** kubectl's own hint when it is given no type: the list, one per line with its short names. */
export function knownTypesText(): string {
  return RESOURCE_TYPES.map((t) => `  * ${t.plural}${t.shortNames.length ? ` (aka '${t.shortNames.join("', '")}')` : ''}`).join('\n');
}

/** The kind a user's name for a type means; a usage error naming the known ones otherwise. */
export function kindArg(name: string | undefined): string {
  const lower = name?.toLowerCase();
  const type = RESOURCE_TYPES.find((t) => lower !== undefined && typeNames(t).includes(lower));
  if (!type) {
    const known = RESOURCE_TYPES.map((t) => `${t.plural} (${[...t.shortNames, ...t.aliases].join(', ')})`.replace(' ()', '')).join(', ');
    throw new UsageError(`unknown resource type ${JSON.stringify(name ?? '')}; known: ${known}`);
  }
  return type.kind;
}

export function plural(kind: string): string {
  return resourceType(kind)?.plural ?? kind.toLowerCase() + 's';
}
