// The seed's network-config: cloud-init's network config version 2 (netplan's format, the
// subset cloud-init reads), one ethernet matched by its MAC so that it holds whatever name the
// guest's kernel gives the NIC. Pure.
import { stringify } from 'yaml';

/** The guest's IPv4 configuration: the pools area's GuestAddress (src/pools/guest-address.ts). */
export interface SeedAddress {
  address: string;
  prefixLength: number;
  gateway?: string;
  dns?: string[];
}

/** YAML 1.1 as cloud-init's PyYAML reads it: a MAC of digits only (52:52:...) is a base-60 number there unless quoted. */
export const YAML_1_1 = { version: '1.1' as const, lineWidth: 0 };

export function networkConfigV2(mac: string, address: SeedAddress): string {
  const nic: Record<string, unknown> = {
    match: { macaddress: mac.toLowerCase() },
    addresses: [`${address.address}/${address.prefixLength}`],
  };
  // 0.0.0.0/0 rather than `default`: older cloud-init releases know only the former.
  if (address.gateway) nic.routes = [{ to: '0.0.0.0/0', via: address.gateway }];
  if (address.dns?.length) nic.nameservers = { addresses: address.dns };
  return stringify({ version: 2, ethernets: { nic0: nic } }, YAML_1_1);
}
