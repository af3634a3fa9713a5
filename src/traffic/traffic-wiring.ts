// The traffic accounting's parts, built from what the composition root has: the sampler (the
// feed), its /metrics series, and the status.traffic publisher. Only with a switch (--nic ovs:).
import type { Registry } from 'prom-client';
import type { VlanAllocator } from '../allocators/vlan-allocator.js';
import type { Config } from '../config.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { Logger } from '../core/logger.js';
import type { Runnable } from '../core/manager.js';
import type { Mode } from '../modes/mode.js';
import type { ClientIndex } from '../reconcilers/wimax-client/client-index.js';
import { controllerNaming } from './naming.js';
import { OvsStatsReader } from './ovs-stats-reader.js';
import type { TrafficFeed } from './traffic-feed.js';
import { registerTrafficMetrics } from './traffic-metrics.js';
import { TrafficSampler } from './traffic-sampler.js';
import { TrafficStatusPublisher } from './traffic-status.js';

export interface TrafficDeps {
  config: Config;
  bridge: string;
  mode: Mode;
  store: DesiredStore;
  clientIndex: ClientIndex;
  vlans: VlanAllocator;
  registry: Registry;
  mayWrite: () => boolean;
  /** Why the switch is away, while it is (SwitchWatch.unreachableBecause). */
  switchDown?: () => string | undefined;
  logger: Logger;
}

export interface Traffic {
  feed: TrafficFeed;
  sampler: TrafficSampler;
  part: Runnable;
}

export function makeTraffic(deps: TrafficDeps): Traffic | undefined {
  const { config, mode, logger } = deps;
  if (config.trafficIntervalMs <= 0) return undefined;
  const sampler = new TrafficSampler({
    reader: new OvsStatsReader(deps.bridge),
    naming: controllerNaming(deps.store, deps.clientIndex, deps.vlans),
    intervalMs: config.trafficIntervalMs,
    logger,
    onSample: (seconds, ok) => metrics.observeSample(seconds, ok),
    ...(deps.switchDown ? { switchDown: deps.switchDown } : {}),
  });
  const metrics = registerTrafficMetrics(deps.registry, sampler);
  const publisher = new TrafficStatusPublisher({
    feed: sampler,
    statuses: mode.statuses,
    writer: mode.trafficWriter,
    intervalMs: config.trafficStatusIntervalMs,
    mayWrite: deps.mayWrite,
    logger,
  });
  return {
    feed: sampler,
    sampler,
    part: {
      name: 'traffic',
      start: async () => {
        publisher.start();
        sampler.start();
      },
      stop: async () => {
        await sampler.stop();
        await publisher.stop();
      },
    },
  };
}
