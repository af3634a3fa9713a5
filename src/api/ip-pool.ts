// The IPPool kind: IPv4 addresses VMs of its namespace are given from (spec.network.ipPool),
// with the gateway and DNS their guests are told. Written by hand or by `wimaxvm pool import`
// from a Nimbus pool file (its entries become `hosts`).
import { resourceKey, type Condition, type Resource, type ResourceKey } from './meta.js';

export const IPPOOL_KIND = 'IPPool';

export interface IPPoolHost {
  ip: string;
  /** The name the guest is given with this address (Nimbus's first column). */
  hostname?: string;
  /** Only the VM with this MAC gets this address. */
  mac?: string;
}

export interface IPPoolSpec {
  /** The subnet, e.g. 192.168.0.0/24: its prefix length is the guests'. */
  cidr: string;
  gateway?: string;
  dns?: string[];
  /** Addresses offered, "A" or "A-B", inside cidr; with neither ranges nor hosts: all of cidr. */
  ranges?: string[];
  /** Never handed out ("A" or "A-B"); the network, broadcast and gateway addresses never are either. */
  exclude?: string[];
  /** Nimbus pool-file entries: offered too, each with its hostname (and MAC, if it names one). */
  hosts?: IPPoolHost[];
}

export interface IPPoolStatus {
  observedGeneration: number;
  /** Addresses the pool offers. */
  size: number;
  /** Addresses held by VMs (also those outside what the pool offers now: see the OutsidePool condition). */
  allocated: number;
  free: number;
  conditions: Condition[];
}

export type IPPool = Resource<IPPoolSpec, IPPoolStatus>;

export function ipPoolKey(namespace: string, name: string): ResourceKey {
  return resourceKey(IPPOOL_KIND, namespace, name);
}
