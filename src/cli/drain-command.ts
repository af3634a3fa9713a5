// `wimaxvm drain HOST`, `cordon HOST`, `uncordon HOST` (kubectl's, for Hypervisors; file mode).
// drain cordons the host (spec.unschedulable) and marks it drained (the wimaxvm.io/drain
// annotation): the controller then moves every VM the scheduler placed there to another host
// (live when it runs, cold otherwise). A VM pinned there by spec.nodeName is the user's choice,
// as kubectl's pods without a controller are: drain refuses unless --force, which removes that
// spec.nodeName so the scheduler places it elsewhere. drain watches the controller's state and
// prints each VM's progress; exit 0 once no VM is left on the host, 1 with the reason otherwise.
import { parseArgs } from 'node:util';
import { resourceKey } from '../api/meta.js';
import { DRAIN_ANNOTATION, HYPERVISOR_KIND, HYPERVISOR_NAMESPACE, hypervisorKey, type Hypervisor } from '../api/hypervisor.js';
import { VM_KIND, type VirtualMachine, type VirtualMachineStatus } from '../api/virtual-machine.js';
import { FileDesiredStateWriter } from '../adapters/file-desired-state-writer.js';
import { readLockHolder } from '../adapters/store/controller-lock.js';
import { StateReader } from '../adapters/store/state-reader.js';
import { parseDuration, stateDirFor } from '../config.js';
import { CORDON_OPTIONS, DRAIN_OPTIONS } from './command-options.js';
import { checkLogLevel, dirToEdit } from './common-flags.js';
import { declaredListing } from './declared-listing.js';
import { UsageError, usage } from './usage.js';
import { declaredSpec, observed } from './wait-for-observed.js';

const POLL_MS = 500;
const DEFAULT_TIMEOUT = '10m';

function parseHost(command: string, args: string[], options: typeof DRAIN_OPTIONS | typeof CORDON_OPTIONS) {
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (values.help) return undefined;
  checkLogLevel(values['log-level']);
  if (positionals.length !== 1) throw new UsageError(`${command} takes 1 argument (the hypervisor); see 'wimaxvm help ${command}'`);
  const dir = dirToEdit(command, values.dir);
  const host = positionals[0]!;
  const declared = declaredListing(dir, { kind: HYPERVISOR_KIND, name: host, selector: [] }).list()[0] as Hypervisor | undefined;
  if (!declared) throw new Error(`hypervisor "${host}" is not declared in ${dir}`);
  return { values: values as { 'state-dir'?: string; force?: boolean; timeout?: string }, dir, host, declared, writer: new FileDesiredStateWriter(dir) };
}

export async function cordon(command: 'cordon' | 'uncordon', args: string[]): Promise<number> {
  const p = parseHost(command, args, CORDON_OPTIONS);
  if (!p) return (process.stdout.write(usage(command) + '\n'), 0);
  await p.writer.patch(hypervisorKey(p.host), command === 'cordon'
    ? [{ path: ['spec', 'unschedulable'], value: true }]
    : [
      ...(p.declared.spec.unschedulable !== undefined ? [{ path: ['spec', 'unschedulable'], value: undefined }] : []),
      ...(p.declared.metadata.annotations?.[DRAIN_ANNOTATION] !== undefined ? [{ path: ['metadata', 'annotations', DRAIN_ANNOTATION], value: undefined }] : []),
    ]);
  process.stdout.write(`hypervisor/${p.host} ${command}ed\n`);
  return 0;
}

export async function drain(args: string[]): Promise<number> {
  const p = parseHost('drain', args, DRAIN_OPTIONS);
  if (!p) return (process.stdout.write(usage('drain') + '\n'), 0);
  const { host, dir, writer } = p;
  const timeoutMs = parseDuration(p.values.timeout ?? DEFAULT_TIMEOUT, 'timeout');
  const stateDir = stateDirFor({ dir, 'state-dir': p.values['state-dir'] });
  await writer.patch(hypervisorKey(host), [{ path: ['spec', 'unschedulable'], value: true }, { path: ['metadata', 'annotations', DRAIN_ANNOTATION], value: new Date().toISOString() }]);
  process.stdout.write(`hypervisor/${host} cordoned\n`);
  const pinned = (declaredListing(dir, { kind: VM_KIND, selector: [] }).list() as VirtualMachine[]).filter((vm) => vm.spec.nodeName === host);
  if (pinned.length && !p.values.force) {
    process.stderr.write(`error: cannot drain hypervisor/${host}: ${pinned.length} VM(s) pinned to it by spec.nodeName (use --force to unpin them so the scheduler moves them): ${pinned.map(label).join(', ')}\n`);
    return 1;
  }
  for (const vm of pinned) {
    await writer.patch(resourceKey(VM_KIND, vm.metadata.namespace, vm.metadata.name), [{ path: ['spec', 'nodeName'], value: undefined }]);
    process.stdout.write(`virtualmachine/${label(vm)} unpinned (spec.nodeName ${host} removed)\n`);
  }
  if (!readLockHolder(stateDir)) {
    process.stderr.write(`error: no controller is running for ${dir}: nothing moves the VMs off hypervisor/${host} (it stays cordoned)\n`);
    return 1;
  }
  return watchDrain(dir, stateDir, host, timeoutMs);
}

/** Prints each VM's move as the controller reports it until none is left on the host. */
async function watchDrain(dir: string, stateDir: string, host: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const said = new Map<string, string>();
  const seenOnHost = new Set<string>();
  let reader: StateReader | undefined;
  try {
    for (;;) {
      reader ??= StateReader.open(stateDir);
      const vms = reader?.objects<VirtualMachine & { status?: VirtualMachineStatus }>(VM_KIND) ?? [];
      const onHost = vms.filter((vm) => vm.status?.nodeName === host);
      for (const vm of vms) {
        const name = label(vm);
        const scheduled = vm.status?.conditions.find((c) => c.type === 'Scheduled');
        if (vm.status?.nodeName === host) seenOnHost.add(name);
        const line = vm.status?.nodeName === host
          ? scheduled && scheduled.reason !== 'Scheduled' ? `${scheduled.reason}: ${scheduled.message}` : undefined
          : seenOnHost.has(name) ? `moved to ${vm.status?.nodeName}` : undefined;
        if (line && said.get(name) !== line) {
          process.stdout.write(`virtualmachine/${name} ${line}\n`);
          said.set(name, line);
        }
        if (vm.status?.nodeName !== host || !scheduled) continue;
        // A failed move or nowhere to go ends the drain, once the controller has seen the VM's spec as declared now (not an answer from before an edit).
        if (final(vm.status!, scheduled) && observed(vm, await declaredSpec(dir, resourceKey(VM_KIND, vm.metadata.namespace, vm.metadata.name)))) {
          process.stderr.write(`error: cannot drain hypervisor/${host}: virtualmachine/${name}: ${scheduled.message}\n`);
          return 1;
        }
      }
      const hv = reader?.objects<Hypervisor>(HYPERVISOR_KIND, HYPERVISOR_NAMESPACE, host)[0];
      const left = hv?.status?.vms ?? [];
      if (!onHost.length && !left.length) {
        process.stdout.write(`hypervisor/${host} drained\n`);
        return 0;
      }
      if (Date.now() >= deadline) {
        process.stderr.write(`error: hypervisor/${host} not drained after ${Math.round(timeoutMs / 1000)}s: still there: ${[...new Set([...onHost.map(label), ...left])].join(', ')}\n`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    reader?.close();
  }
}

/**
 * Whether the VM's Scheduled condition ends the drain: no room elsewhere, or a failed move that the
 * controller will not try again (a live migration that failed is tried again cold once the guest is
 * stopped, so that one counts only while the guest still runs).
 */
function final(status: VirtualMachineStatus, scheduled: { reason: string; message: string }): boolean {
  if (scheduled.reason === 'DrainBlocked') return true;
  if (scheduled.reason !== 'MigrationFailed') return false;
  return !scheduled.message.startsWith('live migration') || ['Running', 'Paused', 'Migrating'].includes(status.printableStatus);
}

function label(vm: { metadata: { namespace?: string; name: string } }): string {
  const ns = vm.metadata.namespace ?? 'default';
  return ns === 'default' ? vm.metadata.name : `${ns}/${vm.metadata.name}`;
}
