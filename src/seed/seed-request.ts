// Whether a VirtualMachine gets a seed, and what goes into it. A seed exists when the spec asks
// for cloud-init (spec.cloudInit) or when the VM has an address to configure (its pool's: see
// src/pools/guest-address.ts): a guest on an OVS slice has no DHCP server of wimaxvm's, so a
// pooled address reaches it only through the seed. Without either, the domain stays as it was:
// no CD-ROM appears in VMs that never asked. Pure.
import type { VirtualMachine } from '../api/virtual-machine.js';
import type { SeedAddress } from './network-config.js';
import type { SeedRequest } from './nocloud-seed.js';

/** One label of a host name (RFC 1123), and a whole one: what the CRD's pattern allows. */
const HOSTNAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
/** Linux's HOST_NAME_MAX. */
const HOSTNAME_MAX = 64;

/** The spec cannot make a seed (a default hostname that is not one): the user must act. */
export class SeedSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedSpecError';
  }
}

/** The seed `vm` asks for, or undefined when it needs none. */
export function seedRequestFor(vm: VirtualMachine, domainName: string, mac: string, address: SeedAddress | undefined): SeedRequest | undefined {
  const cloudInit = vm.spec.cloudInit;
  if (!cloudInit && !address) return undefined;
  const hostname = cloudInit?.hostname ?? vm.metadata.name;
  if (hostname.length > HOSTNAME_MAX || !HOSTNAME.test(hostname)) {
    const from = cloudInit?.hostname !== undefined ? 'spec.cloudInit.hostname' : `the VM's name (the default hostname)`;
    throw new SeedSpecError(`${from} ${JSON.stringify(hostname)} is not a host name (lower-case RFC 1123 labels, at most ${HOSTNAME_MAX} characters): set spec.cloudInit.hostname`);
  }
  return {
    domainName, hostname, mac,
    sshAuthorizedKeys: cloudInit?.sshAuthorizedKeys ?? [],
    ...(cloudInit?.userData !== undefined ? { userData: cloudInit.userData } : {}),
    ...(address ? { address } : {}),
  };
}
