// The ASN-gateway datapath: where VM ports get their slice VLAN and slice rate, and where each
// WiMAX station's frames are steered between the base-station uplink and its slice.
// Adapter: OvsDatapath (Open vSwitch, OpenFlow 1.3 + OVSDB). Tests: FakeDatapath.

/** One station's path through the switch. Keyed by the station's MAC. */
export interface ClientPath {
  /** The station's MAC, lower case. */
  mac: string;
  /** The slice's VLAN: frames from the station on the uplink get this tag. */
  vlan: number;
  /** The OVS port (interface) name of the VM the station is bound to. */
  vmPort: string;
  /** Station → VM rate limit, kbit/s; absent = unshaped. */
  uplinkKbps?: number;
  /** VM → station rate limit, kbit/s; absent = unshaped. */
  downlinkKbps?: number;
}

/** What wimaxvm sets on a VM's port: its access VLAN. */
export interface PortSettings {
  tag?: number;
}

/**
 * A slice's share, for all its stations together. Enforced with OpenFlow meters: OVS's
 * ingress policing and egress-policer QoS do not act on veth/tap ports of the userspace
 * datapath (it reads them through AF_PACKET, ahead of tc), measured with iperf3 here.
 */
export interface SlicePath {
  vlan: number;
  /** The VM's port: the slice's downlink is what enters the switch from it. */
  vmPort: string;
  /** Stations → VM, all stations of the slice together, kbit/s. */
  uplinkKbps?: number;
  /** VM → stations, kbit/s. */
  downlinkKbps?: number;
}

export interface Datapath {
  /**
   * Checks the bridge and uplink port exist and programs the base flows (frames from stations
   * with no path are dropped at the uplink). Idempotent; called at start and on resync.
   */
  ensureBase(): Promise<void>;
  /** Reads every wimaxvm flow and meter back from the switch (one dump); for drift checks. */
  refresh(): Promise<void>;
  /** The path programmed for a station, as of the last refresh and our own changes since. */
  clientPath(mac: string): ClientPath | undefined;
  /** MACs of every station with a programmed path (for removing paths no longer declared). */
  clientMacs(): string[];
  /** Programs a station's path, replacing what it had. Concurrent calls are batched. */
  applyClientPath(path: ClientPath): Promise<void>;
  removeClientPath(mac: string): Promise<void>;
  /** The slice rates programmed for a VLAN, as of the last refresh and our own changes since. */
  slicePath(vlan: number): SlicePath | undefined;
  /** VLANs of every slice with programmed rates. */
  sliceVlans(): number[];
  /** Programs a slice's rates (at least one of them), replacing what it had. Batched like station paths. */
  applySlicePath(path: SlicePath): Promise<void>;
  removeSlicePath(vlan: number): Promise<void>;
  /** A port's settings; undefined when no such port is on the bridge (the VM is not running). */
  getPort(name: string): Promise<PortSettings | undefined>;
  /** Sets a port's VLAN in one OVSDB transaction. */
  setPort(name: string, settings: PortSettings): Promise<void>;
}

/** The bridge or the switch is unreachable or misconfigured: retried, not the resource's fault. */
export class DatapathUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatapathUnavailableError';
  }
}
