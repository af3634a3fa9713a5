// The traffic accounting as the traffic area exports it (the contract in the brief). This copy
// holds the interfaces only, until the traffic branch is merged; its own file replaces this one.
export interface TrafficCounters { uplinkBytes: number; uplinkPackets: number; downlinkBytes: number; downlinkPackets: number; uplinkBps: number; downlinkBps: number; droppedPackets: number }
export interface StationTraffic extends TrafficCounters { namespace: string; name: string; vm?: string; vlan?: number }
export interface SliceTraffic extends TrafficCounters { namespace: string; vm: string; vlan: number }
export interface TrafficSnapshot { at: string /* ISO time */; intervalMs: number; stations: StationTraffic[]; slices: SliceTraffic[] }
export interface TrafficFeed { latest(): TrafficSnapshot | undefined; subscribe(listener: (s: TrafficSnapshot) => void): () => void }
