// A VM's cloud-init NoCloud seed, as the files that go onto the volume labelled `cidata`:
// meta-data (instance-id, local-hostname), user-data (user-data.ts) and, when the VM has an
// address to configure, network-config (network-config.ts). Pure.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { networkConfigV2, YAML_1_1, type SeedAddress } from './network-config.js';
import { userData } from './user-data.js';

/** The volume label NoCloud looks for (iso9660 or vfat). */
export const SEED_LABEL = 'cidata';

export interface SeedRequest {
  domainName: string;
  hostname: string;
  /** The NIC's MAC, which network-config matches. */
  mac: string;
  sshAuthorizedKeys: string[];
  userData?: string;
  address?: SeedAddress;
}

export interface SeedFiles {
  'meta-data': string;
  'user-data': string;
  'network-config'?: string;
}

export interface NoCloudSeed {
  files: SeedFiles;
  /** A digest of every file: a new seed is built when, and only when, it changes. */
  digest: string;
}

/** Throws UserDataError when the user's userData cannot be combined with the seed's own. */
export function noCloudSeed(req: SeedRequest): NoCloudSeed {
  const user = userData({ hostname: req.hostname, sshAuthorizedKeys: req.sshAuthorizedKeys, ...(req.userData !== undefined ? { userData: req.userData } : {}) });
  const network = req.address ? networkConfigV2(req.mac, req.address) : undefined;
  // cloud-init runs its once-per-instance modules again when the instance-id changes: it does so
  // when the seed's content does, so that a changed hostname, key or address is applied on the next boot.
  const content = createHash('sha256').update(JSON.stringify([req.domainName, req.hostname, user, network ?? null])).digest('hex');
  const meta = stringify({ 'instance-id': `iid-${req.domainName}-${content.slice(0, 12)}`, 'local-hostname': req.hostname }, YAML_1_1);
  const files: SeedFiles = { 'meta-data': meta, 'user-data': user, ...(network !== undefined ? { 'network-config': network } : {}) };
  return { files, digest: createHash('sha256').update(JSON.stringify(files)).digest('hex').slice(0, 16) };
}
