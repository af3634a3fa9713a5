// When the directory source reads a changed file (real files, real inotify, the real parse
// pool): a file its writer closed or renamed into place is read at once, without the settle
// window; a file still open for writing is not; files written while the source starts are read;
// new files written together are read at once; a change that includes files read before waits.
// The settle window is an hour where a read that waited for it must never come.
import { closeSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DesiredStore } from '../../src/core/desired-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { DirectorySource } from '../../src/sources/directory-source.js';

const vm = (name: string, memory = '64Mi') => `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\nspec:\n  memory: ${memory}\n`;
const key = (name: string) => `VirtualMachine/default/${name}`;
const HOUR = 3_600_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function source(files: Record<string, string> = {}, settleMs = HOUR) {
  const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-srctiming-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const store = new DesiredStore();
  const src = new DirectorySource({ dir, store, logger: silentLogger, previous: () => undefined, storedObjects: () => [], settleMs });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => src.stop());
  return { dir, store, src };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; !ok(); i++) {
    if (i > 3000) throw new Error(`not seen: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const memoryOf = (store: DesiredStore, name: string) => (store.get(key(name))?.spec as { memory?: string } | undefined)?.memory;

describe('a finished file is read at once; one being written is not', () => {
  it('a file written and closed, or renamed into place, is read without the settle window', async () => {
    const { dir, store, src } = source({ 'a.yaml': vm('a') });
    await src.start();
    writeFileSync(join(dir, 'a.yaml'), vm('a', '128Mi'));
    await until('a.yaml read at once', () => memoryOf(store, 'a') === '128Mi');
    writeFileSync(join(dir, '.b.yaml.tmp'), vm('b'));
    renameSync(join(dir, '.b.yaml.tmp'), join(dir, 'b.yaml'));
    await until('b.yaml read at once', () => memoryOf(store, 'b') === '64Mi');
    expect(store.get(key('a'))!.metadata.generation).toBe(2);
  });

  it('a file still open for writing waits; its close is read, whole', async () => {
    const { dir, store, src } = source();
    await src.start();
    const whole = vm('c', '96Mi') + '---\n' + vm('c2');
    const cut = whole.indexOf('---'); // the first part alone is a valid, complete declaration
    const fd = openSync(join(dir, 'c.yaml'), 'w');
    writeSync(fd, whole.slice(0, cut));
    await new Promise((r) => setTimeout(r, 300)); // were the open file read, it would be now
    expect(store.get(key('c'))).toBeUndefined();
    writeSync(fd, whole.slice(cut));
    closeSync(fd);
    await until('c.yaml read once closed', () => store.get(key('c2')) !== undefined);
    expect([memoryOf(store, 'c'), store.get(key('c'))!.metadata.generation]).toEqual(['96Mi', 1]);
  });

  it('files written while the source starts are read once it has, without a resync', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `s-${i}`);
    // Many files at once are read once quiet (a checkout): an ordinary settle window.
    const { dir, store, src } = source(Object.fromEntries(names.map((n) => [`${n}.yaml`, vm(n)])), 400);
    const starting = src.start();
    // Written while the initial read runs: new files, and changes to files being read.
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `late-${i}.yaml`), vm(`late-${i}`));
    for (const n of names.slice(0, 20)) writeFileSync(join(dir, `${n}.yaml`), vm(n, '128Mi'));
    await starting;
    await until('every late file and change read', () =>
      Array.from({ length: 20 }, (_, i) => store.get(key(`late-${i}`))).every(Boolean) && names.slice(0, 20).every((n) => memoryOf(store, n) === '128Mi'));
  });
});

describe('several files changing together: new files alone are read at once; with files read before, all wait (the settle window is an hour)', () => {
  it('50 new files written together are all read', async () => {
    const { dir, store, src } = source();
    await src.start();
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, `n-${i}.yaml`), vm(`n-${i}`));
    await until('all 50 new files read', () => Array.from({ length: 50 }, (_, i) => store.get(key(`n-${i}`))).every(Boolean));
  });

  it('files read before and changed together wait, and so does a new file written with them (a checkout)', async () => {
    const { dir, store, src } = source({ 'k1.yaml': vm('k1'), 'k2.yaml': vm('k2') });
    await src.start();
    writeFileSync(join(dir, 'k1.yaml'), vm('k1', '128Mi'));
    writeFileSync(join(dir, 'k3.yaml'), vm('k3'));
    writeFileSync(join(dir, 'k2.yaml'), vm('k2', '128Mi'));
    // New files alone are read within this (the test above); these wait for the settle window.
    await new Promise((r) => setTimeout(r, 300));
    expect([memoryOf(store, 'k1'), memoryOf(store, 'k2'), store.get(key('k3'))]).toEqual(['64Mi', '64Mi', undefined]);
  });

  it('a VM moved between files, the old one removed first and the new one written later, is never deleted or changed', async () => {
    const { dir, store, src } = source({ 'p.yaml': vm('mv') });
    await src.start();
    const { uid, generation } = store.get(key('mv'))!.metadata;
    const gone: string[] = [];
    store.onChange((k) => { if (k === key('mv') && !store.get(k)) gone.push(k); });
    rmSync(join(dir, 'p.yaml'));
    await new Promise((r) => setTimeout(r, 100)); // a pause past the 25 ms look for other files, well inside the removal's second look
    writeFileSync(join(dir, 'q.yaml'), vm('mv'));
    await until('its declaration in q.yaml taken', () => store.get(key('mv'))?.metadata.annotations?.['wimaxvm.io/source'] === 'q.yaml:1');
    await src.settled(); // the removal's second look has been
    expect([gone, store.get(key('mv'))!.metadata.uid, store.get(key('mv'))!.metadata.generation, store.problem(key('mv'))]).toEqual([[], uid, generation, undefined]);
  });
});
