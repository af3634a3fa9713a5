// The parse pool runs the real worker (dist/, kept current by the test setup).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestParsePool } from '../../src/sources/manifest-parse-pool.js';
import { parseManifests } from '../../src/sources/manifest-parser.js';
import { hostileManifests } from '../helpers/hostile-manifests.js';

const VM = 'apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: a\nspec:\n  memory: 64Mi\n';
const pools: ManifestParsePool[] = [];
const pool = (opts: ConstructorParameters<typeof ManifestParsePool>[0] = {}) => {
  const p = new ManifestParsePool(opts);
  pools.push(p);
  return p;
};
afterAll(() => Promise.all(pools.map((p) => p.close())));

describe('manifests are parsed off the event loop, within a budget (issue 15, 1-3)', () => {
  it('answers what parseManifests answers, errors with lines included', async () => {
    const p = pool();
    const bad = `${VM}---\n${VM.replace('memory: 64Mi', 'vcpus: 0')}`;
    expect(await p.parse(VM, 'a.yaml')).toEqual(parseManifests(VM, 'a.yaml'));
    expect(await p.parse(bad, 'b.yaml')).toEqual(parseManifests(bad, 'b.yaml'));
  });

  it('the event loop runs while a large file is parsed', async () => {
    const order: string[] = [];
    const parsed = pool().parse(hostileManifests().validDocuments!(), 'many.yaml').then((r) => order.push(`parsed ${r.resources.length}`));
    await new Promise((r) => setTimeout(r, 0)).then(() => order.push('timer'));
    await parsed;
    expect(order).toEqual(['timer', 'parsed 10000']);
  });

  it('a parse over its time budget is the file\'s error, and the pool goes on', async () => {
    const p = pool({ workers: 1 });
    const slow = p.parse(hostileManifests().validDocuments!(), 'many.yaml', 1);
    const queued = [p.parse(VM, 'a.yaml'), p.parse(VM, 'b.yaml')];
    expect(await slow).toEqual({ resources: [], errors: [{ file: 'many.yaml', line: 1, message: expect.stringMatching(/^parse exceeded 1 ms; nothing in this file is applied/) }] });
    expect((await Promise.all(queued)).map((r) => r.resources.length)).toEqual([1, 1]);
  });

  it('a worker out of memory is the file\'s error, not the process\'s end', async () => {
    const p = pool({ maxHeapMiB: 4, workers: 1 });
    const r = await p.parse(hostileManifests().validDocuments!(), 'many.yaml');
    expect(r.resources).toEqual([]);
    expect(r.errors).toEqual([{ file: 'many.yaml', line: 1, message: 'parsing needs more than 4 MiB; nothing in this file is applied' }]);
  });

  it('answers each of many parses sent ahead to one worker, in any number', async () => {
    const p = pool({ workers: 1 });
    const names = Array.from({ length: 100 }, (_, i) => `vm-${i}`);
    const results = await Promise.all(names.map((name) => p.parse(VM.replace('name: a', `name: ${name}`), `${name}.yaml`)));
    expect(results.map((r) => r.resources[0]?.resource.metadata.name)).toEqual(names);
  });

  it('a parse over its budget fails alone: the parses sent ahead to its worker are answered by another', async () => {
    const p = pool({ workers: 1 });
    const slow = p.parse(hostileManifests().validDocuments!(), 'many.yaml', 1);
    const behind = Array.from({ length: 20 }, (_, i) => p.parse(VM, `${i}.yaml`));
    expect((await slow).errors[0]!.message).toMatch(/^parse exceeded 1 ms/);
    expect((await Promise.all(behind)).map((r) => r.resources.length)).toEqual(Array(20).fill(1));
  });

  it('a worker slow to start fails no file: the budget starts once it is loaded (the 1000-station stall)', async () => {
    // On a loaded machine a fresh worker took longer than the budget to load and compile the
    // schemas; the first files then failed as "parse exceeded" and were never read again.
    const p = pool({ workers: 1, budgetMs: 500, script: join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'slow-start-parse-worker.mjs') });
    const results = await Promise.all(['a', 'b', 'c'].map((name) => p.parse(VM.replace('name: a', `name: ${name}`), `${name}.yaml`)));
    expect(results.map((r) => [r.errors, r.resources.length])).toEqual([[[], 1], [[], 1], [[], 1]]);
  });

  it('a burst of files is parsed by one worker: another starts only while a parse runs long (issue 12, controller RSS)', async () => {
    const p = pool({ workers: 2, slowMs: 3_600_000 });
    const names = Array.from({ length: 100 }, (_, i) => `vm-${i}`);
    const results = await Promise.all(names.map((name) => p.parse(VM.replace('name: a', `name: ${name}`), `${name}.yaml`)));
    expect(results.map((r) => r.resources[0]?.resource.metadata.name)).toEqual(names);
    expect(p.workerCount).toBe(1);
  });

  it('the files behind a parse that runs long go to another worker', async () => {
    const p = pool({ workers: 2, slowMs: 50, budgetMs: 3_600_000, script: join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'stuck-parse-worker.mjs') });
    const stuck = p.parse(VM, 'stuck.yaml');
    // The first 15 are sent ahead to the stuck worker with it; the others wait in the pool.
    const files = Array.from({ length: 40 }, (_, i) => p.parse(VM.replace('name: a', `name: vm-${i}`), `vm-${i}.yaml`));
    const answered = await Promise.all(files.slice(15));
    expect(answered.map((r) => r.resources[0]?.resource.metadata.name)).toEqual(Array.from({ length: 25 }, (_, i) => `vm-${i + 15}`));
    expect(p.workerCount).toBe(2);
    await p.close();
    expect((await stuck).errors[0]!.message).toBe('the parser was stopped');
  });

  it('a worker idle for idleMs is stopped, and the next parse starts another', async () => {
    const p = pool({ idleMs: 20, residentWorkers: 0 });
    await p.parse(VM, 'a.yaml');
    expect(p.workerCount).toBe(1);
    while (p.workerCount > 0) await new Promise((r) => setTimeout(r, 10));
    expect((await p.parse(VM, 'b.yaml')).resources).toHaveLength(1);
  });

  it('one worker stays loaded however long it idles: a lone edit after a pause does not wait for a worker to start', async () => {
    const p = pool({ idleMs: 20, workers: 2 });
    await p.parse(VM, 'a.yaml');
    expect(p.workerCount).toBe(1);
    // Its idle timer was set when the parse finished: a timer of three times its delay set now fires after it.
    await new Promise((r) => setTimeout(r, 60));
    expect(p.workerCount).toBe(1);
    expect((await p.parse(VM, 'b.yaml')).resources).toHaveLength(1);
  });
});
