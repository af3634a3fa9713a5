// The traffic accounting in /metrics, on the controller's registry (observability/metrics.ts):
// per station and per slice, bytes and packets each way, the current rate, and meter drops.
//
// Cardinality is bounded by what is on the switch now: every series is rebuilt from the latest
// snapshot at each scrape, so a station or slice that goes takes its series with it. A station
// has 7 series (bytes, packets and rate in each direction, drops), a slice 7: at most
// 7 × (bound stations + slices with stations or rates), plus 4 about the sampling itself.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TrafficFeed, TrafficCounters } from './traffic-feed.js';

const STATION_LABELS = ['namespace', 'name', 'vm', 'vlan'] as const;
const SLICE_LABELS = ['namespace', 'vm', 'vlan'] as const;

type Row = TrafficCounters & { namespace: string; name?: string; vm?: string; vlan?: number };

/** Series names, for the dashboard test and anyone who queries them. */
export const TRAFFIC_SERIES = {
  stationBytes: 'wimaxvm_station_bytes_total',
  stationPackets: 'wimaxvm_station_packets_total',
  stationRate: 'wimaxvm_station_bytes_per_second',
  stationDrops: 'wimaxvm_station_meter_dropped_packets_total',
  sliceBytes: 'wimaxvm_slice_bytes_total',
  slicePackets: 'wimaxvm_slice_packets_total',
  sliceRate: 'wimaxvm_slice_bytes_per_second',
  sliceDrops: 'wimaxvm_slice_meter_dropped_packets_total',
  sampleDuration: 'wimaxvm_traffic_sample_duration_seconds',
  lastSample: 'wimaxvm_traffic_last_sample_timestamp_seconds',
} as const;

export interface TrafficMetrics {
  /** The sampler's onSample. */
  observeSample(seconds: number, ok: boolean): void;
}

export function registerTrafficMetrics(registry: Registry, feed: TrafficFeed): TrafficMetrics {
  const registers = [registry];
  const stations = (): Row[] => feed.latest()?.stations ?? [];
  const slices = (): Row[] => feed.latest()?.slices ?? [];
  const stationLabels = (s: Row) => ({ namespace: s.namespace, name: s.name ?? '', vm: s.vm ?? '', vlan: String(s.vlan ?? '') });
  const sliceLabels = (s: Row) => ({ namespace: s.namespace, vm: s.vm ?? '', vlan: String(s.vlan ?? '') });

  // Counters rebuilt from the accountant's totals (which only grow while a station stays) at each scrape.
  const perDirection = <L extends string>(kind: 'counter' | 'gauge', name: string, help: string, labelNames: readonly L[],
    rows: () => Row[], labels: (r: Row) => Record<L, string>, up: keyof TrafficCounters, down: keyof TrafficCounters): void => {
    const config = { name, help, labelNames: [...labelNames, 'direction'], registers };
    const fill = (metric: { reset(): void; set?: unknown; inc?: unknown }, put: (l: Record<string, string>, v: number) => void): void => {
      metric.reset();
      for (const r of rows()) {
        put({ ...labels(r), direction: 'uplink' }, r[up]);
        put({ ...labels(r), direction: 'downlink' }, r[down]);
      }
    };
    if (kind === 'counter') new Counter({ ...config, collect() { fill(this, (l, v) => this.inc(l, v)); } });
    else new Gauge({ ...config, collect() { fill(this, (l, v) => this.set(l, v)); } });
  };
  const drops = <L extends string>(name: string, help: string, labelNames: readonly L[], rows: () => Row[], labels: (r: Row) => Record<L, string>): void => {
    new Counter({
      name, help, labelNames: [...labelNames], registers,
      collect() {
        this.reset();
        for (const r of rows()) this.inc(labels(r), r.droppedPackets);
      },
    });
  };

  perDirection('counter', TRAFFIC_SERIES.stationBytes, 'Bytes a station sent (uplink) and was sent (downlink), as the switch counted them before meters.', STATION_LABELS, stations, stationLabels, 'uplinkBytes', 'downlinkBytes');
  perDirection('counter', TRAFFIC_SERIES.stationPackets, 'Packets a station sent (uplink) and was sent (downlink), before meters.', STATION_LABELS, stations, stationLabels, 'uplinkPackets', 'downlinkPackets');
  perDirection('gauge', TRAFFIC_SERIES.stationRate, 'A station\'s rate over the last sampling interval, bytes per second.', STATION_LABELS, stations, stationLabels, 'uplinkBps', 'downlinkBps');
  drops(TRAFFIC_SERIES.stationDrops, 'Packets a station\'s own meters (its shaping) dropped.', STATION_LABELS, stations, stationLabels);
  perDirection('counter', TRAFFIC_SERIES.sliceBytes, 'Bytes of a slice\'s stations together, each way, before meters.', SLICE_LABELS, slices, sliceLabels, 'uplinkBytes', 'downlinkBytes');
  perDirection('counter', TRAFFIC_SERIES.slicePackets, 'Packets of a slice\'s stations together, each way, before meters.', SLICE_LABELS, slices, sliceLabels, 'uplinkPackets', 'downlinkPackets');
  perDirection('gauge', TRAFFIC_SERIES.sliceRate, 'A slice\'s rate over the last sampling interval, bytes per second.', SLICE_LABELS, slices, sliceLabels, 'uplinkBps', 'downlinkBps');
  drops(TRAFFIC_SERIES.sliceDrops, 'Packets a slice\'s meters (its shaping) dropped.', SLICE_LABELS, slices, sliceLabels);

  const duration = new Histogram({
    name: TRAFFIC_SERIES.sampleDuration, help: 'Time to read the bridge\'s counters (one dump-flows and one meter-stats), by result.',
    labelNames: ['result'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers,
  });
  duration.zero({ result: 'ok' });
  duration.zero({ result: 'error' });
  new Gauge({
    name: TRAFFIC_SERIES.lastSample, help: 'When the traffic counters were last read successfully (Unix time); 0 before.', registers,
    collect() {
      const at = feed.latest()?.at;
      this.set(at ? Date.parse(at) / 1000 : 0);
    },
  });
  return { observeSample: (seconds, ok) => duration.observe({ result: ok ? 'ok' : 'error' }, seconds) };
}
