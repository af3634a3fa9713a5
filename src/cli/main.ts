// wimaxvm's command line: run the controller, and read what it did (get, describe), or check
// manifests before committing them (validate). Exit codes: 0 ok, 1 failure/invalid, 2 usage.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { DEFAULT_NAMESPACE, resourceKey, type Condition } from '../api/meta.js';
import { VM_KIND, type VirtualMachine } from '../api/virtual-machine.js';
import { CLIENT_KIND, type WimaxClient } from '../api/wimax-client.js';
import { vmlistLine } from './legacy-format.js';
import { readEvents } from '../adapters/file-event-log.js';
import { buildConfig, ConfigError, DEFAULTS } from '../config.js';
import { createLogger, errorMessage } from '../core/logger.js';
import { startController } from '../main.js';
import { formatManifestError, parseManifests } from '../sources/manifest-parser.js';
import { age, table } from './output.js';
import { listStoredObjects } from './state-reader.js';

const USAGE = `wimaxvm — keeps libvirt virtual machines in line with declared VirtualMachine resources

Usage:
  wimaxvm run [flags]                    watch a directory of YAML files and reconcile it onto libvirt
  wimaxvm get vms|wxc [NAME] [-o wide|yaml|json] [-n NS | -A]
  wimaxvm vmlist [-n NS | -A]            the old service's list: vm30 VLANid  7  mac address='...'/
  wimaxvm describe vm NAME [-n NS]       status, conditions and recent events
  wimaxvm validate FILE...               the controller's own checks; exit 1 on any error
  wimaxvm help [COMMAND]

Run flags:
  --dir DIR                  watched directory (default: the bundled examples/)
  --connect URI              libvirt URI (default: ${DEFAULTS.connect})
  --state-dir DIR            status files, events, overlays (default: ./${DEFAULTS.stateDir})
  --image-dir DIR            where disk images are looked up (default: ${DEFAULTS.imageDir})
  --overlay-dir DIR          per-VM qcow2 overlays (default: STATE-DIR/overlays)
  --nic KIND                 user | network:NAME | bridge:NAME | ovs:BRIDGE (default: ${DEFAULTS.nic})
  --uplink PORT              with --nic ovs:BRIDGE: the base-station uplink port on that bridge
  --vlan-range MIN-MAX       slice VLANs handed out (default: 2-4094)
  --listen HOST:PORT|off     the HTTP API: /wimaxvm/ (the old OMF service), /metrics, /healthz, /readyz
                             (default: ${DEFAULTS.listen})
  --api-token-file FILE      bearer token the API's writes need (or WIMAXVM_API_TOKEN); required off loopback
  --workers N                concurrent reconciles (default: ${DEFAULTS.workers})
  --resync DURATION          look at every resource again this often (default: ${DEFAULTS.resync})
  --poll DURATION            look for domains changed by hand this often (default: ${DEFAULTS.poll})
  --shutdown-timeout DURATION  graceful shutdown before power-off (default: ${DEFAULTS.shutdownTimeout})
  --log-level LEVEL          debug | info | warn | error (default: ${DEFAULTS.logLevel})
  --log-format FORMAT        json | text (default: text on a terminal, else json)

Read flags (get, describe) take --state-dir too.`;

class UsageError extends Error {}

const RUN_OPTIONS = {
  dir: { type: 'string' }, connect: { type: 'string' }, 'state-dir': { type: 'string' }, 'image-dir': { type: 'string' },
  'overlay-dir': { type: 'string' }, workers: { type: 'string' }, resync: { type: 'string' }, poll: { type: 'string' },
  'shutdown-timeout': { type: 'string' }, nic: { type: 'string' }, uplink: { type: 'string' }, 'vlan-range': { type: 'string' },
  listen: { type: 'string' }, 'api-token-file': { type: 'string' },
  'log-level': { type: 'string' }, 'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const READ_OPTIONS = {
  'state-dir': { type: 'string' }, output: { type: 'string', short: 'o' }, namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' }, help: { type: 'boolean', short: 'h' },
} as const;

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: RUN_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help();
  if (positionals.length) throw new UsageError(`run takes no arguments, got ${positionals.join(' ')}`);
  const config = buildConfig(values);
  const logger = createLogger({ level: config.logLevel, ...(config.logFormat ? { format: config.logFormat } : {}) });
  logger.info('starting', { dir: config.dir, connect: config.connect, stateDir: config.stateDir });
  const running = await startController(config, logger);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info('stopping: letting in-flight reconciles finish');
  await running.stop();
  logger.info('stopped');
  return 0;
}

const KIND_NAMES: Record<string, string> = {
  vm: VM_KIND, vms: VM_KIND, wvm: VM_KIND, virtualmachine: VM_KIND, virtualmachines: VM_KIND,
  wxc: CLIENT_KIND, wimaxclient: CLIENT_KIND, wimaxclients: CLIENT_KIND, clients: CLIENT_KIND,
};

function kindArg(kind: string | undefined): string {
  const resolved = kind ? KIND_NAMES[kind.toLowerCase()] : undefined;
  if (!resolved) throw new UsageError(`unknown resource type ${JSON.stringify(kind ?? '')}; known: vms (virtualmachines, wvm), wxc (wimaxclients)`);
  return resolved;
}

function plural(kind: string): string {
  return kind.toLowerCase() + 's';
}

function ready(vm: VirtualMachine): string {
  const c = vm.status?.conditions?.find((x: Condition) => x.type === 'Ready');
  return c ? c.status : 'Unknown';
}

function get(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: READ_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help();
  const [kindName, name] = positionals;
  const kind = kindArg(kindName);
  const stateDir = values['state-dir'] ?? DEFAULTS.stateDir;
  const namespace = values['all-namespaces'] ? undefined : values.namespace ?? DEFAULT_NAMESPACE;
  let vms = listStoredObjects(stateDir, kind, namespace) as VirtualMachine[];
  if (name) {
    vms = vms.filter((vm) => vm.metadata.name === name);
    if (!vms.length) {
      process.stderr.write(`Error from server (NotFound): ${plural(kind)} "${name}" not found in namespace ${namespace}\n`);
      return 1;
    }
  }
  const output = values.output ?? '';
  if (output === 'yaml' || output === 'json') {
    const body = name ? vms[0] : { apiVersion: 'v1', kind: 'List', items: vms };
    process.stdout.write(output === 'yaml' ? stringify(body) : JSON.stringify(body, null, 2) + '\n');
    return 0;
  }
  if (output !== '' && output !== 'wide') throw new UsageError(`-o: expected wide, yaml or json, got ${JSON.stringify(output)}`);
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

function vmlist(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: READ_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help();
  if (positionals.length) throw new UsageError('vmlist takes no arguments');
  const namespace = values['all-namespaces'] ? undefined : values.namespace ?? DEFAULT_NAMESPACE;
  const vms = listStoredObjects(values['state-dir'] ?? DEFAULTS.stateDir, VM_KIND, namespace) as VirtualMachine[];
  process.stdout.write(vms.map((vm) => vmlistLine(vm) + '\n').join(''));
  return 0;
}

function describe(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: READ_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help();
  const [kindName, name] = positionals;
  const kind = kindArg(kindName);
  if (!name) throw new UsageError('describe needs a NAME');
  const stateDir = values['state-dir'] ?? DEFAULTS.stateDir;
  const namespace = values.namespace ?? DEFAULT_NAMESPACE;
  const vm = (listStoredObjects(stateDir, kind, namespace) as VirtualMachine[]).find((v) => v.metadata.name === name);
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
  const events = readEvents(stateDir, resourceKey(kind, namespace, name));
  lines.push(events.length
    ? table(['  Type', 'Reason', 'Age', 'Message'], events.map((e) => [`  ${e.type}`, e.reason, e.count > 1 ? `${age(e.lastTimestamp)} (x${e.count} over ${age(e.firstTimestamp)})` : age(e.lastTimestamp), e.message]))
    : '  <none>');
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

function validate(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help) return help();
  if (!positionals.length) throw new UsageError('validate needs at least one FILE');
  let failed = 0;
  let count = 0;
  for (const file of positionals) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      process.stderr.write(`${file}: cannot read: ${errorMessage(err)}\n`);
      failed++;
      continue;
    }
    const { resources, errors } = parseManifests(text, file);
    for (const e of errors) process.stderr.write(formatManifestError(e) + '\n');
    if (errors.length) failed++;
    count += resources.length;
  }
  if (failed) {
    process.stderr.write(`${failed} of ${positionals.length} file(s) invalid\n`);
    return 1;
  }
  process.stdout.write(`${count} resource(s) in ${positionals.length} file(s) valid\n`);
  return 0;
}

function help(): number {
  process.stdout.write(USAGE + '\n');
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run': return await run(rest);
      case 'get': return get(rest);
      case 'describe': return describe(rest);
      case 'vmlist': return vmlist(rest);
      case 'validate': return validate(rest);
      case 'help': case '--help': case '-h': case undefined: return help();
      default: throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${errorMessage(err)}\nRun 'wimaxvm help' for usage.\n`);
      return 2;
    }
    process.stderr.write(`error: ${errorMessage(err)}\n`);
    return 1;
  }
}
