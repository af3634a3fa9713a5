// The columns `get` prints for each kind, as kubectl prints a CRD's printer columns. A VM or
// station whose declaration is not in force as written (SourceValid=False: its file is invalid,
// or it is declared twice) shows the reason after its status, as kubectl shows a node's
// `Ready,SchedulingDisabled`: the status is real, but of the last good declaration.
import { SOURCE_ANNOTATION, type Condition, type Resource } from '../api/meta.js';
import { IPPOOL_KIND, type IPPool } from '../api/ip-pool.js';
import { SHAPING_POLICY_KIND, type ShapingPolicy } from '../api/shaping-policy.js';
import type { VirtualMachine } from '../api/virtual-machine.js';
import { CLIENT_KIND, type WimaxClient } from '../api/wimax-client.js';
import { formatBytes, formatRate } from '../traffic/format.js';
import type { TrafficStatus } from '../traffic/traffic-status.js';
import { expiresCell } from '../leases/duration.js';
import { age } from './output.js';
import { HYPERVISOR_KIND } from '../api/hypervisor.js';
import { hypervisorColumns } from './hypervisor-columns.js';

export interface Columns {
  headers: string[];
  row: (object: Resource<any, any>) => string[];
}

function condition(object: Resource<unknown, any>, type: string): Condition | undefined {
  return (object.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

/** printableStatus, with `,REASON` when the declaration in force is not the one in the file. */
export function statusText(object: Resource<unknown, any>): string {
  const status = object.status?.printableStatus ?? '';
  const source = condition(object, 'SourceValid');
  return source?.status === 'False' ? `${status},${source.reason}` : status;
}

const none = (value: unknown) => (value === undefined || value === null || value === '' ? '<none>' : String(value));

function vmColumns(wide: boolean): Columns {
  return {
    headers: ['NAME', 'STATUS', 'VLAN', 'MAC', 'IP', 'EXPIRES', 'AGE', ...(wide ? ['READY', 'DOMAIN', 'ID', 'VNC', 'RUNSTRATEGY', 'SOURCE'] : [])],
    row: (vm: VirtualMachine) => {
      const s = vm.status;
      return [
        vm.metadata.name, statusText(vm), none(s?.allocations?.vlan), none(s?.allocations?.mac), none(s?.allocations?.ip), expiresCell(s?.expiresAt, Date.now()), age(vm.metadata.creationTimestamp),
        ...(wide ? [condition(vm, 'Ready')?.status ?? 'Unknown', none(s?.domain?.name), s?.domain?.id !== undefined ? String(s.domain.id) : '-',
          s?.domain?.vncPort ? String(s.domain.vncPort) : '-', vm.spec.runStrategy, none(vm.metadata.annotations?.[SOURCE_ANNOTATION])] : []),
      ];
    },
  };
}

/** status.traffic as of its last write (every --traffic-status-interval at most): rates and totals each way, drops. */
const TRAFFIC_HEADERS = ['UP', 'DOWN', 'UP-TOTAL', 'DOWN-TOTAL', 'DROPS'];
function trafficCells(t: TrafficStatus | undefined): string[] {
  if (!t) return TRAFFIC_HEADERS.map(() => '-');
  return [formatRate(t.uplinkBps), formatRate(t.downlinkBps), formatBytes(t.uplinkBytes), formatBytes(t.downlinkBytes), String(t.droppedPackets)];
}

function clientColumns(wide: boolean): Columns {
  return {
    headers: ['NAME', 'MAC', 'VM', 'VLAN', 'STATUS', 'AGE', ...(wide ? ['PORT', 'REASON', ...TRAFFIC_HEADERS] : [])],
    row: (c: WimaxClient) => [
      c.metadata.name, c.spec.mac.toLowerCase(), c.spec.vmName, none(c.status?.vlan), statusText(c), age(c.metadata.creationTimestamp),
      ...(wide ? [none(c.status?.port), condition(c, 'Ready')?.reason ?? '', ...trafficCells((c.status as { traffic?: TrafficStatus } | undefined)?.traffic)] : []),
    ],
  };
}

/** Policies have no status and no stored object: their declaration, and where it is. */
function policyColumns(): Columns {
  return {
    headers: ['NAME', 'ENABLED', 'SOURCE'],
    row: (p: Resource<ShapingPolicy["spec"], unknown>) => [p.metadata.name, String(p.spec.enabled), none(p.metadata.annotations?.[SOURCE_ANNOTATION])],
  };
}

/** Pools: their subnet and what is left, as the controller last counted (kubectl's printer columns). */
function poolColumns(): Columns {
  return {
    headers: ['NAME', 'CIDR', 'GATEWAY', 'SIZE', 'ALLOCATED', 'FREE', 'READY', 'AGE'],
    row: (p: IPPool) => [
      p.metadata.name, p.spec.cidr, none(p.spec.gateway), none(p.status?.size), none(p.status?.allocated), none(p.status?.free),
      condition(p, 'Ready')?.status ?? 'Unknown', age(p.metadata.creationTimestamp),
    ],
  };
}

/** The columns of `kind`, with NAMESPACE first when the list spans namespaces. */
export function columnsFor(kind: string, wide: boolean, allNamespaces: boolean): Columns {
  const base = kind === CLIENT_KIND ? clientColumns(wide) : kind === SHAPING_POLICY_KIND ? policyColumns() : kind === IPPOOL_KIND ? poolColumns()
    : kind === HYPERVISOR_KIND ? hypervisorColumns(wide) : vmColumns(wide);
  if (!allNamespaces || kind === HYPERVISOR_KIND) return base;
  return { headers: ['NAMESPACE', ...base.headers], row: (o) => [o.metadata.namespace, ...base.row(o)] };
}

/** `-o name`: kind/name, the form wimaxvm's own messages use (virtualmachine/vm30). */
export function nameLine(object: Resource<unknown, unknown>): string {
  return `${object.kind.toLowerCase()}/${object.metadata.name}`;
}
