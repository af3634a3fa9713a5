// Commands that read what a controller stored (its state database) or what libvirt has
// (`get` has a file of its own: get-command.ts).
import { parseArgs } from 'node:util';
import { DEFAULT_NAMESPACE, resourceKey, type Condition, type Resource } from '../api/meta.js';
import { SHAPING_POLICY_KIND } from '../api/shaping-policy.js';
import { domainNameFor, VM_KIND, type VirtualMachine } from '../api/virtual-machine.js';
import type { WimaxClient } from '../api/wimax-client.js';
import { DEFAULTS } from '../config.js';
import { silentLogger } from '../core/logger.js';
import { vmlistLine } from './legacy-format.js';
import { expiresCell } from '../leases/duration.js';
import { age, table } from './output.js';
import { READ_OPTIONS, VMLIST_OPTIONS, VMSTAT_OPTIONS } from './command-options.js';
import { checkLogLevel, namedDir } from './common-flags.js';
import { kindArg, plural } from './resource-types.js';
import type { StateReader } from '../adapters/store/state-reader.js';
import { withStoredState } from './stored-state.js';
import { UsageError, usage } from './usage.js';

/** What a controller stored: `kind` in `namespace` (all when absent), one name when given, in name order. */
function storedObjects(reader: StateReader | undefined, kind: string, namespace?: string, name?: string): Resource<any, any>[] {
  return reader?.objects(kind, namespace, name) ?? [];
}

function help(command: string): number {
  process.stdout.write(usage(command) + '\n');
  return 0;
}

/** The flags that find the controller's state; a --dir (or $WIMAXVM_DIR) that is named must exist. */
function stateFlags(values: { dir?: string | undefined; 'state-dir'?: string | undefined }) {
  return { dir: namedDir(values.dir), 'state-dir': values['state-dir'] };
}

export function vmlist(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: VMLIST_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help('vmlist');
  checkLogLevel(values['log-level']);
  if (positionals.length) throw new UsageError('vmlist takes no arguments');
  const namespace = values['all-namespaces'] ? undefined : values.namespace ?? DEFAULT_NAMESPACE;
  const vms = withStoredState(stateFlags(values), (reader) => storedObjects(reader, VM_KIND, namespace)) as VirtualMachine[];
  process.stdout.write(vms.map((vm) => vmlistLine(vm) + '\n').join(''));
  return 0;
}

export async function describe(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: READ_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help('describe');
  checkLogLevel(values['log-level']);
  const [kindName, name] = positionals;
  const kind = kindArg(kindName);
  if (kind === SHAPING_POLICY_KIND) throw new UsageError("describe: shaping policies have no status or events; see 'wimaxvm get wsp NAME -o yaml'");
  if (!name || positionals.length > 2) throw new UsageError('describe needs a TYPE and one NAME');
  const namespace = values.namespace ?? DEFAULT_NAMESPACE;
  const [vm, events] = withStoredState(stateFlags(values), (reader) => [
    storedObjects(reader, kind, namespace, name)[0] as VirtualMachine | undefined,
    reader?.events(resourceKey(kind, namespace, name)) ?? [],
  ] as const);
  if (!vm) {
    process.stderr.write(`Error from server (NotFound): ${plural(kind)} "${name}" not found in namespace ${namespace}\n`);
    return 1;
  }
  const { stringify } = await import('yaml'); // the spec, as YAML
  const s = vm.status;
  const client = (vm as unknown as WimaxClient).status;
  const statusLines = kind === VM_KIND
    ? [
        `  Allocations:          mac=${s?.allocations?.mac ?? '-'} vlan=${s?.allocations?.vlan ?? '-'} ip=${s?.allocations?.ip ?? '-'} uuid=${s?.allocations?.uuid ?? '-'}`,
        `  Domain:               ${s?.domain ? `${s.domain.name} state=${s.domain.state} id=${s.domain.id ?? '-'} vnc=${s.domain.vncPort ?? '-'} port=${s.domain.port ?? '-'}` : '<none>'}`,
        ...(s?.expiresAt ? [`  Lease:                started ${s.lease?.startedAt ?? '-'}, expires ${s.expiresAt} (${expiresCell(s.expiresAt, Date.now())})`] : []),
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
    options: VMSTAT_OPTIONS,
  });
  if (values.help) return help('vmstat');
  checkLogLevel(values['log-level']);
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new UsageError('vmstat needs one NAME');
  const { LibvirtHypervisor } = await import('../adapters/libvirt/libvirt-hypervisor.js'); // the native binding only when needed
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
