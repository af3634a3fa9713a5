// What differs between file mode and Kubernetes mode: where desired state comes from, where
// status and events go, and how changes made on a user's behalf are written. The engine, the
// reconcilers and the adapters for libvirt and the switch are the same in both.
import type { AbsenceWitness } from '../core/deletion-gate.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { DesiredStateWriter } from '../ports/desired-state-writer.js';
import type { EventRecorder } from '../ports/event-recorder.js';
import type { StatusStore } from '../ports/status-store.js';
import type { VlanClaims } from '../ports/vlan-claims.js';
import type { IpClaims } from '../ports/ip-claims.js';
import type { TrafficStatusWriter } from '../traffic/traffic-status.js';

export interface Mode {
  readonly name: 'file' | 'kube';
  readonly statuses: StatusStore;
  readonly events: EventRecorder;
  readonly writer: DesiredStateWriter;
  /** Who this controller is, as written into its domains (src/core/controller-identity.ts). */
  readonly identity: string;
  /** The running source, as the deletion gate's witness; undefined until it starts. */
  readonly witness: AbsenceWitness | undefined;
  /** Where VLANs are claimed, so that no two VMs of the testbed share one. */
  readonly vlanClaims: VlanClaims;
  /** Where pooled and fixed IPv4 addresses are claimed, so that no two VMs share one. */
  readonly ipClaims: IpClaims;
  /** Where status.traffic goes (the traffic publisher's, with a switch). */
  readonly trafficWriter: TrafficStatusWriter;
  /** Fills `store` and keeps it current; resolves once the first full view is in. */
  startSource(store: DesiredStore): Promise<void>;
  stopSource(): Promise<void>;
  /** Under leader election: writes of the source itself (finalizers) only while leading. */
  startWriting?(): void;
  stopWriting?(): void;
  /** Only resources of this namespace are ours (a namespaced Kubernetes watch). */
  readonly namespace?: string;
  close(): Promise<void>;
}
