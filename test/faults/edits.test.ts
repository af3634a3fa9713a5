// Edits as people make them (issue 15): vim, emacs and `sed -i` saves, `git checkout` of another
// branch changing a hundred files, a file truncated then written in two halves, a directory
// moved away and back. No VM that the final content keeps is restarted or deleted (domain id
// and uuid unchanged), and the final content is applied.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, manyVms, vmYaml, type VmYaml } from '../helpers/harness.js';
import { actions, barrier, disturbed, expectNoneDisturbed, git, markDomains } from './fault-helpers.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const GIT_FILES = 100;

/** A VM file in another layout: comment, keys reordered, same spec. */
function reformatted(vm: VmYaml): string {
  return `# reviewed\nkind: VirtualMachine\napiVersion: wimaxvm.io/v1alpha1\nmetadata: {name: ${vm.name}}\nspec:\n  vcpus: ${vm.vcpus ?? 1}\n  memory: ${vm.memory ?? '64Mi'}\n  runStrategy: ${vm.runStrategy ?? 'Always'}\n`;
}

describe('edits as people make them (test:///default)', () => {
  let h: Harness;
  const path = (file: string) => join(h.dir, file);

  beforeAll(async () => {
    const files: Record<string, string> = {
      'vim.yaml': vmYaml({ name: 'ed-vim-0' }),
      'emacs.yaml': vmYaml({ name: 'ed-emacs-0' }),
      'sed.yaml': manyVms([{ name: 'ed-sed-0' }, { name: 'ed-sed-1', runStrategy: 'Halted' }]),
      'trunc.yaml': manyVms(names('ed-trunc', 5).map((name) => ({ name, vcpus: 2 }))),
    };
    for (const [i, name] of names('ed-mv', 5).entries()) files[`moving/m-${i}.yaml`] = vmYaml({ name });
    for (const [i, name] of names('ed-git', GIT_FILES).entries()) files[`repo/vm-${i}.yaml`] = vmYaml({ name });
    h = await Harness.create({ files, flags: { settle: '1s' } });
    await h.start();
    const running = ['ed-vim-0', 'ed-emacs-0', 'ed-sed-0', ...names('ed-trunc', 5), ...names('ed-mv', 5), ...names('ed-git', GIT_FILES)];
    await eventually(() => running.every((n) => h.status(n)?.printableStatus === 'Running'), 'all Running', 60_000);
    await h.settle();
  });
  afterAll(async () => h?.dispose());

  it('vim: swap file, original renamed to backup~, new file written, backup deleted', async () => {
    const before = await markDomains(h, ['ed-vim-0']);
    writeFileSync(path('.vim.yaml.swp'), 'b0VIM 9.0\0\0\0');
    renameSync(path('vim.yaml'), path('vim.yaml~'));
    writeFileSync(path('vim.yaml'), manyVms([{ name: 'ed-vim-0' }, { name: 'ed-vim-1' }]));
    rmSync(path('vim.yaml~'));
    rmSync(path('.vim.yaml.swp'));
    await h.waitForStatus('ed-vim-1', 'Running', 30_000);
    await barrier(h, 'ed');
    expectNoneDisturbed(await disturbed(h, before));
  });

  it('emacs: #autosave#, .# lock symlink, original renamed to backup~, new file written', async () => {
    const before = await markDomains(h, ['ed-emacs-0']);
    const logFrom = h.logs.length;
    writeFileSync(path('#emacs.yaml#'), vmYaml({ name: 'ed-emacs-0' }) + '---\nhalf: [');
    symlinkSync('root@testbed.4242:1764680000', path('.#emacs.yaml'));
    renameSync(path('emacs.yaml'), path('emacs.yaml~'));
    writeFileSync(path('emacs.yaml'), manyVms([{ name: 'ed-emacs-0' }, { name: 'ed-emacs-1' }]));
    rmSync(path('#emacs.yaml#'));
    rmSync(path('.#emacs.yaml'));
    await h.waitForStatus('ed-emacs-1', 'Running', 30_000);
    await barrier(h, 'ed');
    expectNoneDisturbed(await disturbed(h, before));
    expect(h.logs.slice(logFrom).filter((l) => /invalid manifest|duplicate/.test(l))).toEqual([]);
  });

  it('sed -i: temporary file renamed over the original', async () => {
    const before = await markDomains(h, ['ed-sed-0']);
    execFileSync('sed', ['-i', 's/runStrategy: Halted/runStrategy: Always/', 'sed.yaml'], { cwd: h.dir });
    await h.waitForStatus('ed-sed-1', 'Running', 30_000);
    await barrier(h, 'ed');
    expectNoneDisturbed(await disturbed(h, before));
  });

  it('a file truncated, then written in two halves (the first half valid and different)', async () => {
    const kept = names('ed-trunc', 5);
    const before = await markDomains(h, kept);
    const logFrom = h.logs.length;
    const whole = manyVms([...kept, 'ed-trunc-5'].map((name) => ({ name, vcpus: 2 })));
    const cut = whole.indexOf('name: ed-trunc-2'); // the first half ends inside the third document's metadata
    const fd = openSync(path('trunc.yaml'), 'w');
    try {
      await pause(100);
      writeSync(fd, whole.slice(0, cut).replace(/---\nmetadata:\n {2}$/, ''));
      await pause(100);
      writeSync(fd, whole.slice(whole.slice(0, cut).replace(/---\nmetadata:\n {2}$/, '').length));
    } finally {
      closeSync(fd);
    }
    await h.waitForStatus('ed-trunc-5', 'Running', 30_000);
    await barrier(h, 'ed');
    expectNoneDisturbed(await disturbed(h, before));
    expect(actions(h, logFrom).filter((a) => /ed-trunc-[0-4]$/.test(a))).toEqual([]);
  });

  it('a directory moved out of the watched one and straight back', async () => {
    const kept = names('ed-mv', 5);
    const before = await markDomains(h, kept);
    const away = `${h.dir}-moving-away`;
    renameSync(path('moving'), away);
    renameSync(away, path('moving'));
    await barrier(h, 'ed');
    expectNoneDisturbed(await disturbed(h, before));
    // Still heard: an edit in it applies.
    h.write('moving/m-5.yaml', vmYaml({ name: 'ed-mv-5' }));
    await h.waitForStatus('ed-mv-5', 'Running', 30_000);
  });

  it('the watched directory itself moved away and back: nothing deleted, edits heard again', async () => {
    const kept = ['ed-vim-0', 'ed-sed-0', ...names('ed-mv', 6)];
    const before = await markDomains(h, kept);
    const away = `${h.dir}-away`;
    renameSync(h.dir, away);
    // Away long enough to be noticed (the directory is looked at every second).
    await eventually(() => h.source().blocked(), 'the source to notice the directory is gone', 30_000);
    renameSync(away, h.dir);
    await eventually(() => h.source().blocked() === undefined, 'the source to read the directory again', 30_000);
    h.write('back.yaml', vmYaml({ name: 'ed-back' }));
    await h.waitForStatus('ed-back', 'Running', 30_000);
    await barrier(h, 'ed');
    expectNoneDisturbed(await disturbed(h, before));
  });

  it('git checkout of a branch that changes a hundred files: only what changed is touched', async () => {
    const repo = path('repo');
    const all = names('ed-git', GIT_FILES);
    git(repo, 'init', '-q');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'A');
    git(repo, 'checkout', '-qb', 'b');
    // B: 80 files reformatted (same spec), 10 with more memory (a restart), 5 deleted, 5 renamed, 5 new.
    const cosmetic = all.slice(0, 80), grown = all.slice(80, 90), deleted = all.slice(90, 95), renamed = all.slice(95);
    cosmetic.forEach((name) => h.write(`repo/vm-${all.indexOf(name)}.yaml`, reformatted({ name })));
    grown.forEach((name) => h.write(`repo/vm-${all.indexOf(name)}.yaml`, vmYaml({ name, memory: '128Mi' })));
    deleted.forEach((name) => git(repo, 'rm', '-q', `vm-${all.indexOf(name)}.yaml`));
    renamed.forEach((name) => git(repo, 'mv', `vm-${all.indexOf(name)}.yaml`, `renamed-${all.indexOf(name)}.yaml`));
    for (const name of names('ed-git-new', 5)) h.write(`repo/${name}.yaml`, vmYaml({ name }));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'B');
    git(repo, 'checkout', '-q', 'main');
    await barrier(h, 'ed');

    const before = await markDomains(h, all);
    const logFrom = h.logs.length;
    git(repo, 'checkout', '-q', 'b');
    await eventually(async () => (await Promise.all(grown.map((n) => h.domain(n)))).every((d) => d?.parsed.facts.memoryKiB === 131072 && d.state === 'running'), 'the grown VMs restarted with 128Mi', 60_000);
    await eventually(async () => (await Promise.all(deleted.map((n) => h.domain(n)))).every((d) => d === undefined), 'the VMs of deleted files deleted', 60_000);
    await eventually(() => names('ed-git-new', 5).every((n) => h.status(n)?.printableStatus === 'Running'), 'the new VMs running', 60_000);
    await barrier(h, 'ed');
    const kept = new Map([...before].filter(([n]) => cosmetic.includes(n) || renamed.includes(n)));
    expectNoneDisturbed(await disturbed(h, kept));
    const after = await markDomains(h, grown);
    expect(grown.filter((n) => after.get(n)!.uuid !== before.get(n)!.uuid), 'grown VMs re-created instead of restarted').toEqual([]);
    expect(actions(h, logFrom).filter((a) => [...kept.keys()].some((n) => a.endsWith(` ${n}`)))).toEqual([]);
    expect(h.logs.slice(logFrom).filter((l) => /duplicate declaration/.test(l))).toEqual([]);
  });
});
