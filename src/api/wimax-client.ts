// The WimaxClient kind: a subscriber station bound to one VM (slice).
import type { Condition, Resource } from './meta.js';
import type { Shaping } from './rate.js';

export const CLIENT_KIND = 'WimaxClient';

export interface WimaxClientSpec {
  mac: string;
  vmName: string;
  shaping?: Shaping;
}

export interface WimaxClientStatus {
  printableStatus: 'Bound' | 'Pending' | 'Conflict';
  observedGeneration: number;
  vmName: string;
  vlan?: number;
  port?: string;
  rates?: { downlinkKbps?: number; uplinkKbps?: number };
  conditions: Condition[];
}

export type WimaxClient = Resource<WimaxClientSpec, WimaxClientStatus>;
