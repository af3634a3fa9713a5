// Hostile files in the watched directory of a running controller (file mode, test:///default,
// the legacy API over real HTTP): each becomes SourceValid=False with file:line on the VMs of its
// file, whose last good declaration stays in force; VMs of other files keep their domain id and
// uuid; writes that do not edit the broken file go through (issue 15, 1-6).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { hostileManifests } from '../helpers/hostile-manifests.js';

const HOSTILE_VM = 'apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: hx-target\n';
const hostile = hostileManifests();

describe('hostile files against the running file mode', () => {
  let h: Harness;
  let base: string;
  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, body: await res.text() };
  };
  const identities = async (names: string[]) => Promise.all(names.map(async (n) => { const d = await h.domain(n); return `${n} ${d?.uuid} ${d?.id} ${d?.state}`; }));
  const bystanders = ['hx-a', 'hx-b'];

  beforeAll(async () => {
    h = await Harness.create({ files: { 'a.yaml': vmYaml({ name: 'hx-a' }), 'b.yaml': vmYaml({ name: 'hx-b' }), 'target.yaml': vmYaml({ name: 'hx-target' }) } });
    h.flags = { listen: '127.0.0.1:0' };
    base = `http://127.0.0.1:${(await h.start()).httpAddress!.port}`;
    for (const n of [...bystanders, 'hx-target']) await h.waitForStatus(n, 'Running');
  });
  afterAll(async () => h.dispose());

  it.each<[string, string, RegExp]>([
    ['an unresolved alias', `${HOSTILE_VM}  labels: *nope\nspec: {}\n`, /^target\.yaml:1: YAML: Unresolved alias/],
    ['a billion laughs', `${HOSTILE_VM}  labels:\n    a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n${Array.from({ length: 8 }, (_, i) => `    a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(',')}]\n`).join('')}spec: {}\n`, /^target\.yaml:1: YAML: Excessive alias count/],
    ['nesting 5,000 deep', `${HOSTILE_VM}spec:\n  disks: ${'['.repeat(5000)}\n`, /^target\.yaml:6: collections are nested more than 64 deep/],
    ['an unclosed list of 512 KiB', hostile.unclosedList!().replace('name: hostile', 'name: hx-target'), /^target\.yaml:\d+: /],
    ['a document over 512 KiB', `${HOSTILE_VM}  annotations: {x: "${'x'.repeat(600_000)}"}\nspec: {}\n`, /^target\.yaml:1: the document starting here is larger than 512 KiB/],
    ['10,001 empty documents', '---\n'.repeat(10_001), /^target\.yaml:10001: more than 10000 documents/],
  ])('%s: SourceValid=False with file:line, the last good state kept, other VMs untouched', async (_label, text, message) => {
    const before = await identities([...bystanders, 'hx-target']);
    h.write('target.yaml', text);
    const condition = await eventually(() => h.status('hx-target')?.conditions.find((c) => c.type === 'SourceValid' && c.status === 'False' && message.test(c.message)), `SourceValid=False matching ${message}`);
    expect(condition.message).toMatch(/the last good declaration stays in force/);
    await h.settle();
    expect(await identities([...bystanders, 'hx-target'])).toEqual(before);
    // Writes that do not edit the broken file go through (issue 15, 5).
    expect((await get('/wimaxvm/stopshaping')).status).toBe(200);
    expect([200, 202]).toContain((await get('/wimaxvm/addclient?clientmac=00:11:22:33:44:66&vmname=hx-a')).status);
    expect((await get('/wimaxvm/stop/?vmname=hx-b')).status).toBe(200);
    expect((await get('/wimaxvm/start/?vmname=hx-b')).status).toBe(200);
    await h.waitForStatus('hx-b', 'Running');
    h.write('target.yaml', vmYaml({ name: 'hx-target' }));
    await eventually(() => !h.status('hx-target')!.conditions.some((c) => c.type === 'SourceValid'), 'SourceValid cleared');
  });

  it('an edit of the broken file itself is refused, naming the file and line', async () => {
    h.write('target.yaml', `${vmYaml({ name: 'hx-target' })}---\n${HOSTILE_VM.replace('hx-target', 'hx-other')}  labels: *nope\nspec: {}\n`);
    await eventually(() => h.status('hx-target')?.conditions.find((c) => c.type === 'SourceValid' && c.status === 'False'), 'SourceValid=False');
    const r = await get('/wimaxvm/stop/?vmname=hx-target');
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/target\.yaml declares default\/hx-target but is broken.*target\.yaml:\d+: YAML: Unresolved alias/);
    expect(readFileSync(join(h.dir, 'target.yaml'), 'utf8')).toContain('labels: *nope');
    expect((await get('/wimaxvm/create?mac=52:52:52:52:52:77&ip=192.168.0.77&vmname=hx-new')).status).toBe(200);
  });
});
