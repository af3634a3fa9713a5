// The declaration that matches a domain someone else defined, and wimaxvm's claim on it (owner
// metadata marked adopted), or the one reason it cannot be adopted. Pure: what the domain is
// (its XML, state, the real paths of its disks, its switch port's tag) is found by the caller.
import { XMLParser } from 'fast-xml-parser';
import { domainNameFor, resourceNameForDomain, VM_KIND, type RunStrategy, type VirtualMachineSpec } from '../api/virtual-machine.js';
import type { NewResource } from '../ports/desired-state-writer.js';
import type { DomainState } from '../ports/hypervisor.js';
import { parseDomainXml, type OwnerMetadata } from '../reconcilers/virtual-machine/domain-xml.js';
import { domainNameProblem } from '../reconcilers/virtual-machine/domain-name.js';
import { adoptionFingerprint } from './fingerprint.js';

export interface DomainFindings {
  domainName: string;
  uuid: string;
  state: DomainState;
  /** The persistent definition (what the domain is when it next starts). */
  persistentXml: string;
  /** The image directory, real path. */
  imageDir: string;
  /** Each file disk's source as written → its real path (symlinks resolved); absent when it does not exist. */
  realPaths: Record<string, string | undefined>;
  /** The access tag of the guest's switch port (Open vSwitch), when it has one. */
  portTag?: number;
}

export interface AdoptOptions {
  /** Where to declare it; default: from the domain name (namespace_name, else default). */
  namespace?: string;
  /** Default: Always for an active domain, Halted for one that is off. */
  runStrategy?: RunStrategy;
  /** The identity of the controller that will manage it (file mode); absent: the first controller that declares it. */
  controller?: string;
}

export type Adoption =
  | { ok: true; declaration: Omit<NewResource, 'spec'> & { spec: VirtualMachineSpec }; owner: OwnerMetadata }
  /** alreadyManaged: the domain is a wimaxvm VM already (initvms passes over it quietly). */
  | { ok: false; reason: string; alreadyManaged?: boolean };

const parser = new XMLParser({
  ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text', parseTagValue: false, parseAttributeValue: false,
  isArray: (n) => ['disk', 'interface', 'filesystem', 'hostdev', 'redirdev', 'smartcard'].includes(n),
});
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KIB: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, KiB: 1, k: 1, K: 1, MiB: 1024, M: 1024, m: 1024, GiB: 1024 ** 2, G: 1024 ** 2, g: 1024 ** 2, TiB: 1024 ** 3, T: 1024 ** 3 };

class Refusal extends Error {
  constructor(reason: string, readonly alreadyManaged = false) { super(reason); }
}
const refuse = (reason: string, alreadyManaged = false): never => { throw new Refusal(reason, alreadyManaged); };
const text = (node: any): string | undefined => (node === undefined || node === null ? undefined : typeof node === 'object' ? node['#text'] : String(node));

export function adoptionOf(found: DomainFindings, opts: AdoptOptions = {}): Adoption {
  try {
    return adopt(found, opts);
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.message, ...(err.alreadyManaged ? { alreadyManaged: true } : {}) };
    throw err;
  }
}

function adopt(found: DomainFindings, opts: AdoptOptions): Adoption {
  const { domainName } = found;
  const owner = parseDomainXml(found.persistentXml).owner;
  if (owner) refuse(`already a wimaxvm VM (${owner.namespace}/${owner.name}${owner.controller ? `, controller ${owner.controller}` : owner.adopted ? ', adopted, not declared yet' : ''})`, true);
  const { namespace, name } = nameFor(domainName, opts.namespace);
  const d = (parser.parse(found.persistentXml) as { domain?: Record<string, any> }).domain ?? refuse('not a libvirt domain definition');
  const devices = d.devices ?? {};
  const spec: VirtualMachineSpec = {
    runStrategy: opts.runStrategy ?? (found.state === 'shutoff' ? 'Halted' : 'Always'),
    memory: memoryOf(d.memory),
    vcpus: vcpusOf(d.vcpu),
  };
  for (const kind of ['filesystem', 'hostdev', 'redirdev', 'smartcard']) {
    if (devices[kind]?.length) refuse(`it has a ${kind} device, which a VirtualMachine cannot declare`);
  }
  const disks = disksOf(devices.disk ?? [], found);
  if (disks.length) spec.disks = disks.map((image) => ({ image }));
  const nics = (devices.interface ?? []) as Record<string, any>[];
  if (nics.length > 1) refuse(`it has ${nics.length} network interfaces; a VirtualMachine declares one`);
  const mac = nics[0] ? String(nics[0].mac?.['@address'] ?? '').toLowerCase() : '';
  if (nics[0] && !mac) refuse('its network interface has no MAC address');
  const vlan = found.portTag ?? (nics[0]?.vlan?.tag?.['@id'] !== undefined ? Number(nics[0].vlan.tag['@id']) : undefined);
  if (vlan !== undefined && (vlan < 2 || vlan > 4094)) refuse(`its VLAN ${vlan} is outside 2-4094, which slices use`);
  if (mac || vlan !== undefined) spec.network = { ...(mac ? { mac } : {}), ...(vlan !== undefined ? { vlan } : {}) };

  const declaration = { apiVersion: 'wimaxvm.io/v1alpha1', kind: VM_KIND, metadata: { name, namespace }, spec };
  return {
    ok: true,
    declaration,
    owner: {
      // The resource's uid is not known yet: the controller writes it (with its identity) when it takes the domain.
      uid: `adopted-${found.uuid}`, namespace, name, generation: 0, specHash: adoptionFingerprint(spec), mac,
      ...(vlan !== undefined ? { vlan } : {}), ...(opts.controller !== undefined ? { controller: opts.controller } : {}),
      // It ran: a Once or RerunOnFailure declaration must not start it again as if it never had.
      ...(found.state !== 'shutoff' ? { startedOnce: true } : {}),
      adopted: true,
    },
  };
}

function nameFor(domainName: string, namespace: string | undefined): { namespace: string; name: string } {
  const problem = domainNameProblem(domainName);
  if (problem) refuse(problem);
  const derived = resourceNameForDomain(domainName);
  const ns = namespace ?? derived.namespace;
  const name = namespace === undefined || namespace === derived.namespace ? derived.name : domainName;
  if (!NAMESPACE.test(ns)) refuse(`namespace ${JSON.stringify(ns)} is not a valid Kubernetes namespace name`);
  if (!NAME.test(name) || name.length > 253) {
    refuse(`${JSON.stringify(name)} is not a valid resource name (lower-case letters, digits, '-' and '.'); wimaxvm names the domain after the resource and never renames a domain`);
  }
  if (domainNameFor(ns, name) !== domainName) {
    refuse(`in namespace ${ns} the VM ${name} would be the domain ${domainNameFor(ns, name)}, not ${domainName}, and adopting never renames a domain (omit --namespace, or rename it with virsh domrename first)`);
  }
  return { namespace: ns, name };
}

function memoryOf(memory: any): string {
  const value = Number(text(memory));
  const kib = value * (KIB[memory?.['@unit'] ?? 'KiB'] ?? NaN);
  if (!Number.isFinite(kib) || kib <= 0) refuse(`its memory (${JSON.stringify(text(memory))} ${memory?.['@unit'] ?? ''}) cannot be read`);
  return kib % 1024 === 0 ? `${kib / 1024}Mi` : `${Math.ceil(kib)}Ki`;
}

function vcpusOf(vcpu: any): number {
  const max = Number(text(vcpu));
  const current = vcpu?.['@current'] !== undefined ? Number(vcpu['@current']) : max;
  if (!Number.isInteger(max) || max < 1) refuse(`its vCPU count (${JSON.stringify(text(vcpu))}) cannot be read`);
  if (current !== max) refuse(`it runs ${current} of at most ${max} vCPUs, which a VirtualMachine cannot declare yet`);
  return max;
}

/** Image names (relative to the image directory) of the domain's disks; CD-ROMs and floppies without media are left out. */
function disksOf(disks: Record<string, any>[], found: DomainFindings): string[] {
  const images: string[] = [];
  for (const disk of disks) {
    const device = disk['@device'] ?? 'disk';
    const source = disk.source?.['@file'] ?? disk.source?.['@dev'] ?? disk.source?.['@name'] ?? disk.source?.['@volume'];
    if (device !== 'disk') {
      if (source === undefined) continue;
      refuse(`its ${device} has media (${source}), which a VirtualMachine cannot declare; eject it first`);
    }
    if ((disk['@type'] ?? 'file') !== 'file') refuse(`its disk ${source ?? ''} is of type ${disk['@type']}; only files in the image directory can be declared`);
    if (!source) refuse('it has a disk without a source file');
    const real = found.realPaths[source];
    if (real === undefined) refuse(`its disk ${source} does not exist`);
    const image = insideDir(found.imageDir, real!);
    if (image === undefined) {
      refuse(`its disk ${source}${real !== source ? ` (${real})` : ''} is outside the image directory ${found.imageDir}; move it there, or run the controller with --image-dir naming its directory`);
    }
    images.push(image!);
  }
  return images;
}

function insideDir(dir: string, path: string): string | undefined {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  if (!path.startsWith(base)) return undefined;
  const rest = path.slice(base.length);
  return rest && !rest.split('/').includes('..') ? rest : undefined;
}
