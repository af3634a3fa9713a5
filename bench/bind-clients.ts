// Binding N WiMAX stations, as ratios against one raw batched `ovs-ofctl --bundle add-flows` of
// the same flows in the same run: through the datapath adapter alone, and through the whole
// controller (N WimaxClient files, one VM) until every station is Bound. Needs root and a running
// Open vSwitch (bash scripts/start-daemons.sh). Results go to bench/results/.
//
//   npm run build && node dist/bench/bind-clients.js [--clients 1000]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OvsDatapath } from '../src/adapters/ovs-datapath.js';
import { buildConfig } from '../src/config.js';
import { createLogger, silentLogger } from '../src/core/logger.js';
import { startController } from '../src/main.js';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { vmPortName } from '../src/reconcilers/virtual-machine/domain-xml.js';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' } } });
const N = Number(values.clients);
const run = Math.random().toString(36).slice(2, 6);
const BRIDGE = `wxb${run}`;
const UPLINK = `wxb${run}u`;
const VM = `bench-${run}`;
const VMPORT = vmPortName(VM);

function sh(file: string, ...args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8' });
}

function macOf(i: number): string {
  return `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
}

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

/** The same flows the adapter programs for N stations bound to one slice, in one bundle. */
function rawBatch(): number {
  const lines: string[] = [];
  for (let i = 0; i < N; i++) {
    const mac = macOf(i);
    const cookie = `0x5758${mac.replace(/:/g, '')}`;
    lines.push(`add cookie=${cookie},priority=100,in_port=${UPLINK},dl_src=${mac},actions=push_vlan:0x8100,set_field:4103->vlan_vid,goto_table:1`);
    lines.push(`add cookie=${cookie},priority=100,in_port=${VMPORT},dl_dst=${mac},actions=goto_table:2`);
  }
  const t0 = performance.now();
  execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', '--bundle', 'add-flows', BRIDGE, '-'], { input: lines.join('\n') + '\n' });
  const ms = performance.now() - t0;
  sh('ovs-ofctl', '-O', 'OpenFlow13', 'del-flows', BRIDGE, 'cookie=0x5758000000000000/0xffff000000000000');
  return ms;
}

async function adapterBatch(): Promise<{ ms: number; spawns: number }> {
  const dp = new OvsDatapath({ bridge: BRIDGE, uplink: UPLINK, logger: silentLogger });
  await dp.ensureBase();
  await dp.refresh();
  const before = dp.spawns;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: N }, (_, i) => dp.applyClientPath({ mac: macOf(i), vlan: 7, vmPort: VMPORT })));
  const ms = performance.now() - t0;
  const spawns = dp.spawns - before;
  await Promise.all(Array.from({ length: N }, (_, i) => dp.removeClientPath(macOf(i))));
  return { ms, spawns };
}

async function controllerRun(): Promise<{ ms: number; spawns: number }> {
  const base = mkdtempSync(join(tmpdir(), 'wimaxvm-bench-'));
  const dir = join(base, 'vms');
  mkdirSync(dir);
  writeFileSync(join(dir, 'vm.yaml'), `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${VM}\nspec:\n  memory: 64Mi\n`);
  for (let i = 0; i < N; i++) {
    writeFileSync(join(dir, `st-${i}.yaml`), `apiVersion: wimaxvm.io/v1alpha1\nkind: WimaxClient\nmetadata:\n  name: st-${i}\nspec:\n  mac: "${macOf(i)}"\n  vmName: ${VM}\n`);
  }
  const config = buildConfig({ dir, connect: 'test:///default', 'state-dir': join(base, 'state'), nic: `ovs:${BRIDGE}`, uplink: UPLINK, resync: '1h', listen: 'off' });
  const t0 = performance.now();
  const running = await startController(config, createLogger({ level: 'error', format: 'json', write: () => {} }));
  const dp = running.datapath as OvsDatapath;
  for (;;) {
    await running.idle();
    let bound = 0;
    for (let i = 0; i < N; i++) if (running.statuses.get(`WimaxClient/default/st-${i}`)?.status?.printableStatus === 'Bound') bound++;
    if (bound === N) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const ms = performance.now() - t0;
  const spawns = dp.spawns;
  await running.stop();
  rmSync(base, { recursive: true, force: true });
  return { ms, spawns };
}

setUp();
try {
  const rawMs = rawBatch();
  const adapter = await adapterBatch();
  const controller = await controllerRun();
  const result = {
    date: new Date().toISOString(),
    clients: N,
    rawBundleMs: Math.round(rawMs),
    adapterMs: Math.round(adapter.ms),
    adapterSpawns: adapter.spawns,
    adapterRatio: Number((adapter.ms / rawMs).toFixed(2)),
    controllerAllBoundMs: Math.round(controller.ms),
    controllerSpawns: controller.spawns,
    controllerSpawnsPerClient: Number((controller.spawns / N).toFixed(4)),
    controllerRatio: Number((controller.ms / rawMs).toFixed(2)),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = join(PACKAGE_ROOT, 'bench', 'results', `bind-clients-${N}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`written to ${out}`);
} finally {
  tearDown();
}
