// The directory watch on a real temporary directory tree (inotify): files in folders made,
// renamed and removed after it started are reported, and whether a file is complete; dot files
// and folders are not.
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryWatch } from '../../src/sources/directory-watch.js';

const roots: string[] = [];
const watches: DirectoryWatch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.close();
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function watched(files: string[] = []) {
  const root = mkdtempSync(join(tmpdir(), 'wimaxvm-dirwatch-'));
  roots.push(root);
  for (const f of files) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), 'x: 1\n');
  }
  const changed = new Set<string>();
  /** The complete flag of each path's last change. */
  const complete = new Map<string, boolean>();
  const removed = new Set<string>();
  let rootGone = false;
  const w = new DirectoryWatch(root, {
    ignored: (path, isFile) => basename(path).startsWith('.') || (isFile && !path.endsWith('.yaml')),
    changed: (p, done) => { changed.add(p.slice(root.length + 1)); complete.set(p.slice(root.length + 1), done); removed.delete(p.slice(root.length + 1)); },
    removed: (p) => removed.add(p.slice(root.length + 1)),
    rootGone: () => { rootGone = true; },
    error: (err) => { throw err; },
  });
  watches.push(w);
  const initial = w.start().map((p) => p.slice(root.length + 1)).sort();
  return { root, initial, changed, complete, removed, gone: () => rootGone };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; !ok(); i++) {
    if (i > 500) throw new Error(`not seen: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('one watch per directory', () => {
  it('lists the files present, in folders too, without dot files, dot folders or other extensions', () => {
    const { initial } = watched(['a.yaml', 'sub/b.yaml', 'sub/deeper/c.yaml', '.hidden.yaml', '.git/d.yaml', 'notes.txt']);
    expect(initial).toEqual(['a.yaml', 'sub/b.yaml', 'sub/deeper/c.yaml']);
  });

  it('reports a new file, a change, an editor\'s rename onto a file, and a removal', async () => {
    const w = watched(['a.yaml']);
    writeFileSync(join(w.root, 'new.yaml'), 'x: 1\n');
    await until('new.yaml added', () => w.changed.has('new.yaml'));
    writeFileSync(join(w.root, 'a.yaml'), 'x: 2\n');
    await until('a.yaml changed', () => w.changed.has('a.yaml'));
    w.changed.clear();
    writeFileSync(join(w.root, '.a.yaml.swp'), 'x: 3\n');
    renameSync(join(w.root, '.a.yaml.swp'), join(w.root, 'a.yaml'));
    await until('a.yaml replaced', () => w.changed.has('a.yaml'));
    expect(w.changed.has('.a.yaml.swp')).toBe(false);
    rmSync(join(w.root, 'new.yaml'));
    await until('new.yaml removed', () => w.removed.has('new.yaml'));
  });

  it('says a file is complete once its writer closed it or renamed it into place, not while it is open', async () => {
    const w = watched();
    const fd = openSync(join(w.root, 'open.yaml'), 'w');
    writeSync(fd, 'x: 1\n');
    await until('open.yaml changed', () => w.changed.has('open.yaml'));
    expect(w.complete.get('open.yaml')).toBe(false);
    closeSync(fd);
    await until('open.yaml complete', () => w.complete.get('open.yaml') === true);
    writeFileSync(join(w.root, '.r.yaml.tmp'), 'x: 2\n');
    renameSync(join(w.root, '.r.yaml.tmp'), join(w.root, 'r.yaml'));
    await until('r.yaml complete', () => w.complete.get('r.yaml') === true);
  });

  it('watches a folder made after the start, and reports the files of a folder removed or renamed', async () => {
    const w = watched(['keep.yaml']);
    mkdirSync(join(w.root, 'late'));
    writeFileSync(join(w.root, 'late', 'v.yaml'), 'x: 1\n');
    await until('late/v.yaml added', () => w.changed.has('late/v.yaml'));
    renameSync(join(w.root, 'late'), join(w.root, 'moved'));
    await until('late/v.yaml gone, moved/v.yaml there', () => w.removed.has('late/v.yaml') && w.changed.has('moved/v.yaml'));
    rmSync(join(w.root, 'moved'), { recursive: true });
    await until('moved/v.yaml removed', () => w.removed.has('moved/v.yaml'));
    expect(w.removed.has('keep.yaml')).toBe(false);
  });

  it('says when the watched directory itself is gone', async () => {
    const w = watched(['a.yaml']);
    rmSync(w.root, { recursive: true });
    await until('root gone', w.gone);
    expect(w.removed.has('a.yaml')).toBe(true);
  });
});
