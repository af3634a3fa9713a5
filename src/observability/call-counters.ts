// Process-wide tallies of what the controller asks of the outside world: libvirt calls by name,
// processes spawned by command, and Open vSwitch transactions. Adapters call the count functions;
// /metrics reads the tallies at scrape time (Metrics), and so do benchmarks and tests, by delta.
// Process-wide on purpose: a libvirt call or a spawned process is the process's cost, whichever
// controller instance asked for it.
import { basename } from 'node:path';

export interface CallCounts {
  /** By libvirt C function name, e.g. virDomainCreate. */
  libvirt: Map<string, number>;
  /** By command (file name without its directory), e.g. ovs-ofctl. */
  processes: Map<string, number>;
  /** By tool and subcommand, e.g. "ovs-ofctl add-flows" (one flow-mod batch) or "ovs-vsctl set" (one OVSDB transaction). */
  ovs: Map<string, number>;
  /** The state database (file mode): "commits" (transactions written to disk) and "writes" (status and event writes in them). */
  state: Map<string, number>;
}

const counts: CallCounts = { libvirt: new Map(), processes: new Map(), ovs: new Map(), state: new Map() };

function inc(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * libvirt calls that change nothing: lookups, listings, reads of state, XML and statistics,
 * opening and closing a connection. Every other name counts as mutating, so that a call nobody
 * classified can never hide in "zero mutating calls".
 */
const READ_ONLY = /^vir(Connect(Open|Close|Get|List|Is|Ref|RegisterCloseCallback|DomainEventRegister|DomainEventDeregister|SetKeepAlive)|Domain(Get|LookupBy|Is|Has|InterfaceStats|BlockStats|MemoryStats|Ref|Free)|Network(Get|LookupBy|Is|Ref|Free)|Node(Get)|Event)/;

export function isMutatingLibvirtCall(call: string): boolean {
  return !READ_ONLY.test(call);
}

/** One libvirt call, by its C function name (the binding's setCallObserver names calls this way). */
export function countLibvirtCall(call: string): void {
  inc(counts.libvirt, call);
}

/** Options of ovs-vsctl/ovs-ofctl whose value is the next argument. */
const OPTION_WITH_VALUE = new Set(['-O', '--protocols', '-t', '--timeout', '--db', '-f', '--format']);

/** ovs-vsctl/ovs-ofctl arguments → the subcommand: the first argument that is neither an option nor its value. */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (OPTION_WITH_VALUE.has(args[i]!)) i++;
    else if (!args[i]!.startsWith('-')) return args[i]!;
  }
  return '';
}

/**
 * One process spawned. ovs-vsctl runs its commands as one OVSDB transaction and ovs-ofctl
 * add-flows (with --bundle) sends one batch of flow mods: those are counted as OVS transactions too.
 */
export function countSpawn(file: string, args: readonly string[] = []): void {
  const command = basename(file);
  inc(counts.processes, command);
  if (command === 'ovs-vsctl' || command === 'ovs-ofctl') inc(counts.ovs, `${command} ${subcommand(args)}`);
}

/** One commit to the state database, carrying `writes` status or event writes. */
export function countStateCommit(writes: number): void {
  inc(counts.state, 'commits');
  counts.state.set('writes', (counts.state.get('writes') ?? 0) + writes);
}

/** A copy of the tallies, for a delta between two points of a benchmark or a test. */
export function callCounts(): CallCounts {
  return { libvirt: new Map(counts.libvirt), processes: new Map(counts.processes), ovs: new Map(counts.ovs), state: new Map(counts.state) };
}

/** Mutating libvirt calls in a tally. */
export function mutatingLibvirtCalls(c: CallCounts): number {
  let n = 0;
  for (const [call, k] of c.libvirt) if (isMutatingLibvirtCall(call)) n += k;
  return n;
}

/** later − earlier, per key (keys absent from both are left out). */
export function countsSince(earlier: CallCounts, later: CallCounts = callCounts()): CallCounts {
  const diff = (a: Map<string, number>, b: Map<string, number>) => new Map([...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)] as const).filter(([, v]) => v !== 0));
  return { libvirt: diff(earlier.libvirt, later.libvirt), processes: diff(earlier.processes, later.processes), ovs: diff(earlier.ovs, later.ovs), state: diff(earlier.state, later.state) };
}
