// Flags → a typed, validated Config. The only place that knows defaults.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { LogLevel } from './core/logger.js';
import { EXAMPLES_DIR } from './package-root.js';
import type { NicAttachment } from './reconcilers/virtual-machine/domain-xml.js';
import { DEFAULT_VLAN_RANGE, parseVlanRange, type VlanRange } from './allocators/vlan-allocator.js';

/** Kubernetes mode: where the cluster is and which part of it this controller serves. */
export interface KubeSettings {
  kubeconfig?: string;
  /** Watch one namespace; all when absent. */
  namespace?: string;
  /** DaemonSet mode: only the VMs that run on this node (status.nodeName, else spec.nodeName). */
  nodeName?: string;
  /** DaemonSet mode: the URI other nodes reach this node's libvirt at (its Hypervisor's spec.uri); --connect unless said. */
  advertiseUri?: string;
  /** Where every controller of the testbed claims VLANs (one Lease per VLAN): the same for all of them. */
  vlanClaimNamespace: string;
  leaderElection?: {
    namespace: string; name: string; identity: string;
    /** client-go's defaults (15 s, 10 s, 2 s) unless set; tests shorten them. */
    leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number;
  };
  /** DaemonSet mode's Hypervisor registration and placement leader: timings (src/hosts/kube/); tests shorten them. */
  hosts?: import('./hosts/kube/kube-hosts-part.js').KubeHostsTimings;
}

export interface Config {
  /** Desired state from a watched directory (file mode) or from a cluster. */
  source: 'dir' | 'kube';
  kube?: KubeSettings;
  dir: string;
  connect: string;
  stateDir: string;
  imageDir: string;
  overlayDir: string;
  workers: number;
  resyncMs: number;
  pollMs: number;
  /** File mode: how long a changed file must stay unchanged before it is read. */
  settleMs: number;
  shutdownTimeoutMs: number;
  nic: NicAttachment;
  /** The base-station uplink port on the OVS bridge (with --nic ovs:BRIDGE). */
  uplink?: string;
  vlanRange: VlanRange;
  /** Where the HTTP API listens; undefined = off. */
  listen?: { host: string; port: number };
  /** Bearer token the API's writes need. */
  apiToken?: string;
  logLevel: LogLevel;
  logFormat?: 'json' | 'text';
  /** A source that reads as empty may delete every VM (off by default: an empty read deletes nothing). */
  allowEmpty: boolean;
  /** Identities of controllers gone for good whose domains this one takes over. */
  adoptFrom: string[];
  /** How often the switch's traffic counters are read (with OVS); 0 = never. */
  trafficIntervalMs: number;
  /** How often status.traffic may be written (at most once per resource per this interval). */
  trafficStatusIntervalMs: number;
}

export class ConfigError extends Error {}

/** The namespace manifests/ install the controller into: its lease and the VLAN claims live there by default. */
export const CONTROLLER_NAMESPACE = 'wimaxvm-system';

export const DEFAULTS = {
  connect: 'test:///default',
  /** Under it, one state directory per watched directory (see defaultStateDir). */
  stateHome: '${XDG_STATE_HOME:-~/.local/state}/wimaxvm',
  imageDir: '/var/lib/wimaxvm/images',
  workers: 8,
  resync: '30s',
  poll: '1s',
  settle: '400ms',
  shutdownTimeout: '30s',
  nic: 'user',
  logLevel: 'info',
  /** The old OMF service's port. */
  listen: '127.0.0.1:5012',
  trafficInterval: '5s',
  trafficStatusInterval: '30s',
} as const;

/**
 * The state directory of the controller watching `dir`: derived from the directory itself,
 * never from the working directory, so `run`, `get`, `describe` and `start --wait` all find the
 * same one. `<base>/<basename>-<first 12 hex of sha256(realpath)>`, where base is
 * $WIMAXVM_STATE_HOME, else ${XDG_STATE_HOME:-$HOME/.local/state}/wimaxvm.
 */
export function defaultStateDir(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  let real = resolve(dir);
  try {
    real = realpathSync(real);
  } catch {
    // A directory that does not exist yet: its absolute path names it.
  }
  const base = env.WIMAXVM_STATE_HOME || join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'wimaxvm');
  const hash = createHash('sha256').update(real).digest('hex').slice(0, 12);
  return resolve(base, `${basename(real) || 'root'}-${hash}`);
}

/**
 * --state-dir when given, else the directory derived from --dir (the bundled examples by default);
 * in Kubernetes mode (which keeps only overlays there) one per namespace served, never the
 * examples' own.
 */
export function stateDirFor(flags: { dir?: string | undefined; 'state-dir'?: string | undefined; source?: string | undefined; namespace?: string | undefined }): string {
  if (flags['state-dir']) return resolve(flags['state-dir']);
  if (flags.source === 'kube') return defaultStateDir(`/kube/${flags.namespace ?? 'all-namespaces'}`);
  return defaultStateDir(flags.dir ?? EXAMPLES_DIR);
}

/**
 * Overlays by default: beside the state, except for root's default state under /root (0700),
 * which libvirt's qemu user cannot reach: those go under /var/lib/wimaxvm/overlays.
 */
export function defaultOverlayDir(stateDir: string, stateDirGiven: boolean, uid = process.getuid?.()): string {
  if (uid === 0 && !stateDirGiven) return join('/var/lib/wimaxvm/overlays', basename(stateDir));
  return join(stateDir, 'overlays');
}

/** "HOST:PORT", "[::1]:PORT", or "off". */
export function parseListen(text: string): { host: string; port: number } | undefined {
  if (text === 'off') return undefined;
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`--listen: expected HOST:PORT or off, got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port };
}

/** "500ms", "30s", "2m", "1h" → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new ConfigError(`--${flag}: invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 30s, 2m)`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * factor);
}

/** user | network:NAME | bridge:NAME | ovs:BRIDGE */
export function parseNic(text: string): NicAttachment {
  if (text === 'user') return { type: 'user' };
  const colon = text.indexOf(':');
  const [kind, source] = [text.slice(0, colon), text.slice(colon + 1)];
  if (colon > 0 && source && /^[A-Za-z0-9_.-]+$/.test(source)) {
    if (kind === 'network') return { type: 'network', source };
    if (kind === 'bridge') return { type: 'bridge', source, openvswitch: false };
    if (kind === 'ovs') return { type: 'bridge', source, openvswitch: true };
  }
  throw new ConfigError(`--nic: expected user, network:NAME, bridge:NAME or ovs:BRIDGE, got ${JSON.stringify(text)}`);
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new ConfigError(`--${flag}: expected a whole number from 1 to 1024, got ${JSON.stringify(text)}`);
  return n;
}

export interface RunFlags {
  dir?: string;
  connect?: string;
  'state-dir'?: string;
  'image-dir'?: string;
  'overlay-dir'?: string;
  workers?: string;
  resync?: string;
  poll?: string;
  settle?: string;
  'shutdown-timeout'?: string;
  nic?: string;
  uplink?: string;
  'vlan-range'?: string;
  listen?: string;
  'api-token-file'?: string;
  source?: string;
  kubeconfig?: string;
  namespace?: string;
  'node-name'?: string;
  'advertise-uri'?: string;
  'leader-elect'?: boolean;
  'lease-namespace'?: string;
  'lease-name'?: string;
  'vlan-claim-namespace'?: string;
  'log-level'?: string;
  'log-format'?: string;
  'allow-empty'?: boolean;
  'adopt-from'?: string[];
  'traffic-interval'?: string;
  'traffic-status-interval'?: string;
}

export function buildConfig(flags: RunFlags): Config {
  const stateDir = stateDirFor(flags);
  const logLevel = flags['log-level'] ?? DEFAULTS.logLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new ConfigError(`--log-level: expected debug, info, warn or error`);
  const logFormat = flags['log-format'];
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'text') throw new ConfigError(`--log-format: expected json or text`);
  const nic = parseNic(flags.nic ?? DEFAULTS.nic);
  const onOvs = nic.type === 'bridge' && nic.openvswitch;
  if (onOvs && !flags.uplink) throw new ConfigError('--nic ovs:BRIDGE needs --uplink PORT (the base-station uplink port on that bridge)');
  if (flags.uplink && !onOvs) throw new ConfigError('--uplink goes with --nic ovs:BRIDGE');
  if (flags.uplink && !/^[A-Za-z0-9_.-]{1,15}$/.test(flags.uplink)) throw new ConfigError(`--uplink: invalid port name ${JSON.stringify(flags.uplink)}`);
  let vlanRange = DEFAULT_VLAN_RANGE;
  try {
    if (flags['vlan-range']) vlanRange = parseVlanRange(flags['vlan-range']);
  } catch (err) {
    throw new ConfigError(`--vlan-range: ${(err as Error).message}`);
  }
  const listen = parseListen(flags.listen ?? DEFAULTS.listen);
  let apiToken = process.env.WIMAXVM_API_TOKEN || undefined;
  if (flags['api-token-file']) {
    try {
      apiToken = readFileSync(flags['api-token-file'], 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`--api-token-file: ${(err as Error).message}`);
    }
    if (!apiToken) throw new ConfigError('--api-token-file: the file is empty');
  }
  const source = flags.source ?? 'dir';
  if (source !== 'dir' && source !== 'kube') throw new ConfigError(`--source: expected dir or kube, got ${JSON.stringify(source)}`);
  const kubeOnly = ['kubeconfig', 'namespace', 'node-name', 'advertise-uri', 'leader-elect', 'lease-namespace', 'lease-name', 'vlan-claim-namespace'] as const;
  const misplaced = kubeOnly.filter((f) => flags[f] !== undefined);
  if (source === 'dir' && misplaced.length) throw new ConfigError(`--${misplaced[0]} goes with --source kube`);
  if (source === 'kube' && flags.dir) throw new ConfigError('--dir goes with --source dir');
  let kube: KubeSettings | undefined;
  if (source === 'kube') {
    const nodeName = flags['node-name'] ?? process.env.NODE_NAME;
    kube = {
      ...(flags.kubeconfig ? { kubeconfig: resolve(flags.kubeconfig) } : {}),
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
      ...(nodeName ? { nodeName } : {}),
      ...(flags['advertise-uri'] ? { advertiseUri: flags['advertise-uri'] } : {}),
      vlanClaimNamespace: flags['vlan-claim-namespace'] ?? CONTROLLER_NAMESPACE,
      ...(flags['leader-elect'] ? {
        leaderElection: {
          // Where RBAC grants the lease (the controller's own namespace), never --namespace:
          // the watched namespace has no lease Role, and a 403 there would loop forever.
          namespace: flags['lease-namespace'] ?? (process.env.POD_NAMESPACE || CONTROLLER_NAMESPACE),
          name: flags['lease-name'] ?? 'wimaxvm-controller',
          identity: `${hostname()}_${process.pid}`,
        },
      } : {}),
    };
  }
  return {
    source,
    ...(kube ? { kube } : {}),
    dir: resolve(flags.dir ?? EXAMPLES_DIR),
    ...(listen ? { listen } : {}),
    ...(apiToken ? { apiToken } : {}),
    connect: flags.connect ?? DEFAULTS.connect,
    stateDir,
    imageDir: resolve(flags['image-dir'] ?? DEFAULTS.imageDir),
    overlayDir: resolve(flags['overlay-dir'] ?? defaultOverlayDir(stateDir, flags['state-dir'] !== undefined)),
    workers: positiveInt(flags.workers ?? String(DEFAULTS.workers), 'workers'),
    resyncMs: parseDuration(flags.resync ?? DEFAULTS.resync, 'resync'),
    pollMs: parseDuration(flags.poll ?? DEFAULTS.poll, 'poll'),
    settleMs: parseDuration(flags.settle ?? DEFAULTS.settle, 'settle'),
    shutdownTimeoutMs: parseDuration(flags['shutdown-timeout'] ?? DEFAULTS.shutdownTimeout, 'shutdown-timeout'),
    nic,
    ...(flags.uplink ? { uplink: flags.uplink } : {}),
    vlanRange,
    logLevel: logLevel as LogLevel,
    ...(logFormat ? { logFormat } : {}),
    allowEmpty: flags['allow-empty'] ?? false,
    trafficIntervalMs: flags['traffic-interval'] === 'off' ? 0 : parseDuration(flags['traffic-interval'] ?? DEFAULTS.trafficInterval, 'traffic-interval'),
    trafficStatusIntervalMs: parseDuration(flags['traffic-status-interval'] ?? DEFAULTS.trafficStatusInterval, 'traffic-status-interval'),
    adoptFrom: (flags['adopt-from'] ?? []).map((identity) => {
      if (identity !== 'legacy' && !/^(file|kube):\/\/\S+$/.test(identity)) throw new ConfigError(`--adopt-from: expected a controller identity (file://HOST/DIR, kube://CLUSTER/NAME, or legacy), got ${JSON.stringify(identity)}`);
      return identity;
    }),
  };
}
