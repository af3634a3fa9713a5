// Convergence benchmark on libvirt's in-process test driver, as ratios against the raw binding
// doing the same libvirt work in the same process and run. Never a test assertion: machines are
// shared and noisy; the ratios and figures go to bench/results/.
//
//   npm run bench -- [--vms 1000] [--workers 8]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Hypervisor as RawLibvirt } from '@unraid/libvirt';
import { LibvirtHypervisor } from '../src/adapters/libvirt-hypervisor.js';
import { buildConfig } from '../src/config.js';
import { createLogger, silentLogger } from '../src/core/logger.js';
import { startController } from '../src/main.js';
import { buildDomainXml, parseDomainXml } from '../src/reconcilers/virtual-machine/domain-xml.js';
import { domainUuidFor } from '../src/reconcilers/virtual-machine/reconciler.js';
import { PACKAGE_ROOT } from '../src/package-root.js';

// --uri test+unix:///default puts libvirt's test driver in libvirtd, so that the controller's
// memory figures are its own (in-process, the driver's domains count in our RSS too).
const { values } = parseArgs({ options: { vms: { type: 'string', default: '1000' }, workers: { type: 'string', default: '8' }, uri: { type: 'string', default: 'test:///default' } } });
const N = Number(values.vms);
const URI = values.uri!;

function vmYaml(name: string, memory = '64Mi'): string {
  return `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\nspec:\n  memory: ${memory}\n`;
}

function rawXml(i: number): string {
  return buildDomainXml({
    name: `raw-${i}`, uuid: domainUuidFor(`raw-${i}`), type: 'test', memoryKiB: 65536, vcpus: 1, diskPaths: [],
    mac: `52:54:01:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
    nic: { type: 'user' }, owner: { uid: `raw-${i}`, namespace: 'raw', name: `raw-${i}`, generation: 1, specHash: 'x', mac: '' },
  });
}

async function raw(concurrency: number): Promise<{ defineStartMs: number }> {
  const conn = new RawLibvirt({ uri: URI });
  await conn.connectOpen();
  const xmls = Array.from({ length: N }, (_, i) => rawXml(i));
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < N) {
      const d = await conn.domainDefineXML(xmls[next++]!);
      await conn.domainCreate(d);
    }
  }));
  const defineStartMs = performance.now() - t0;
  for (let i = 0; i < N; i++) {
    const d = await conn.domainLookupByName(`raw-${i}`);
    await conn.domainDestroy(d);
    await conn.domainUndefine(d);
  }
  await conn.connectClose();
  return { defineStartMs };
}

async function controllerRun(): Promise<Record<string, number>> {
  const base = mkdtempSync(join(tmpdir(), 'wimaxvm-bench-'));
  const dir = join(base, 'vms');
  mkdirSync(dir);
  for (let i = 0; i < N; i++) writeFileSync(join(dir, `vm-${i}.yaml`), vmYaml(`vm-${i}`));
  let actions = 0;
  const logger = createLogger({ level: 'info', format: 'json', write: (line) => { if (/"msg":"(defined|updated|started|destroyed|shutting down|undefined) /.test(line)) actions++; } });
  const config = buildConfig({ dir, connect: URI, 'state-dir': join(base, 'state'), workers: values.workers!, resync: '1h', listen: 'off', poll: '1s' });

  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const running = await startController(config, logger);
  const isRunning = (i: number) => running.statuses.get(`VirtualMachine/default/vm-${i}`)?.status?.printableStatus === 'Running';
  for (;;) {
    await running.idle();
    let all = true;
    for (let i = 0; i < N && all; i++) all = isRunning(i);
    if (all) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const convergeMs = performance.now() - t0;
  const actionsAtConverge = actions;

  // A resync: every key reconciled again; nothing may change.
  const r0 = performance.now();
  running.resync();
  await running.idle();
  const resyncMs = performance.now() - r0;
  const resyncActions = actions - actionsAtConverge;

  // One file edited: how long until libvirt has the new definition.
  const observer = new LibvirtHypervisor({ uri: URI, logger: silentLogger });
  await observer.connect();
  const target = `vm-${Math.floor(N / 2)}`;
  const e0 = performance.now();
  writeFileSync(join(dir, `${target}.yaml`), vmYaml(target, '128Mi'));
  for (;;) {
    const d = await observer.getDomain(target);
    if (d && parseDomainXml(d.persistentXml).facts.memoryKiB === 131072) break;
    await new Promise((r) => setImmediate(r));
  }
  const editMs = performance.now() - e0;
  global.gc?.();
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;

  await observer.close();
  await running.stop();
  rmSync(base, { recursive: true, force: true });
  return { convergeMs, actionsAtConverge, resyncMs, resyncActions, editMs, rssMb, heapMb, rssGrowthMb: (process.memoryUsage().rss - rssBefore) / 2 ** 20 };
}

// The controller runs first, in a fresh process heap, so its memory is not the raw phase's.
const ours = await controllerRun();
const rawSequential = await raw(1);
const rawParallel = await raw(Number(values.workers));
const bestRaw = Math.min(rawSequential.defineStartMs, rawParallel.defineStartMs);
const result = {
  date: new Date().toISOString(),
  vms: N,
  workers: Number(values.workers),
  rawDefineStartSequentialMs: Math.round(rawSequential.defineStartMs),
  rawDefineStartParallelMs: Math.round(rawParallel.defineStartMs),
  controllerConvergeMs: Math.round(ours.convergeMs!),
  convergeRatioVsBestRaw: Number((ours.convergeMs! / bestRaw).toFixed(2)),
  convergeRatioVsSequentialRaw: Number((ours.convergeMs! / rawSequential.defineStartMs).toFixed(2)),
  actionsAtConverge: ours.actionsAtConverge,
  resyncMs: Math.round(ours.resyncMs!),
  resyncMutatingActions: ours.resyncActions,
  editOneFileToLibvirtMs: Math.round(ours.editMs!),
  uri: URI,
  rssMb: Math.round(ours.rssMb!),
  heapUsedMb: Math.round(ours.heapMb!),
};
console.log(JSON.stringify(result, null, 2));
const out = join(PACKAGE_ROOT, 'bench', 'results', `converge-${N}${URI.startsWith('test+unix') ? '-libvirtd' : ''}.json`);
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(`written to ${out}`);
