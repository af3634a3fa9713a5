// N WiMAX stations: controller start → every station Bound (N WimaxClient files and their VM on
// test:///default, real Open vSwitch on a bridge of this run's own), against one raw batched
// `ovs-ofctl --bundle add-flows` of the same flows in the same run. Needs root and Open vSwitch.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController } from '../../src/main.js';
import { callCounts, countsSince } from '../../src/observability/call-counters.js';
import { vmPortName } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import type { Figure, Row } from '../lib/figure.js';
import { macOf, RUN_TAG, stationYaml, vmYaml } from '../lib/manifests.js';

const BRIDGE = `wxb${RUN_TAG}`;
const UPLINK = `wxb${RUN_TAG}u`;
const VM = `bench-${RUN_TAG}`;
const VMPORT = vmPortName(VM);

const sh = (file: string, ...args: string[]): string => execFileSync(file, args, { encoding: 'utf8' });

function setUp(): void {
  sh('ovs-vsctl', '--timeout=20', 'add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev');
  for (const port of [UPLINK, VMPORT]) {
    sh('ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', `${port.slice(0, 12)}p`);
    sh('ip', 'link', 'set', port, 'up');
    sh('ovs-vsctl', '--timeout=20', 'add-port', BRIDGE, port);
  }
}

function tearDown(): void {
  spawnSync('ovs-vsctl', ['--timeout=20', '--if-exists', 'del-br', BRIDGE]);
  for (const port of [UPLINK, VMPORT]) spawnSync('ip', ['link', 'del', port]);
}

/** The flows the datapath programs for N stations of one slice, as one bundle; milliseconds. */
function rawBatch(n: number): number {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const mac = macOf(i);
    const cookie = `0x5758${mac.replace(/:/g, '')}`;
    lines.push(`add cookie=${cookie},table=0,priority=100,in_port=${UPLINK},dl_src=${mac},actions=push_vlan:0x8100,set_field:4103->vlan_vid,goto_table:1`);
    lines.push(`add cookie=${cookie},table=0,priority=100,in_port=${VMPORT},dl_dst=${mac},actions=goto_table:2`);
  }
  const t0 = performance.now();
  execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', '--bundle', 'add-flows', BRIDGE, '-'], { input: lines.join('\n') + '\n' });
  const ms = performance.now() - t0;
  sh('ovs-ofctl', '-O', 'OpenFlow13', 'del-flows', BRIDGE, 'cookie=0x5758000000000000/0xffff000000000000');
  return ms;
}

async function controllerRun(n: number): Promise<{ ms: number; processes: number }> {
  const base = mkdtempSync(join(tmpdir(), 'wimaxvm-bench-'));
  const dir = join(base, 'vms');
  mkdirSync(dir);
  writeFileSync(join(dir, 'vm.yaml'), vmYaml(VM));
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `st-${i}.yaml`), stationYaml(`st-${i}`, macOf(i), VM));
  const config = buildConfig({ dir, connect: 'test:///default', 'state-dir': join(base, 'state'), nic: `ovs:${BRIDGE}`, uplink: UPLINK, resync: '1h', listen: 'off' });
  const counted = callCounts();
  const t0 = performance.now();
  const running = await startController(config, silentLogger);
  const keys = Array.from({ length: n }, (_, i) => `WimaxClient/default/st-${i}`);
  const deadline = performance.now() + 20 * 60_000; // a bench never hangs
  for (;;) {
    await running.idle();
    if (keys.every((k) => running.statuses.get(k)?.status?.printableStatus === 'Bound')) break;
    if (performance.now() > deadline) throw new Error(`${keys.filter((k) => running.statuses.get(k)?.status?.printableStatus === 'Bound').length} of ${n} stations Bound after 20 min`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const ms = performance.now() - t0;
  const processes = [...countsSince(counted).processes.values()].reduce((a, b) => a + b, 0);
  await running.stop();
  rmSync(base, { recursive: true, force: true });
  return { ms, processes };
}

export const figure: Figure = {
  name: 'stations',
  title: 'Stations: controller start → all Bound vs one raw batched add-flows (real OVS)',
  async run({ quick }): Promise<Row[]> {
    const n = quick ? 200 : 1000;
    setUp();
    try {
      const raw = rawBatch(n);
      const ours = controllerRun(n);
      const { ms, processes } = await ours;
      return [{
        id: 'stations', label: `${n} stations: controller start → all Bound`, value: ms, unit: 'ms',
        baseline: raw, baselineLabel: `one raw \`ovs-ofctl --bundle add-flows\` of the same ${2 * n} flows`,
        target: { on: 'ratio', op: '<=', limit: 5, text: '≤ 5× raw' },
        note: `the controller spawned ${processes} processes in all for ${n} stations (last run; wimaxvm_processes_spawned_total), on a bridge of the run's own (userspace datapath)`,
      }];
    } finally {
      tearDown();
    }
  },
};
