// The cost of one traffic sample at N stations (every station shaped both ways: 2N flows and 2N
// meters, plus a slice): the controller's read (one dump-flows and one meter-stats, parsed) and
// the accounting step, against the two raw ovs-ofctl processes alone, in the same run. Needs root
// and a running Open vSwitch. Results go to bench/results/.
//
//   npm run build && node dist/bench/traffic-sample.js [--stations 1000] [--rounds 10]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OvsDatapath } from '../src/adapters/ovs-datapath.js';
import { silentLogger } from '../src/core/logger.js';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { TrafficAccountant } from '../src/traffic/accounting.js';
import { OvsStatsReader } from '../src/traffic/ovs-stats-reader.js';

const { values } = parseArgs({ options: { stations: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '10' } } });
const N = Number(values.stations);
const ROUNDS = Number(values.rounds);
const run = Math.random().toString(36).slice(2, 6);
const BRIDGE = `wxs${run}`;
const UPLINK = `wxs${run}u`;
const VMPORT = `wxs${run}v`;

const sh = (file: string, ...args: string[]): string => execFileSync(file, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
const macOf = (i: number): string => `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  sh('ovs-vsctl', '--timeout=20', 'add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev');
  try {
    for (const port of [UPLINK, VMPORT]) sh('ovs-vsctl', '--timeout=20', 'add-port', BRIDGE, port, '--', 'set', 'interface', port, 'type=internal');
    const datapath = new OvsDatapath({ bridge: BRIDGE, uplink: UPLINK, logger: silentLogger });
    await datapath.ensureBase();
    await datapath.refresh();
    await Promise.all([
      datapath.applySlicePath({ vlan: 7, vmPort: VMPORT, uplinkKbps: 100_000, downlinkKbps: 100_000 }),
      ...Array.from({ length: N }, (_, i) => datapath.applyClientPath({ mac: macOf(i), vlan: 7, vmPort: VMPORT, uplinkKbps: 1000, downlinkKbps: 2000 })),
    ]);
    const raw: number[] = [];
    const flowsOnly: number[] = [];
    const ours: number[] = [];
    const steps: number[] = [];
    const reader = new OvsStatsReader(BRIDGE);
    const accountant = new TrafficAccountant();
    const naming = { station: (mac: string) => ({ namespace: 'default', name: mac }), slice: () => ({ namespace: 'default', vm: 'vm' }) };
    let stations = 0;
    for (let r = 0; r < ROUNDS; r++) {
      let t = performance.now();
      sh('ovs-ofctl', '-O', 'OpenFlow13', 'dump-flows', BRIDGE, 'cookie=0x5758000000000000/0xffff000000000000');
      flowsOnly.push(performance.now() - t);
      sh('ovs-ofctl', '-O', 'OpenFlow13', 'meter-stats', BRIDGE);
      raw.push(performance.now() - t);
      t = performance.now();
      const sample = await reader.read();
      ours.push(performance.now() - t);
      t = performance.now();
      stations = accountant.step(sample, naming).stations.length;
      steps.push(performance.now() - t);
    }
    const result = {
      stations: N, flows: 2 * N + 2, meters: 2 * N + 2, rounds: ROUNDS, accounted: stations,
      rawDumpFlowsMs: median(flowsOnly), rawTwoProcessesMs: median(raw), readAndParseMs: median(ours), accountingStepMs: median(steps),
      ratioToRaw: median(ours) / median(raw), processesPerSample: reader.spawns / ROUNDS,
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(join(PACKAGE_ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(PACKAGE_ROOT, 'bench/results', `traffic-sample-${N}.json`), JSON.stringify({ at: new Date().toISOString(), ...result }, null, 2) + '\n');
  } finally {
    sh('ovs-vsctl', '--timeout=20', '--if-exists', 'del-br', BRIDGE);
  }
}

await main();
