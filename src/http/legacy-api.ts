// The OMF aggregate manager's "wimaxvm" service group (../shared/seeds/000_81e3503b222c4a32.txt),
// served so that old experiment scripts work unchanged: same services, same query parameters,
// same text answers. Every write is a change of desired state (DesiredStateWriter), never a
// libvirt call; the answer comes once the controller has acted (or says it is still on its way).
import { resourceKey, type ResourceKey } from '../api/meta.js';
import { SHAPING_POLICY_KIND, SHAPING_POLICY_NAME } from '../api/shaping-policy.js';
import { API_VERSION } from '../api/meta.js';
import { domainNameFor, VM_KIND, type VirtualMachine, type VirtualMachineStatus } from '../api/virtual-machine.js';
import { CLIENT_KIND, type WimaxClient, type WimaxClientStatus } from '../api/wimax-client.js';
import { canonicalMac } from '../allocators/mac-allocator.js';
import { vmlistLine } from '../cli/legacy-format.js';
import { upsertDeclaration, type DesiredStateWriter, type FieldChange, type NewResource } from '../ports/desired-state-writer.js';
import { DesiredStateError, httpStatusOf } from '../ports/desired-state-writer.js';
import type { Hypervisor } from '../ports/hypervisor.js';
import { domainNameProblem } from '../reconcilers/virtual-machine/domain-name.js';

export interface LegacyResponse {
  status: number;
  body: string;
  contentType?: string;
}

/** What the legacy API reads: declared resources with their last status. */
export interface LegacyReader {
  get<T>(key: ResourceKey): T | undefined;
  list<T>(kind: string, namespace: string): T[];
}

export interface LegacyApiDeps {
  /** Edits are applied one at a time (two edits of one file must not interleave). */
  writer: DesiredStateWriter;
  reader: LegacyReader;
  hypervisor: Hypervisor;
  /** The namespace old scripts' names live in. */
  namespace: string;
  /** How long a write waits for the controller to have acted before answering. */
  waitMs: number;
}

/** The service group description, as the old service answered /wimaxvm. */
export const SERVICE_DESCRIPTION = `<?xml version='1.0'?>
<services><serviceGroup name='wimaxvm' prefix='/wimaxvm'><info>Service to control virtual machines</info><service name='addclient'><info>Service to Add a wimax client</info><args><arg name='clientmac' isRequired='true' value='clientmac'><info>MAC address of the client</info></arg><arg name='vmname' isRequired='true' value='vmname'><info>Name of the virtual machine</info></arg></args></service><service name='create'><info>Service to create a VM</info><args><arg name='mac' isRequired='true' value='mac'><info>MAC address of the vm</info></arg><arg name='ip' isRequired='true' value='ip'><info>IP address of the vm</info></arg><arg name='vmname' isRequired='true' value='vmname'><info>Name of the virtual machine</info></arg></args></service><service name='initvms'/><service name='start'><info>Service to start a VM</info><args><arg name='vmname' isRequired='true' value='vmname'><info>Name of the virtual machine</info></arg></args></service><service name='startshaping'><info>Service to start vnts controller</info></service><service name='stop'><info>Service to stop a VM</info><args><arg name='vmname' isRequired='true' value='vmname'><info>Name of the virtual machine</info></arg></args></service><service name='stopshaping'><info>Stop shaping script</info></service><service name='vmlist'><info>List all  VMs</info></service><service name='vmstat'><info>Service to query info from a VM</info><args><arg name='vmname' isRequired='true' value='vmname'><info>Name of the virtual machine</info></arg></args></service></serviceGroup></services>
`;

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAC_RE = /^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$/;
const IP_RE = /^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** Services that change desired state (and need the token when one is set). */
export const WRITE_SERVICES = new Set(['addclient', 'create', 'start', 'stop', 'startshaping', 'stopshaping']);
const SERVICES = new Set([...WRITE_SERVICES, 'initvms', 'vmlist', 'vmstat']);

class BadRequest extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

function text(status: number, body: string): LegacyResponse {
  return { status, body: body.endsWith('\n') ? body : body + '\n', contentType: 'text/plain; charset=utf-8' };
}

function param(query: URLSearchParams, name: string, re: RegExp, what: string): string {
  const values = query.getAll(name);
  if (values.length === 0 || values[0] === '') throw new BadRequest(`missing parameter ${name} (${what})`);
  if (values.length > 1) throw new BadRequest(`parameter ${name} given ${values.length} times`);
  const value = values[0]!;
  if (value.length > 253 || !re.test(value)) throw new BadRequest(`invalid ${name}: expected ${what}`);
  return value;
}

/** kstatus Stalled: the controller cannot get further without the user. */
function stalled(status: VirtualMachineStatus): boolean {
  return status.conditions.some((c) => c.type === 'Stalled' && c.status === 'True');
}

export class LegacyApi {
  private readonly deps: LegacyApiDeps;
  private editChain: Promise<unknown> = Promise.resolve();

  constructor(deps: LegacyApiDeps) {
    // Only the edits are serialized, not the waits for the controller that follow them.
    const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
      const next = this.editChain.then(fn, fn);
      this.editChain = next.catch(() => undefined);
      return next;
    };
    const writer: DesiredStateWriter = {
      create: (o) => serialize(() => deps.writer.create(o)),
      patch: (k, c) => serialize(() => deps.writer.patch(k, c)),
      remove: (k) => serialize(() => deps.writer.remove(k)),
    };
    this.deps = { ...deps, writer };
  }

  isService(name: string): boolean {
    return SERVICES.has(name);
  }

  async handle(service: string, query: URLSearchParams): Promise<LegacyResponse> {
    try {
      switch (service) {
        case '': return { status: 200, body: SERVICE_DESCRIPTION, contentType: 'text/xml; charset=utf-8' };
        case 'vmlist': case 'initvms': return text(200, this.vmlist());
        case 'vmstat': return await this.vmstat(param(query, 'vmname', NAME_RE, 'a VM name'));
        case 'create': return await this.create(param(query, 'vmname', NAME_RE, 'a VM name'), param(query, 'mac', MAC_RE, 'a unicast MAC like 52:54:00:12:34:56'), param(query, 'ip', IP_RE, 'an IPv4 address'));
        case 'start': return await this.power(param(query, 'vmname', NAME_RE, 'a VM name'), 'Always');
        case 'stop': return await this.power(param(query, 'vmname', NAME_RE, 'a VM name'), 'Halted');
        case 'addclient': return await this.addClient(param(query, 'clientmac', MAC_RE, 'a unicast MAC like 00:11:22:33:44:55'), param(query, 'vmname', NAME_RE, 'a VM name'));
        case 'startshaping': return await this.shaping(true);
        case 'stopshaping': return await this.shaping(false);
        default: return text(404, `unknown service ${service}; see /wimaxvm for the list`);
      }
    } catch (err) {
      if (err instanceof BadRequest) return text(err.status, err.message);
      if (err instanceof DesiredStateError) return text(httpStatusOf(err), err.message);
      throw err;
    }
  }

  private vmKey(name: string): ResourceKey {
    return resourceKey(VM_KIND, this.deps.namespace, name);
  }

  private vm(name: string): VirtualMachine {
    const vm = this.deps.reader.get<VirtualMachine>(this.vmKey(name));
    if (!vm) throw new BadRequest(`Domain ${name} not found`, 404);
    return vm;
  }

  private vmlist(): string {
    return this.deps.reader.list<VirtualMachine>(VM_KIND, this.deps.namespace).map((vm) => vmlistLine(vm) + '\n').join('');
  }

  private async vmstat(name: string): Promise<LegacyResponse> {
    this.vm(name);
    const domain = await this.deps.hypervisor.getDomain(domainNameFor(this.deps.namespace, name));
    if (!domain) throw new BadRequest(`Domain ${name} is declared but not defined yet`, 404);
    return { status: 200, body: domain.liveXml ?? domain.persistentXml, contentType: 'text/xml; charset=utf-8' };
  }

  private async create(name: string, mac: string, ip: string): Promise<LegacyResponse> {
    const nameProblem = domainNameProblem(domainNameFor(this.deps.namespace, name));
    if (nameProblem) throw new BadRequest(`invalid vmname: ${nameProblem}`);
    // Defined, not started: the old service's create; start runs it.
    await this.deps.writer.create({
      apiVersion: API_VERSION, kind: VM_KIND, metadata: { name, namespace: this.deps.namespace },
      spec: { runStrategy: 'Halted', network: { mac: canonicalMac(mac), ip } },
    });
    const status = await this.waitFor<VirtualMachineStatus>(this.vmKey(name), (s) => s.printableStatus === 'Stopped' || s.printableStatus === 'Failed' || s.printableStatus === 'Pending');
    if (status?.printableStatus === 'Stopped') return text(200, `Domain ${name} created with vlan tag ${status.allocations.vlan ?? 'none'}`);
    return text(202, `Domain ${name} declared; ${this.why(status)}`);
  }

  private async power(name: string, runStrategy: 'Always' | 'Halted'): Promise<LegacyResponse> {
    const vm = this.vm(name);
    const changes: { path: string[]; value: unknown }[] = [];
    if (vm.spec.runStrategy !== runStrategy) changes.push({ path: ['spec', 'runStrategy'], value: runStrategy });
    // start is virsh start: a paused guest is resumed, a saved one restored.
    if (runStrategy === 'Always' && vm.spec.powerState !== undefined && vm.spec.powerState !== 'Running') changes.push({ path: ['spec', 'powerState'], value: 'Running' });
    if (changes.length) await this.deps.writer.patch(this.vmKey(name), changes);
    // A saved guest is stopped too (its memory stays on disk until it is started again).
    const wanted = (st: VirtualMachineStatus) => (runStrategy === 'Always' ? st.printableStatus === 'Running' : st.printableStatus === 'Stopped' || st.printableStatus === 'Saved');
    const generation = vm.metadata.generation + (changes.length ? 1 : 0);
    const current = (st: VirtualMachineStatus) => st.observedGeneration >= generation;
    // Stuck on something only the user can fix (Failed, a crash loop, a VLAN conflict): say so at once rather than wait.
    const status = await this.waitFor<VirtualMachineStatus>(this.vmKey(name), (st) => current(st) && (wanted(st) || stalled(st)));
    const verb = runStrategy === 'Always' ? 'start' : 'stop';
    if (status && current(status) && !wanted(status) && stalled(status)) return text(409, `Domain ${name} cannot ${verb}: ${this.why(status)}`);
    if (!status || !wanted(status)) return text(202, `Domain ${name} asked to ${verb}; ${this.why(status)}`);
    // The old service's answers, two spaces and all.
    return text(200, runStrategy === 'Always' ? `Domain ${name} started  with vlan tag ${status.allocations.vlan ?? 'none'}` : `Domain ${name} destroyed`);
  }

  private async addClient(mac: string, vmName: string): Promise<LegacyResponse> {
    this.vm(vmName);
    const canonical = canonicalMac(mac);
    const existing = this.deps.reader.list<WimaxClient>(CLIENT_KIND, this.deps.namespace).find((c) => canonicalMac(c.spec.mac) === canonical);
    const name = existing?.metadata.name ?? `wxc-${canonical.replace(/:/g, '')}`;
    const key = resourceKey(CLIENT_KIND, this.deps.namespace, name);
    if (existing?.spec.vmName !== vmName) {
      await this.upsert({ apiVersion: API_VERSION, kind: CLIENT_KIND, metadata: { name, namespace: this.deps.namespace }, spec: { mac: canonical, vmName } }, [{ path: ['spec', 'vmName'], value: vmName }]);
    }
    const status = await this.waitFor<WimaxClientStatus>(key, (s) => s.vmName === vmName && s.printableStatus !== undefined);
    if (status?.printableStatus === 'Bound') return text(200, `Client ${canonical} added to ${vmName} with vlan tag ${status.vlan}`);
    return text(202, `Client ${canonical} declared for ${vmName}; ${status ? `${status.printableStatus}: ${status.conditions[0]?.message ?? ''}` : 'the controller has not looked at it yet'}`);
  }

  private async shaping(enabled: boolean): Promise<LegacyResponse> {
    await this.upsert(
      { apiVersion: API_VERSION, kind: SHAPING_POLICY_KIND, metadata: { name: SHAPING_POLICY_NAME, namespace: this.deps.namespace }, spec: { enabled } },
      [{ path: ['spec', 'enabled'], value: enabled }],
    );
    return text(200, enabled ? 'Shaping started' : 'Shaping stopped');
  }

  private async upsert(object: NewResource, changes: FieldChange[]): Promise<void> {
    const key = resourceKey(object.kind, object.metadata.namespace ?? this.deps.namespace, object.metadata.name);
    await upsertDeclaration(this.deps.writer, key, object, changes);
  }

  private why(status: VirtualMachineStatus | undefined): string {
    if (!status) return 'the controller has not looked at it yet';
    const ready = status.conditions.find((c) => c.type === 'Ready');
    return `it is ${status.printableStatus}${ready ? `: ${ready.message}` : ''}`;
  }

  /** Polls the status until `done` or the wait is over; the last status either way. */
  private async waitFor<S>(key: ResourceKey, done: (s: S) => boolean): Promise<S | undefined> {
    const deadline = Date.now() + this.deps.waitMs;
    for (;;) {
      const status = (this.deps.reader.get<{ status?: S }>(key))?.status;
      if (status && done(status)) return status;
      if (Date.now() >= deadline) return status;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
