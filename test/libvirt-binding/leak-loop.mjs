// A loop of N mixed binding calls on test:///default (lookups, reads, errors, defines and
// starts, metadata, lists, events), for a leak checker: what is lost must not grow with N.
// Not part of npm test. Run (see the report of issue 9 for figures):
//   LD_PRELOAD=$(gcc -print-file-name=liblsan.so) LSAN_OPTIONS=exitcode=0 node --expose-gc test/libvirt-binding/leak-loop.mjs 1000
//   valgrind --leak-check=full node --expose-gc test/libvirt-binding/leak-loop.mjs 1000
// It calls the addon directly (no TypeScript loader under the leak checker).
import { createRequire } from 'node:module';

const addon = createRequire(import.meta.url)('../../build/Release/wimaxvm_libvirt.node');
const n = Number(process.argv[2] ?? 1000);
const NS = 'https://wimaxvm.example/leak';
const VIR_DOMAIN_METADATA_ELEMENT = 2;
const xml = (name) => `<domain type='test'><name>${name}</name><memory unit='KiB'>65536</memory><os><type>hvm</type></os></domain>`;
const swallow = () => undefined;

const conn = await addon.openConnection('test:///default', false, 5, 3);
let events = 0;
let errors = 0;
conn.setEventSink(() => events++);
await conn.enableDomainEvents();
for (let i = 0; i < n; i++) {
  const d = await conn.lookupDomainByName('test');
  await Promise.all([d.getState(), d.getXmlDesc(0), d.getInfo(), d.getId()]);
  await conn.lookupDomainByName('absent').catch(() => errors++);
  await d.getMetadata(VIR_DOMAIN_METADATA_ELEMENT, NS, 0); // none: undefined, an error inside
  if (i % 10 === 0) {
    const created = await conn.defineDomain(xml(`leak-${i}`));
    await created.create(0);
    await created.setMetadata(VIR_DOMAIN_METADATA_ELEMENT, '<x/>', 'x', NS, 1);
    await created.destroy(0);
    await created.undefine(0);
    await created.getState().catch(() => errors++);
    await conn.listAllDomains(0);
    await conn.listDomainNames(0);
    const net = await conn.lookupNetworkByName('default');
    await net.getXmlDesc(0);
  }
}
await conn.disableDomainEvents();
await conn.close();
await conn.hostname().catch(() => errors++); // closed: rejected without libvirt
conn.setEventSink(undefined);

// Let every handle be collected and freed (frees run on the pool) before the checker looks:
// pointers kept only by JavaScript objects live in V8's heap, which leak checkers do not scan.
for (let round = 0; round < 5; round++) {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 100));
}
console.log(JSON.stringify({ n, events, errors, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) }));
