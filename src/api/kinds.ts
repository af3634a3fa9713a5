// The kinds wimaxvm serves, with their REST names (as in crds/).
import { GROUP, VERSION } from './meta.js';

export interface KindInfo {
  kind: string;
  plural: string;
  group: string;
  version: string;
  /** Whether the controller writes its status. */
  hasStatus: boolean;
  /** false: deleted objects go at once (nothing of theirs to clean up); otherwise those with status wait for our finalizer. */
  finalizer?: false;
}

export const KINDS: KindInfo[] = [
  { kind: 'VirtualMachine', plural: 'virtualmachines', group: GROUP, version: VERSION, hasStatus: true },
  { kind: 'WimaxClient', plural: 'wimaxclients', group: GROUP, version: VERSION, hasStatus: true },
  { kind: 'ShapingPolicy', plural: 'shapingpolicies', group: GROUP, version: VERSION, hasStatus: false },
  // A pool's addresses are claimed per VM (ports/ip-claims.ts): deleting the pool frees none.
  { kind: 'IPPool', plural: 'ippools', group: GROUP, version: VERSION, hasStatus: true, finalizer: false },
];

export function kindInfo(kind: string): KindInfo {
  const info = KINDS.find((k) => k.kind === kind);
  if (!info) throw new Error(`unknown kind ${kind}`);
  return info;
}

/** The finalizer that keeps a resource until its domain, overlay, flows and VLAN are cleaned up. */
export const FINALIZER = 'wimaxvm.io/cleanup';
