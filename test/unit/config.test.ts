import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseListen, buildConfig, ConfigError, defaultOverlayDir, defaultStateDir, parseDuration, parseNic, stateDirFor, type RunFlags } from '../../src/config.js';
import { EXAMPLES_DIR } from '../../src/package-root.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['0ms', 0],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0.5h', 1_800_000],
    [' 10s ', 10_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text, 'poll')).toBe(ms);
  });

  it.each([['10'], [''], ['s'], ['-1s'], ['1d'], ['1 s'], ['1S'], ['1.s'], ['.5s'], ['1m30s'], ['1e3ms']])('rejects %j', (text) => {
    expect(() => parseDuration(text, 'resync')).toThrow(ConfigError);
    expect(() => parseDuration(text, 'resync')).toThrow(`--resync: invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 30s, 2m)`);
  });
});

describe('parseNic', () => {
  it.each([
    ['user', { type: 'user' }],
    ['network:default', { type: 'network', source: 'default' }],
    ['network:wimax-net.1', { type: 'network', source: 'wimax-net.1' }],
    ['bridge:br0', { type: 'bridge', source: 'br0', openvswitch: false }],
    ['ovs:br0', { type: 'bridge', source: 'br0', openvswitch: true }],
    ['ovs:ovs_br-1', { type: 'bridge', source: 'ovs_br-1', openvswitch: true }],
  ])('%s', (text, nic) => {
    expect(parseNic(text)).toEqual(nic);
  });

  it.each([
    ['ovs:'], ['bridge:'], ['network:'], ['foo:bar'], ['bridge:a b'], ['bridge:br0:1'], ['user:x'], ['User'], [''], ['br0'], [':br0'],
    // The prefix must be followed by ":" (these are neither "bridge:NAME" nor "ovs:BRIDGE").
    ['bridge0'], ['ovs1'], ['network2'],
  ])('rejects %j', (text) => {
    expect(() => parseNic(text)).toThrow(ConfigError);
    expect(() => parseNic(text)).toThrow(`--nic: expected user, network:NAME, bridge:NAME or ovs:BRIDGE, got ${JSON.stringify(text)}`);
  });
});

describe('defaultStateDir', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'wimaxvm-statehome-')));
  const watched = join(base, 'lab vms');
  mkdirSync(watched);
  const hash = createHash('sha256').update(watched).digest('hex').slice(0, 12);

  it('lies under $XDG_STATE_HOME/wimaxvm, named by the basename and a hash of the real path', () => {
    expect(defaultStateDir(watched, { XDG_STATE_HOME: '/xdg', HOME: '/home/u' })).toBe(`/xdg/wimaxvm/lab vms-${hash}`);
    expect(defaultStateDir(watched, { HOME: '/home/u' })).toBe(`/home/u/.local/state/wimaxvm/lab vms-${hash}`);
    expect(defaultStateDir(watched, { WIMAXVM_STATE_HOME: '/t/state', XDG_STATE_HOME: '/xdg' })).toBe(`/t/state/lab vms-${hash}`);
  });

  it('is the same whatever the working directory, and through a symlink', () => {
    const link = join(base, 'link');
    symlinkSync(watched, link);
    const env = { HOME: '/home/u' };
    const cwd = process.cwd();
    try {
      process.chdir(base);
      expect(defaultStateDir('lab vms', env)).toBe(defaultStateDir(watched, env));
      expect(defaultStateDir('link', env)).toBe(defaultStateDir(watched, env));
    } finally {
      process.chdir(cwd);
    }
  });

  it('differs for two directories of the same name', () => {
    mkdirSync(join(base, 'a', 'vms'), { recursive: true });
    mkdirSync(join(base, 'b', 'vms'), { recursive: true });
    const env = { HOME: '/home/u' };
    expect(defaultStateDir(join(base, 'a', 'vms'), env)).not.toBe(defaultStateDir(join(base, 'b', 'vms'), env));
  });

  it('--state-dir overrides it; run and the CLI use the same function', () => {
    expect(stateDirFor({ dir: watched, 'state-dir': 'rel/state' })).toBe(resolve('rel/state'));
    expect(stateDirFor({ dir: watched })).toBe(defaultStateDir(watched));
    expect(buildConfig({ dir: watched }).stateDir).toBe(defaultStateDir(watched));
  });
});

describe('buildConfig', () => {
  it('defaults', () => {
    const stateDir = defaultStateDir(EXAMPLES_DIR);
    expect(buildConfig({})).toEqual({
      dir: resolve(EXAMPLES_DIR),
      connect: 'test:///default',
      stateDir,
      imageDir: '/var/lib/wimaxvm/images',
      overlayDir: defaultOverlayDir(stateDir, false),
      workers: 8,
      resyncMs: 30_000,
      pollMs: 1_000,
      settleMs: 400,
      shutdownTimeoutMs: 30_000,
      nic: { type: 'user' },
      vlanRange: { min: 2, max: 4094 },
      listen: { host: '127.0.0.1', port: 5012 },
      source: 'dir',
      logLevel: 'info',
      allowEmpty: false,
      adoptFrom: [],
      trafficIntervalMs: 5_000,
      trafficStatusIntervalMs: 30_000,
    });
  });

  it('takes every flag', () => {
    const flags: RunFlags = {
      dir: '/etc/vms', connect: 'qemu:///system', 'state-dir': '/run/wx', 'image-dir': '/img', 'overlay-dir': '/ov',
      workers: '3', resync: '2m', poll: '250ms', settle: '1s', 'shutdown-timeout': '5s', nic: 'ovs:br-wimax', uplink: 'bs0', 'vlan-range': '100-199', 'log-level': 'debug', 'log-format': 'json',
      'traffic-interval': '2s', 'traffic-status-interval': '1m',
    };
    expect(buildConfig(flags)).toEqual({
      dir: '/etc/vms', connect: 'qemu:///system', stateDir: '/run/wx', imageDir: '/img', overlayDir: '/ov',
      workers: 3, resyncMs: 120_000, pollMs: 250, settleMs: 1_000, shutdownTimeoutMs: 5_000,
      nic: { type: 'bridge', source: 'br-wimax', openvswitch: true }, uplink: 'bs0', vlanRange: { min: 100, max: 199 }, listen: { host: '127.0.0.1', port: 5012 }, source: 'dir', logLevel: 'debug', logFormat: 'json', allowEmpty: false, adoptFrom: [],
      trafficIntervalMs: 2_000, trafficStatusIntervalMs: 60_000,
    });
  });

  it('turns traffic sampling off with --traffic-interval off', () => {
    expect(buildConfig({ 'traffic-interval': 'off' }).trafficIntervalMs).toBe(0);
    expect(() => buildConfig({ 'traffic-status-interval': 'soon' })).toThrow(/--traffic-status-interval: invalid duration/);
  });

  it('puts overlays under the state directory by default', () => {
    expect(buildConfig({ 'state-dir': '/srv/state' }).overlayDir).toBe('/srv/state/overlays');
  });

  it.each([['1', 1], ['1024', 1024]])('accepts --workers %s', (workers, n) => {
    expect(buildConfig({ workers }).workers).toBe(n);
  });

  it.each<[string, RunFlags, string]>([
    ['--workers 0', { workers: '0' }, '--workers: expected a whole number from 1 to 1024, got "0"'],
    ['--workers 1025', { workers: '1025' }, '--workers: expected a whole number from 1 to 1024, got "1025"'],
    ['--workers -2', { workers: '-2' }, '--workers: expected a whole number from 1 to 1024, got "-2"'],
    ['--workers 2.5', { workers: '2.5' }, '--workers: expected a whole number from 1 to 1024, got "2.5"'],
    ['--workers many', { workers: 'many' }, '--workers: expected a whole number from 1 to 1024, got "many"'],
    ['--log-level verbose', { 'log-level': 'verbose' }, '--log-level: expected debug, info, warn or error'],
    ['--log-level INFO', { 'log-level': 'INFO' }, '--log-level: expected debug, info, warn or error'],
    ['--log-format yaml', { 'log-format': 'yaml' }, '--log-format: expected json or text'],
    ['--poll 1', { poll: '1' }, '--poll: invalid duration "1" (use e.g. 500ms, 30s, 2m)'],
    ['--shutdown-timeout soon', { 'shutdown-timeout': 'soon' }, '--shutdown-timeout: invalid duration "soon" (use e.g. 500ms, 30s, 2m)'],
    ['--nic foo:bar', { nic: 'foo:bar' }, '--nic: expected user, network:NAME, bridge:NAME or ovs:BRIDGE, got "foo:bar"'],
  ])('%s', (_label, flags, message) => {
    expect(() => buildConfig(flags)).toThrow(ConfigError);
    expect(() => buildConfig(flags)).toThrow(message);
  });
});

describe('buildConfig: the OVS uplink', () => {
  it.each([
    [{ nic: 'ovs:br0' }, /needs --uplink/],
    [{ uplink: 'bs0' }, /goes with --nic ovs/],
    [{ nic: 'ovs:br0', uplink: 'bad name' }, /invalid port name/],
    [{ 'vlan-range': '1-10' }, /--vlan-range/],
  ])('rejects %o', (flags, message) => {
    expect(() => buildConfig(flags)).toThrow(message);
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:5012', { host: '127.0.0.1', port: 5012 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    ['off', undefined],
  ])('%s', (text, expected) => expect(parseListen(text)).toEqual(expected));

  it.each(['5012', 'host:', 'a:99999', 'a b:1'])('rejects %s', (text) => expect(() => parseListen(text)).toThrow(/--listen/));
});

describe('buildConfig: Kubernetes mode', () => {
  it('takes the cluster flags and leader election', () => {
    const c = buildConfig({ source: 'kube', namespace: 'lab', 'node-name': 'hv1', 'leader-elect': true });
    expect(c.source).toBe('kube');
    expect(c.kube).toMatchObject({ namespace: 'lab', nodeName: 'hv1', leaderElection: { name: 'wimaxvm-controller' } });
  });

  // Issue 8 (5): the lease followed --namespace, where RBAC grants no lease: 403 every 2 s.
  describe('the lease lives where RBAC grants it, not in the watched namespace', () => {
    const saved = process.env.POD_NAMESPACE;
    afterEach(() => {
      if (saved === undefined) delete process.env.POD_NAMESPACE;
      else process.env.POD_NAMESPACE = saved;
    });
    it.each<[string | undefined, Partial<RunFlags>, string]>([
      [undefined, { namespace: 'lab' }, 'wimaxvm-system'],
      [undefined, {}, 'wimaxvm-system'],
      ['ops', { namespace: 'lab' }, 'ops'],
      ['', { namespace: 'lab' }, 'wimaxvm-system'],
      ['ops', { namespace: 'lab', 'lease-namespace': 'elsewhere' }, 'elsewhere'],
    ])('POD_NAMESPACE=%j, flags %o → %s', (podNamespace, flags, expected) => {
      if (podNamespace === undefined) delete process.env.POD_NAMESPACE;
      else process.env.POD_NAMESPACE = podNamespace;
      expect(buildConfig({ source: 'kube', 'leader-elect': true, ...flags }).kube?.leaderElection?.namespace).toBe(expected);
    });
  });

  it('VLAN claims go to one namespace for the whole testbed: wimaxvm-system unless --vlan-claim-namespace, whatever --namespace says', () => {
    expect(buildConfig({ source: 'kube', namespace: 'lab' }).kube?.vlanClaimNamespace).toBe('wimaxvm-system');
    expect(buildConfig({ source: 'kube', 'vlan-claim-namespace': 'testbed' }).kube?.vlanClaimNamespace).toBe('testbed');
    expect(() => buildConfig({ 'vlan-claim-namespace': 'testbed' })).toThrow(/--vlan-claim-namespace goes with --source kube/);
  });

  it.each([
    [{ source: 'etcd' }, /--source/],
    [{ namespace: 'lab' }, /--namespace goes with --source kube/],
    [{ source: 'kube', dir: '/tmp' }, /--dir goes with --source dir/],
  ])('rejects %o', (flags, message) => expect(() => buildConfig(flags as RunFlags)).toThrow(message));
});

describe('defaultOverlayDir', () => {
  it.each([
    ['root, derived state under /root: overlays where libvirt\'s qemu user can reach them', 0, false, '/var/lib/wimaxvm/overlays/vms-0123456789ab'],
    ['root, --state-dir given: beside it', 0, true, '/root/.local/state/wimaxvm/vms-0123456789ab/overlays'],
    ['another user (qemu:///session runs as that user): beside the state', 1000, false, '/root/.local/state/wimaxvm/vms-0123456789ab/overlays'],
  ])('%s', (_, uid, given, expected) => {
    expect(defaultOverlayDir('/root/.local/state/wimaxvm/vms-0123456789ab', given, uid)).toBe(expected);
  });
});

describe('Kubernetes mode\'s default state directory', () => {
  it('is its own per namespace served, never the bundled examples\'', () => {
    expect(stateDirFor({ source: 'kube' })).not.toBe(stateDirFor({}));
    expect(stateDirFor({ source: 'kube', namespace: 'lab' })).not.toBe(stateDirFor({ source: 'kube' }));
  });
});
