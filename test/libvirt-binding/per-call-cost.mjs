// Per-call cost of a lookup + state + XML on test:///default: this binding vs @unraid/libvirt,
// same process, same run, alternating rounds (the machine is shared and noisy). Not a test.
// @unraid/libvirt is no longer a dependency: `npm install --no-save @unraid/libvirt@2.2.1` first, then
//   node test/libvirt-binding/per-call-cost.mjs [iterations per round]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const ours = require('../../build/Release/wimaxvm_libvirt.node');
const { Hypervisor } = await import('@unraid/libvirt');
const n = Number(process.argv[2] ?? 2000);

const conn = await ours.openConnection('test:///default', false, 5, 3);
const theirs = new Hypervisor({ uri: 'test:///default' });
await theirs.connectOpen();

const impl = {
  wimaxvm: async () => {
    const d = await conn.lookupDomainByName('test');
    await d.getState();
    await d.getXmlDesc(0);
  },
  unraid: async () => {
    const d = await theirs.domainLookupByName('test');
    await theirs.domainGetInfo(d);
    await theirs.domainGetXMLDesc(d, 0);
  },
};

async function round(name, concurrency) {
  const t0 = performance.now();
  const worker = async () => { for (let i = 0; i < n / concurrency; i++) await impl[name](); };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ((performance.now() - t0) * 1000) / n; // µs per lookup+state+xml
}

for (const concurrency of [1, 16]) {
  const times = { wimaxvm: [], unraid: [] };
  for (let r = 0; r < 5; r++) for (const name of r % 2 ? ['unraid', 'wimaxvm'] : ['wimaxvm', 'unraid']) times[name].push(await round(name, concurrency));
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(JSON.stringify({ concurrency, iterations: n, usPerTriple: { wimaxvm: +median(times.wimaxvm).toFixed(1), unraid: +median(times.unraid).toFixed(1) }, ratio: +(median(times.wimaxvm) / median(times.unraid)).toFixed(2) }));
}
await conn.close();
await theirs.connectClose();
