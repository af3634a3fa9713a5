// The HTTP surface as one part of the Manager: the legacy OMF API, /metrics, /healthz, /readyz,
// /traffic and the web console, on --listen (none when it is off).
import type { AddressInfo } from 'node:net';
import type { ResourceKey } from '../api/meta.js';
import type { LibvirtHypervisor } from '../adapters/libvirt/libvirt-hypervisor.js';
import type { SwitchWatch } from '../adapters/ovs-switch-watch.js';
import { readEvents } from '../adapters/store/sqlite-event-log.js';
import type { Config } from '../config.js';
import type { DeletionGate } from '../core/deletion-gate.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { Logger } from '../core/logger.js';
import type { Runnable } from '../core/manager.js';
import { LegacyApi, type LegacyReader } from '../http/legacy-api.js';
import { HttpServer } from '../http/server.js';
import { UiConsole } from '../http/ui/console.js';
import type { EventHistory, RecentEvents } from '../http/ui/recent-events.js';
import type { FileMode } from '../modes/file-mode.js';
import type { Mode } from '../modes/mode.js';
import type { Metrics } from '../observability/metrics.js';
import type { Hypervisor } from '../ports/hypervisor.js';
import type { TrafficFeed } from '../traffic/traffic-feed.js';

export interface HttpPartDeps {
  config: Config;
  mode: Mode;
  store: DesiredStore;
  statuses: Mode['statuses'];
  /** Kubernetes mode: the console's detail view reads recent events from memory; file mode from the state database. */
  recentEvents: RecentEvents | undefined;
  /** The controller's own connection, for /readyz. */
  hypervisor: LibvirtHypervisor;
  /** Where the legacy vmstat reads a VM's domain (the host it is placed on). */
  domains: Hypervisor;
  metrics: Metrics;
  gate: DeletionGate;
  switchWatch: SwitchWatch | undefined;
  traffic?: TrafficFeed;
  logger: Logger;
}

export function makeHttpPart(deps: HttpPartDeps): { part: Runnable; address: () => AddressInfo | undefined } {
  const { config, mode, store, statuses, recentEvents, traffic } = deps;
  let http: HttpServer | undefined;
  let address: AddressInfo | undefined;
  const start = async (): Promise<void> => {
    if (!config.listen) return;
    http = new HttpServer({
      host: config.listen.host, port: config.listen.port, logger: deps.logger,
      ...(config.apiToken ? { token: config.apiToken } : {}),
      legacy: new LegacyApi({ writer: mode.writer, reader: legacyReader(store, statuses), hypervisor: deps.domains, namespace: config.kube?.namespace ?? 'default', waitMs: 60_000 }),
      metrics: deps.metrics,
      ...(traffic ? { traffic } : {}),
      ready: () => readiness(config, deps.hypervisor, deps.switchWatch, deps.gate),
      ui: new UiConsole({
        source: { declaredKeys: () => store.keys(), declared: (key) => store.get(key), statuses: (kind) => statuses.list(kind) },
        object: (key) => {
          const declared = store.get(key);
          const stored = statuses.get(key);
          return declared || stored ? { spec: declared?.spec ?? stored?.spec, status: stored?.status } : undefined;
        },
        events: recentEvents ? recentEvents.history : fileEvents(mode as FileMode),
        ...(traffic ? { traffic } : {}),
        ...(config.apiToken ? { token: config.apiToken } : {}),
      }),
    });
    address = await http.start();
  };
  return {
    part: { name: 'http', start, stop: async () => { await http?.stop(); } },
    address: () => address,
  };
}

/** The state database's events, as `describe` reads them. */
function fileEvents(mode: FileMode): EventHistory {
  return (key, limit) => readEvents(mode.state.db, key, limit);
}

/** Declared resources with their last status, as the legacy API shows them. */
function legacyReader(store: DesiredStore, statuses: Mode['statuses']): LegacyReader {
  const reader: LegacyReader = {
    get: <T>(key: ResourceKey) => {
      const object = store.get(key);
      return (object && { ...object, status: statuses.get(key)?.status }) as T | undefined;
    },
    list: <T>(kind: string, namespace: string) => store.keysOf(kind, namespace)
      .map((key) => reader.get<T>(key)!),
  };
  return reader;
}

/** /readyz: libvirt and the switch reachable, the source read, and no deletion waiting for evidence. */
function readiness(config: Config, hypervisor: LibvirtHypervisor, switchWatch: SwitchWatch | undefined, gate: DeletionGate): { ready: boolean; reason?: string } {
  if (!hypervisor.connected) {
    const why = hypervisor.unreachableBecause;
    return { ready: false, reason: `libvirt ${config.connect} is not connected${why ? ` (${why})` : ''}; retrying` };
  }
  const switchDown = switchWatch?.unreachableBecause;
  if (switchDown) return { ready: false, reason: `Open vSwitch: ${switchDown}; stations and slices are restored when it is back` };
  const blocked = gate.blocked();
  if (blocked) return { ready: false, reason: `${blocked}; no VM is deleted meanwhile` };
  const withheld = gate.withheld();
  if (withheld) return { ready: false, reason: `${gate.withheldCount} deletion(s) withheld for lack of evidence, e.g. ${withheld.key}: ${withheld.why}` };
  return { ready: true };
}
