// What the web console shows of the testbed: one small row per slice (VM) and per station
// (WimaxClient), built from declared state and the last status. Rows are plain JSON for the
// page; everything in them that a user wrote (names, reasons) is rendered as text there.
import type { Condition, Resource, ResourceKey } from '../../api/meta.js';
import type { VirtualMachineSpec, VirtualMachineStatus } from '../../api/virtual-machine.js';
import type { WimaxClientSpec, WimaxClientStatus } from '../../api/wimax-client.js';

export interface SliceRow {
  /** "namespace/name" */
  id: string;
  ns: string;
  name: string;
  vlan?: number;
  /** printableStatus, or Unknown before the controller wrote one. */
  state: string;
  /** Ready's reason while it is not True. */
  why?: string;
  declared: boolean;
}

export interface StationRow {
  id: string;
  ns: string;
  name: string;
  mac: string;
  /** The slice it is declared for (status.vmName once observed). */
  vm: string;
  vlan?: number;
  /** Bound, Pending, Conflict, or Unknown before the controller wrote one. */
  state: string;
  why?: string;
}

/** Ready's reason when Ready is not True. */
function notReadyReason(conditions: readonly Condition[] | undefined): string | undefined {
  const ready = conditions?.find((c) => c.type === 'Ready');
  return ready && ready.status !== 'True' ? ready.reason : undefined;
}

export function sliceRow(
  namespace: string, name: string,
  declared: Resource<VirtualMachineSpec, unknown> | undefined,
  status: VirtualMachineStatus | undefined,
): SliceRow {
  const row: SliceRow = { id: `${namespace}/${name}`, ns: namespace, name, state: status?.printableStatus ?? 'Unknown', declared: declared !== undefined };
  const vlan = status?.allocations?.vlan ?? declared?.spec.network?.vlan;
  if (vlan !== undefined) row.vlan = vlan;
  const why = notReadyReason(status?.conditions);
  if (why) row.why = why;
  return row;
}

export function stationRow(
  namespace: string, name: string,
  declared: Resource<WimaxClientSpec, unknown> | undefined,
  status: WimaxClientStatus | undefined,
): StationRow {
  const row: StationRow = {
    id: `${namespace}/${name}`, ns: namespace, name,
    mac: declared?.spec.mac ?? '',
    vm: status?.vmName ?? declared?.spec.vmName ?? '',
    state: status?.printableStatus ?? 'Unknown',
  };
  if (status?.vlan !== undefined) row.vlan = status.vlan;
  const why = notReadyReason(status?.conditions);
  if (why) row.why = why;
  return row;
}

/** Where rows come from: declared objects and stored statuses. */
export interface ViewSource {
  declaredKeys(): Iterable<ResourceKey>;
  declared(key: ResourceKey): Resource<any, unknown> | undefined;
  /** Every stored object of a kind (some may no longer be declared: being deleted). */
  statuses(kind: string): Iterable<Resource<unknown, any>>;
}

export interface RowDiff<R> {
  upsert: R[];
  remove: string[];
}

interface Entry<R> {
  declared: unknown;
  status: unknown;
  row: R;
  json: string;
  /** The refresh that last saw it; older ones are gone. */
  seen: number;
}

/**
 * Rows of one kind, rebuilt only for objects whose declaration or status object changed
 * (stores replace those objects on every change, so a reference comparison finds them), and
 * compared as JSON so that a rewrite with the same content sends nothing.
 */
export class RowTable<R extends { id: string }> {
  private readonly rows = new Map<string, Entry<R>>();
  private pass = 0;

  constructor(
    readonly kind: string,
    private readonly build: (namespace: string, name: string, declared: any, status: any) => R,
  ) {}

  /** Brings the table up to date; returns what changed since the last call. */
  refresh(source: ViewSource): RowDiff<R> {
    const pass = ++this.pass;
    const diff: RowDiff<R> = { upsert: [], remove: [] };
    // Statuses first, by id; then each declared object with its status; then the undeclared rest.
    const statuses = new Map<string, Resource<unknown, any>>();
    for (const object of source.statuses(this.kind)) statuses.set(`${object.metadata.namespace}/${object.metadata.name}`, object);
    const prefix = `${this.kind}/`;
    for (const key of source.declaredKeys()) {
      if (!key.startsWith(prefix)) continue;
      const id = key.slice(prefix.length);
      const stored = statuses.get(id);
      if (stored) statuses.delete(id);
      this.visit(id, source.declared(key), stored?.status, pass, diff);
    }
    for (const [id, object] of statuses) this.visit(id, undefined, object.status, pass, diff);
    for (const [id, entry] of this.rows) {
      if (entry.seen !== pass) {
        this.rows.delete(id);
        diff.remove.push(id);
      }
    }
    return diff;
  }

  all(): R[] {
    return [...this.rows.values()].map((r) => r.row);
  }

  private visit(id: string, declared: unknown, status: unknown, pass: number, diff: RowDiff<R>): void {
    const old = this.rows.get(id);
    if (old && old.declared === declared && old.status === status) {
      old.seen = pass;
      return;
    }
    const cut = id.indexOf('/');
    const row = this.build(id.slice(0, cut), id.slice(cut + 1), declared, status);
    const json = JSON.stringify(row);
    this.rows.set(id, { declared, status, row, json, seen: pass });
    if (old?.json !== json) diff.upsert.push(row);
  }
}
