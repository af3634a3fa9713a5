// Defect 11 (issue 15): a changed file is read only once it has been quiet for the settle time.
// A same-content save written in two chunks, and a quick `git checkout` A→B→A, restart nothing.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, manyVms, vmYaml } from '../helpers/harness.js';
import { actions, barrier, disturbed, expectNoneDisturbed, git, markDomains } from './fault-helpers.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('settle time for changed files (test:///default)', () => {
  let h: Harness;
  const FILES = 40;
  const groupNames = Array.from({ length: FILES }, (_, f) => [`stl-${f}-a`, `stl-${f}-b`]);
  const groupFile = (f: number) => `group-${f}.yaml`;
  const groupA = (f: number) => manyVms(groupNames[f]!.map((name) => ({ name, vcpus: 2 })));

  beforeAll(async () => {
    const files: Record<string, string> = { 'two.yaml': vmYaml({ name: 'stl-two', vcpus: 2 }) };
    for (let f = 0; f < FILES; f++) files[groupFile(f)] = groupA(f);
    // Long enough that the steps below fall inside it even on a loaded machine.
    h = await Harness.create({ files, flags: { settle: '2s' } });
    await h.start();
    await eventually(() => ['stl-two', ...groupNames.flat()].every((n) => h.status(n)?.printableStatus === 'Running'), 'all Running', 60_000);
    await h.settle();
  });
  afterAll(async () => h?.dispose());

  it('a save written in two chunks is read once, whole: no restart, the end applied', async () => {
    const before = await markDomains(h, ['stl-two']);
    const logFrom = h.logs.length;
    const whole = vmYaml({ name: 'stl-two', vcpus: 2 }) + '---\n' + vmYaml({ name: 'stl-two-next' });
    // The first chunk is a valid, different document: vcpus missing (its default is 1).
    const cut = whole.indexOf('  vcpus: 2');
    const fd = openSync(join(h.dir, 'two.yaml'), 'w');
    try {
      writeSync(fd, whole.slice(0, cut));
      await pause(300); // long enough for the watcher to report the first chunk
      writeSync(fd, whole.slice(cut));
    } finally {
      closeSync(fd);
    }
    await h.waitForStatus('stl-two-next', 'Running', 30_000);
    await h.settle();
    expectNoneDisturbed(await disturbed(h, before));
    const d = (await h.domain('stl-two'))!;
    expect([d.parsed.facts.memoryKiB, d.parsed.facts.vcpus]).toEqual([65536, 2]);
    expect(h.status('stl-two')!.observedGeneration).toBe(1);
    expect(actions(h, logFrom).filter((a) => a.includes('stl-two ') || a.endsWith('stl-two'))).toEqual([]);
  });

  it('git checkout A→B→A inside the settle time restarts, creates and deletes nothing', async () => {
    git(h.dir, 'init', '-q');
    git(h.dir, 'add', '-A');
    git(h.dir, 'commit', '-qm', 'A');
    git(h.dir, 'checkout', '-qb', 'b');
    // B: every group file changes (memory: a restart), a quarter are deleted, ten files are new.
    for (let f = 0; f < FILES; f++) {
      if (f % 4 === 3) git(h.dir, 'rm', '-q', groupFile(f));
      else h.write(groupFile(f), manyVms(groupNames[f]!.map((name) => ({ name, memory: '128Mi' }))));
    }
    for (let n = 0; n < 10; n++) h.write(`only-b-${n}.yaml`, vmYaml({ name: `stl-only-b-${n}` }));
    git(h.dir, 'add', '-A');
    git(h.dir, 'commit', '-qm', 'B');
    git(h.dir, 'checkout', '-q', 'main');
    // What git itself wrote on the way to B and back is event noise the source must ride out.
    await barrier(h, 'stl');
    const before = await markDomains(h, groupNames.flat());
    const logFrom = h.logs.length;

    const started = Date.now();
    git(h.dir, 'checkout', '-q', 'b');
    await pause(250); // as a person or a script would: B is on disk for a quarter second
    git(h.dir, 'checkout', '-q', 'main');
    const took = Date.now() - started;
    expect(took, 'the checkouts took longer than the settle time: the test proves nothing').toBeLessThan(2000);

    await barrier(h, 'stl');
    expectNoneDisturbed(await disturbed(h, before));
    expect(actions(h, logFrom).filter((a) => !a.includes('barrier'))).toEqual([]);
    for (let n = 0; n < 10; n++) expect(await h.domain(`stl-only-b-${n}`)).toBeUndefined();
  });

  it('a checkout that stays on B applies B once it is quiet', async () => {
    const kept = groupNames.filter((_, f) => f % 4 !== 3).flat();
    const before = await markDomains(h, kept);
    git(h.dir, 'checkout', '-q', 'b');
    await eventually(async () => (await Promise.all(kept.map((n) => h.domain(n)))).every((d) => d?.parsed.facts.memoryKiB === 131072 && d.state === 'running'), 'B applied: 128Mi everywhere', 60_000);
    await eventually(async () => (await Promise.all(groupNames.filter((_, f) => f % 4 === 3).flat().map((n) => h.domain(n)))).every((d) => d === undefined), 'the VMs of the files B deleted deleted', 60_000);
    await eventually(() => Array.from({ length: 10 }, (_, n) => h.status(`stl-only-b-${n}`)?.printableStatus).every((s) => s === 'Running'), 'the VMs B added running', 60_000);
    // Each kept VM restarted exactly for its memory change: same uuid.
    const after = await markDomains(h, kept);
    expect(kept.filter((n) => after.get(n)!.uuid !== before.get(n)!.uuid)).toEqual([]);
  });
});
