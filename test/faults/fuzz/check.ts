// One fuzz case through the code a watched file goes through: the manifest parser and schema
// validation (parseManifests, as the directory source calls it), then, for every VirtualMachine
// that validates, the reconciler's planning and its domain XML (VirtualMachineReconciler over
// in-memory ports, on an OVS NIC so VLANs and port names are planned too). Returns what broke.
import { VlanAllocator } from '../../../src/allocators/vlan-allocator.js';
import { MacAllocator } from '../../../src/allocators/mac-allocator.js';
import type { Resource } from '../../../src/api/meta.js';
import { domainNameFor, VM_KIND, type VirtualMachine } from '../../../src/api/virtual-machine.js';
import { DeletionGate } from '../../../src/core/deletion-gate.js';
import { DesiredStore } from '../../../src/core/desired-store.js';
import { silentLogger } from '../../../src/core/logger.js';
import { parseDomainXml } from '../../../src/reconcilers/virtual-machine/domain-xml.js';
import { VirtualMachineReconciler } from '../../../src/reconcilers/virtual-machine/reconciler.js';
import { formatManifestError, parseManifests } from '../../../src/sources/manifest-parser.js';
import { FakeDiskImages } from '../../fakes/fake-disk-images.js';
import { FakeEventRecorder } from '../../fakes/fake-event-recorder.js';
import { FakeHypervisor } from '../../fakes/fake-hypervisor.js';
import { FakeStatusStore } from '../../fakes/fake-status-store.js';
import { FakeWitness, TEST_IDENTITY } from '../../fakes/fake-witness.js';

export interface CaseOutcome {
  problems: string[];
  resources: number;
  errors: number;
  /** How long parsing took (reported, never asserted: the machine is shared). */
  parseMs: number;
}

const describeError = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : String(err).slice(0, 300));

export async function checkCase(text: string, file: string): Promise<CaseOutcome> {
  const problems: string[] = [];
  const started = performance.now();
  let parsed: ReturnType<typeof parseManifests>;
  try {
    parsed = parseManifests(text, file);
  } catch (err) {
    return { problems: [`the parser threw: ${describeError(err)}`], resources: 0, errors: 0, parseMs: performance.now() - started };
  }
  const parseMs = performance.now() - started;
  const lineCount = text.split('\n').length;
  for (const e of parsed.errors) {
    if (e.file !== file) problems.push(`an error names ${JSON.stringify(e.file)}, not the file`);
    if (!Number.isInteger(e.line) || e.line < 1 || e.line > lineCount + 1) problems.push(`an error has line ${e.line} (the file has ${lineCount})`);
    if (typeof e.message !== 'string' || !e.message.trim()) problems.push('an error without a message');
    if (!formatManifestError(e).startsWith(`${file}:${e.line}: `)) problems.push('formatManifestError lost the file and line');
  }
  const vms = parsed.resources.filter((r) => r.resource.kind === VM_KIND);
  for (const vm of vms) problems.push(...await planOne(vm.resource as unknown as Resource<VirtualMachine['spec'], unknown>));
  return { problems, resources: parsed.resources.length, errors: parsed.errors.length, parseMs };
}

/** The reconciler's first pass over one valid VM: it must not throw, and its domain must say what the spec says. */
async function planOne(declared: Resource<VirtualMachine['spec'], unknown>): Promise<string[]> {
  const problems: string[] = [];
  const hv = new FakeHypervisor();
  const disks = new FakeDiskImages();
  const store = new DesiredStore();
  const statuses = new FakeStatusStore();
  const reconciler = new VirtualMachineReconciler({
    gate: new DeletionGate(store, () => new FakeWitness(), silentLogger), identity: TEST_IDENTITY,
    store, hypervisor: hv, disks, statuses, events: new FakeEventRecorder(), macs: new MacAllocator(), vlans: new VlanAllocator(),
    logger: silentLogger, nic: { type: 'bridge', source: 'br-fuzz', openvswitch: true }, shutdownTimeoutMs: 1000, now: () => 0,
  });
  const { name, namespace } = declared.metadata;
  const vm = { ...declared, metadata: { ...declared.metadata, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' } } as unknown as VirtualMachine;
  for (const disk of vm.spec.disks ?? []) disks.images.add(disk.image);
  const key = `${VM_KIND}/${namespace}/${name}`;
  store.set(key, vm);
  try {
    await reconciler.reconcile(key);
  } catch (err) {
    problems.push(`the reconciler threw on a valid VM: ${describeError(err)}`);
    return problems;
  }
  const domainName = domainNameFor(namespace, name);
  const domain = hv.peek(domainName);
  const status = statuses.get(key)?.status as { conditions?: { type: string; status: string; reason: string }[] } | undefined;
  if (!status) problems.push('no status written for a valid VM');
  if (!domain) {
    // Refused with a reason (image outside the directory, memory too large, ...): fine, if it says so.
    if (!status?.conditions?.some((c) => c.status === 'False')) problems.push('no domain defined and no condition saying why');
    return problems;
  }
  const parsed = parseDomainXml(domain.persistentXml);
  if (parsed.name !== domainName) problems.push(`domain XML names ${JSON.stringify(parsed.name)}, not ${JSON.stringify(domainName)}`);
  if (parsed.owner?.name !== name || parsed.owner.namespace !== namespace) problems.push(`domain metadata names ${parsed.owner?.namespace}/${parsed.owner?.name}`);
  if (parsed.facts.vcpus !== (vm.spec.vcpus ?? 1)) problems.push(`domain has ${parsed.facts.vcpus} vCPUs, spec says ${vm.spec.vcpus}`);
  if (parsed.facts.nics.length !== 1) problems.push(`domain has ${parsed.facts.nics.length} NICs`);
  if (parsed.facts.diskPaths.length !== (vm.spec.disks?.length ?? 0)) problems.push(`domain has ${parsed.facts.diskPaths.length} disks, spec ${vm.spec.disks?.length ?? 0}`);
  if (parsed.facts.diskPaths.some((p) => !p.startsWith(`${disks.overlayDir}/`) || p.split('/').includes('..'))) problems.push(`a disk outside the overlay directory: ${parsed.facts.diskPaths.join(', ')}`);
  const specMac = vm.spec.network?.mac?.toLowerCase();
  if (specMac && parsed.facts.nics[0]?.mac !== specMac) problems.push(`domain MAC ${parsed.facts.nics[0]?.mac}, spec ${specMac}`);
  const vlan = parsed.facts.nics[0]?.vlan;
  if (vlan === undefined || vlan < 2 || vlan > 4094) problems.push(`domain on OVS with VLAN ${vlan}`);
  if (vm.spec.network?.vlan !== undefined && vlan !== vm.spec.network.vlan) problems.push(`domain VLAN ${vlan}, spec ${vm.spec.network.vlan}`);
  return problems;
}
