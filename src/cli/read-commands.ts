// Commands that read what a controller stored (its state database) or what libvirt has.
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { DEFAULT_NAMESPACE, resourceKey, type Condition, type Resource } from '../api/meta.js';
import { domainNameFor, VM_KIND, type VirtualMachine } from '../api/virtual-machine.js';
import { CLIENT_KIND, type WimaxClient } from '../api/wimax-client.js';
import { LibvirtHypervisor } from '../adapters/libvirt-hypervisor.js';
import { DEFAULTS } from '../config.js';
import { silentLogger } from '../core/logger.js';
import { vmlistLine } from './legacy-format.js';
import { age, table } from './output.js';
import type { StateReader } from '../adapters/store/state-reader.js';
import { withStoredState } from './stored-state.js';
import { UsageError, usage } from './usage.js';

/** What a controller stored: `kind` in `namespace` (all when absent), one name when given, in name order. */
function storedObjects(reader: StateReader | undefined, kind: string, namespace?: string, name?: string): Resource<any, any>[] {
  return reader?.objects(kind, namespace, name) ?? [];
}

const READ_OPTIONS = {
  dir: { type: 'string' }, 'state-dir': { type: 'string' }, output: { type: 'string', short: 'o' }, namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' }, help: { type: 'boolean', short: 'h' },
} as const;

function help(command: string): number {
  process.stdout.write(usage(command) + '\n');
  return 0;
}

const KIND_NAMES: Record<string, string> = {
  vm: VM_KIND, vms: VM_KIND, wvm: VM_KIND, virtualmachine: VM_KIND, virtualmachines: VM_KIND,
  wxc: CLIENT_KIND, wimaxclient: CLIENT_KIND, wimaxclients: CLIENT_KIND, clients: CLIENT_KIND,
};

export function kindArg(kind: string | undefined): string {
  const resolved = kind ? KIND_NAMES[kind.toLowerCase()] : undefined;
  if (!resolved) throw new UsageError(`unknown resource type ${JSON.stringify(kind ?? '')}; known: vms (virtualmachines, wvm), wxc (wimaxclients)`);
  return resolved;
}

export function plural(kind: string): string {
  return kind.toLowerCase() + 's';
}

function ready(vm: VirtualMachine): string {
  const c = vm.status?.conditions?.find((x: Condition) => x.type === 'Ready');
  return c ? c.status : 'Unknown';
}

export function get(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: READ_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help('get');
  const [kindName, name] = positionals;
  const kind = kindArg(kindName);
  const namespace = values['all-namespaces'] ? undefined : values.namespace ?? DEFAULT_NAMESPACE;
  const output = values.output ?? '';
  if (!['', 'wide', 'yaml', 'json'].includes(output)) throw new UsageError(`-o: expected wide, yaml or json, got ${JSON.stringify(output)}`);
  const vms = withStoredState(values, (reader) => storedObjects(reader, kind, namespace, name)) as VirtualMachine[];
  if (name) {
    if (!vms.length) {
      process.stderr.write(`Error from server (NotFound): ${plural(kind)} "${name}" not found in namespace ${namespace}\n`);
      return 1;
    }
  }
  if (output === 'yaml' || output === 'json') {
    const body = name ? vms[0] : { apiVersion: 'v1', kind: 'List', items: vms };
    process.stdout.write(output === 'yaml' ? stringify(body) : JSON.stringify(body, null, 2) + '\n');
    return 0;
  }
  if (!vms.length) {
    process.stderr.write(`No resources found${namespace ? ` in ${namespace} namespace` : ''}.\n`);
    return 0;
  }
  if (kind === CLIENT_KIND) {
    process.stdout.write(clientTable(vms as unknown as WimaxClient[], namespace, output === 'wide') + '\n');
    return 0;
  }
  const wide = output === 'wide';
  const headers = [...(namespace ? [] : ['NAMESPACE']), 'NAME', 'STATUS', 'VLAN', 'MAC', 'IP', 'AGE', ...(wide ? ['READY', 'DOMAIN', 'ID', 'VNC', 'RUNSTRATEGY'] : [])];
  const rows = vms.map((vm) => {
    const s = vm.status;
    return [
      ...(namespace ? [] : [vm.metadata.namespace]),
      vm.metadata.name, s?.printableStatus ?? '', s?.allocations?.vlan !== undefined ? String(s.allocations.vlan) : '<none>',
      s?.allocations?.mac ?? '<none>', s?.allocations?.ip ?? '<none>', age(vm.metadata.creationTimestamp),
      ...(wide ? [ready(vm), s?.domain?.name ?? '<none>', s?.domain?.id !== undefined ? String(s.domain.id) : '-', s?.domain?.vncPort ? String(s.domain.vncPort) : '-', vm.spec.runStrategy] : []),
    ];
  });
  process.stdout.write(table(headers, rows) + '\n');
  return 0;
}

function clientTable(clients: WimaxClient[], namespace: string | undefined, wide: boolean): string {
  const headers = [...(namespace ? [] : ['NAMESPACE']), 'NAME', 'MAC', 'VM', 'VLAN', 'STATUS', 'AGE', ...(wide ? ['PORT', 'REASON'] : [])];
  const rows = clients.map((c) => [
    ...(namespace ? [] : [c.metadata.namespace]),
    c.metadata.name, c.spec.mac.toLowerCase(), c.spec.vmName, c.status?.vlan !== undefined ? String(c.status.vlan) : '<none>',
    c.status?.printableStatus ?? '', age(c.metadata.creationTimestamp),
    ...(wide ? [c.status?.port ?? '<none>', c.status?.conditions.find((x) => x.type === 'Ready')?.reason ?? ''] : []),
  ]);
  return table(headers, rows);
}

export function vmlist(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: READ_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help('vmlist');
  if (positionals.length) throw new UsageError('vmlist takes no arguments');
  const namespace = values['all-namespaces'] ? undefined : values.namespace ?? DEFAULT_NAMESPACE;
  const vms = withStoredState(values, (reader) => storedObjects(reader, VM_KIND, namespace)) as VirtualMachine[];
  process.stdout.write(vms.map((vm) => vmlistLine(vm) + '\n').join(''));
  return 0;
}

export function describe(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: READ_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help('describe');
  const [kindName, name] = positionals;
  const kind = kindArg(kindName);
  if (!name) throw new UsageError('describe needs a NAME');
  const namespace = values.namespace ?? DEFAULT_NAMESPACE;
  const [vm, events] = withStoredState(values, (reader) => [
    storedObjects(reader, kind, namespace, name)[0] as VirtualMachine | undefined,
    reader?.events(resourceKey(kind, namespace, name)) ?? [],
  ] as const);
  if (!vm) {
    process.stderr.write(`Error from server (NotFound): ${plural(kind)} "${name}" not found in namespace ${namespace}\n`);
    return 1;
  }
  const s = vm.status;
  const client = (vm as unknown as WimaxClient).status;
  const statusLines = kind === VM_KIND
    ? [
        `  Allocations:          mac=${s?.allocations?.mac ?? '-'} vlan=${s?.allocations?.vlan ?? '-'} ip=${s?.allocations?.ip ?? '-'} uuid=${s?.allocations?.uuid ?? '-'}`,
        `  Domain:               ${s?.domain ? `${s.domain.name} state=${s.domain.state} id=${s.domain.id ?? '-'} vnc=${s.domain.vncPort ?? '-'} port=${s.domain.port ?? '-'}` : '<none>'}`,
      ]
    : [`  Bound To:             vm=${client?.vmName ?? '-'} vlan=${client?.vlan ?? '-'} port=${client?.port ?? '-'} rates=${client?.rates ? JSON.stringify(client.rates) : '-'}`];
  const lines = [
    `Name:           ${vm.metadata.name}`,
    `Namespace:      ${vm.metadata.namespace}`,
    `UID:            ${vm.metadata.uid}`,
    `Generation:     ${vm.metadata.generation}`,
    `Source:         ${vm.metadata.annotations?.['wimaxvm.io/source'] ?? '<unknown>'}`,
    `Created:        ${vm.metadata.creationTimestamp}`,
    'Spec:',
    ...stringify(vm.spec).trimEnd().split('\n').map((l) => `  ${l}`),
    'Status:',
    `  Printable Status:     ${s?.printableStatus ?? '<none>'}`,
    `  Observed Generation:  ${s?.observedGeneration ?? '<none>'}`,
    ...statusLines,
    'Conditions:',
    table(['  Type', 'Status', 'Reason', 'Message'], (s?.conditions ?? []).map((c: Condition) => [`  ${c.type}`, c.status, c.reason, c.message])),
    'Events:',
  ];
  lines.push(events.length
    ? table(['  Type', 'Reason', 'Age', 'Message'], events.map((e) => [`  ${e.type}`, e.reason, e.count > 1 ? `${age(e.lastTimestamp)} (x${e.count} over ${age(e.firstTimestamp)})` : age(e.lastTimestamp), e.message]))
    : '  <none>');
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}


export async function vmstat(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { connect: { type: 'string' }, namespace: { type: 'string', short: 'n' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return help('vmstat');
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new UsageError('vmstat needs one NAME');
  const hypervisor = new LibvirtHypervisor({ uri: values.connect ?? DEFAULTS.connect, logger: silentLogger });
  await hypervisor.connect();
  try {
    const domain = await hypervisor.getDomain(domainNameFor(values.namespace ?? DEFAULT_NAMESPACE, name), true);
    if (!domain) {
      process.stderr.write(`error: no libvirt domain for VM ${name} on ${hypervisor.uri}\n`);
      return 1;
    }
    process.stdout.write(domain.liveXml ?? domain.persistentXml);
    return 0;
  } finally {
    await hypervisor.close();
  }
}
