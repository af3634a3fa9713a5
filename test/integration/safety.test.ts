// The ways the landed controller lost VMs, each on the real engine and test:///default: a VM
// goes only on positive evidence that its declaration was deleted, only by the controller that
// made it, and what its run strategy must remember lives with the domain.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fileModeIdentity } from '../../src/core/controller-identity.js';
import { eventually, Harness, manyVms, vmYaml } from '../helpers/harness.js';

describe('nothing is deleted without proof', () => {
  const harnesses: Harness[] = [];
  const make = async (opts: Parameters<typeof Harness.create>[0]) => {
    const h = await Harness.create(opts);
    harnesses.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.dispose();
  });

  it('a watched directory that is empty at start deletes nothing, says so, and --allow-empty lets it', async () => {
    const h = await make({ files: { 'a.yaml': manyVms([{ name: 'em-1' }, { name: 'em-2' }]) } });
    await h.start();
    await h.waitForStatus('em-2', 'Running');
    const before = (await h.domain('em-1'))!;
    await h.stop();
    h.remove('a.yaml'); // a failed mount, a wrong path: the directory reads as empty

    const running = await h.start();
    await eventually(() => running.gate.withheldCount === 2, 'both deletions withheld');
    await h.settle();
    const after = (await h.domain('em-1'))!;
    expect(after.state).toBe('running');
    expect(after.id).toBe(before.id);
    expect(h.logs.some((l) => l.includes('not deleting em-1') && l.includes('declares no resources'))).toBe(true);
    expect((await running.metrics.registry.getSingleMetricAsString('wimaxvm_deletions_withheld'))).toMatch(/wimaxvm_deletions_withheld 2/);
    await h.stop();

    h.flags = { ...h.flags, 'allow-empty': true };
    await h.start();
    await eventually(async () => (await h.domain('em-1')) === undefined && (await h.domain('em-2')) === undefined, 'both undefined with --allow-empty');
  });

  it('the last file deleted while running is an empty read too: nothing goes until --allow-empty', async () => {
    const h = await make({ files: { 'only.yaml': vmYaml({ name: 'last-1' }) } });
    const running = await h.start();
    await h.waitForStatus('last-1', 'Running');
    h.remove('only.yaml');
    await eventually(() => running.gate.withheldCount === 1, 'deletion withheld');
    expect((await h.domain('last-1'))!.state).toBe('running');
  });

  it('a declaration cut from one file and pasted into a broken one is not a deletion', async () => {
    const h = await make({ files: { 'a.yaml': manyVms([{ name: 'mv-1' }, { name: 'mv-keep' }]), 'b.yaml': vmYaml({ name: 'mv-b' }) } });
    const running = await h.start();
    await h.waitForStatus('mv-1', 'Running');
    const before = (await h.domain('mv-1'))!;
    h.write('a.yaml', vmYaml({ name: 'mv-keep' }));
    h.write('b.yaml', `${vmYaml({ name: 'mv-b' })}---\n${vmYaml({ name: 'mv-1' }).replace('spec:', 'spec: [broken')}`);
    await eventually(() => running.gate.withheldCount === 1, 'the deletion of mv-1 withheld');
    await h.settle();
    const after = (await h.domain('mv-1'))!;
    expect(after.state).toBe('running');
    expect(after.id).toBe(before.id);
  });

  it('a watched directory that vanishes deletes nothing; once it is back it is watched and read again', async () => {
    const h = await make({ files: { 'a.yaml': vmYaml({ name: 'back-a' }), 'b.yaml': vmYaml({ name: 'back-b' }) } });
    const running = await h.start();
    await h.waitForStatus('back-b', 'Running');
    const before = (await h.domain('back-a'))!;
    rmSync(h.dir, { recursive: true });
    await eventually(() => h.logs.some((l) => l.includes('watched directory is gone')), 'the source to see its directory gone');
    expect(running.gate.blocked()).toContain('is gone');
    expect((await h.domain('back-b'))!.state).toBe('running');
    mkdirSync(h.dir);
    h.write('a.yaml', vmYaml({ name: 'back-a' }));
    h.write('c.yaml', vmYaml({ name: 'back-c' }));
    await h.waitForStatus('back-c', 'Running', 30_000);
    await eventually(async () => (await h.domain('back-b')) === undefined, 'back-b, not back with the directory, deleted');
    expect((await h.domain('back-a'))!.id).toBe(before.id);
    await eventually(() => running.gate.blocked() === undefined, 'the source to vouch again');
  });

  it('with the state store lost and a file broken, a VM that may be declared in it is kept', async () => {
    const h = await make({ files: { 'a.yaml': vmYaml({ name: 'bk-a' }), 'b.yaml': vmYaml({ name: 'bk-b' }) } });
    await h.start();
    await h.waitForStatus('bk-b', 'Running');
    const before = (await h.domain('bk-b'))!;
    await h.stop();
    h.wipeState();
    h.write('b.yaml', 'kind: VirtualMachine\n  this is: [not yaml');
    const running = await h.start();
    await eventually(() => running.gate.withheldCount === 1, 'bk-b deletion withheld');
    const after = (await h.domain('bk-b'))!;
    expect(after.state).toBe('running');
    expect(after.id).toBe(before.id);
    expect(h.logs.some((l) => l.includes('not deleting bk-b') && l.includes('cannot be read'))).toBe(true);
  });
});

describe('one controller per directory, and others\' domains are never touched', () => {
  const harnesses0: Harness[] = [];
  afterEach(async () => {
    for (const h of harnesses0.splice(0)) await h.dispose();
  });

  it('a domain made before identities were recorded is left to the controller that declares it; --adopt-from legacy takes it over', async () => {
    const a = await Harness.create({ files: { 'vms.yaml': vmYaml({ name: 'legacy-1' }) } });
    const b = await Harness.create({ files: { 'other.yaml': vmYaml({ name: 'legacy-other' }) } });
    harnesses0.push(a, b);
    await a.start();
    await a.waitForStatus('legacy-1', 'Running');
    await a.stop();
    // As an older wimaxvm wrote it: no controller attribute.
    const old = (await a.domain('legacy-1'))!;
    await a.observer.define(old.persistentXml.replace(/ controller="[^"]*"/, ''));
    expect((await a.domain('legacy-1'))!.parsed.owner!.controller).toBeUndefined();

    await b.start();
    await b.waitForStatus('legacy-other', 'Running');
    await b.settle();
    expect((await b.domain('legacy-1'))!.id).toBe(old.id);
    await b.stop();

    b.flags = { ...b.flags, 'adopt-from': ['legacy'] };
    await b.start();
    await eventually(async () => (await b.domain('legacy-1')) === undefined, 'legacy-1 removed by the controller told to adopt legacy domains');
  });

  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.dispose();
  });

  it('two controllers on one libvirt with different directories leave each other\'s domains alone', async () => {
    const a = await Harness.create({ files: { 'vms.yaml': manyVms([{ name: 'two-a' }, { name: 'two-shared' }]) } });
    const b = await Harness.create({ files: { 'vms.yaml': manyVms([{ name: 'two-b' }, { name: 'two-shared' }]) } });
    harnesses.push(a, b);
    await a.start();
    await a.waitForStatus('two-shared', 'Running');
    const shared = (await a.domain('two-shared'))!;
    expect(shared.parsed.owner!.controller).toBe(fileModeIdentity(a.dir));

    await b.start();
    await b.waitForStatus('two-b', 'Running');
    const ready = await eventually(() => b.status('two-shared')?.conditions.find((c) => c.reason === 'DomainOwnedElsewhere'), 'DomainOwnedElsewhere on b');
    expect(ready.message).toContain(fileModeIdentity(a.dir));
    await b.settle();
    await b.stop();
    await b.start(); // b's own restart (a's domains now in its survey) changes nothing either
    await b.settle();
    await a.settle();
    const after = (await a.domain('two-shared'))!;
    expect(after.id).toBe(shared.id);
    expect(after.parsed.owner!.controller).toBe(fileModeIdentity(a.dir));
    expect((await a.domain('two-a'))!.state).toBe('running');
    expect(b.logs.some((l) => /(shutting down|destroyed|undefined|defined|updated) two-(a|shared)/.test(l))).toBe(false);
  });

  it('a stale state store that names another controller\'s VMs deletes nothing of theirs', async () => {
    const a = await Harness.create({ files: { 'vms.yaml': manyVms([{ name: 'stale-1' }, { name: 'stale-2' }]) } });
    harnesses.push(a);
    await a.start();
    await a.waitForStatus('stale-2', 'Running');
    const before = (await a.domain('stale-1'))!;
    await a.stop();
    // Another project folder whose state store was copied from (or left by) the first.
    const b = await Harness.create({ files: { 'other.yaml': vmYaml({ name: 'stale-other' }) } });
    harnesses.push(b);
    cpSync(a.stateDir, b.stateDir, { recursive: true });
    await b.start();
    await b.waitForStatus('stale-other', 'Running');
    await b.settle();
    const after = (await b.domain('stale-1'))!;
    expect(after.state).toBe('running');
    expect(after.id).toBe(before.id);
    expect(b.status('stale-1')).toBeUndefined(); // the stale record is dropped, the domain left alone
  });
});

describe('what a run strategy must remember lives with the domain', () => {
  let h: Harness;
  afterEach(async () => h.dispose());

  it('losing the state store never starts a Once or RerunOnFailure VM that stopped', async () => {
    h = await Harness.create({ files: { 'vms.yaml': manyVms([{ name: 'mem-once', runStrategy: 'Once' }, { name: 'mem-rerun', runStrategy: 'RerunOnFailure' }]) } });
    await h.start();
    await h.waitForStatus('mem-once', 'Running');
    await h.waitForStatus('mem-rerun', 'Running');
    expect((await h.domain('mem-once'))!.parsed.owner!.startedOnce).toBe(true);
    // The guests finish their work and power off.
    await h.observer.shutdown('mem-once');
    await h.observer.shutdown('mem-rerun');
    await h.waitForStatus('mem-once', 'Stopped');
    await h.waitForStatus('mem-rerun', 'Stopped');
    await h.stop();
    h.wipeState();
    await h.start();
    await h.waitForStatus('mem-once', 'Stopped');
    await h.waitForStatus('mem-rerun', 'Stopped');
    await h.settle();
    expect((await h.domain('mem-once'))!.state).toBe('shutoff');
    expect((await h.domain('mem-rerun'))!.state).toBe('shutoff');
  });
});

describe('a controller starts completely or not at all', () => {
  let h: Harness;
  let blocker: Server | undefined;
  afterEach(async () => {
    await h.dispose();
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    blocker = undefined;
  });

  it('cannot listen: the start fails and no VM is defined or started', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    h = await Harness.create({ files: { 'vms.yaml': vmYaml({ name: 'nolisten-1' }) }, flags: { listen: `127.0.0.1:${port}` } });
    await expect(h.start()).rejects.toThrow(/http: listen EADDRINUSE/);
    expect(await h.observer.getDomain('nolisten-1', true)).toBeUndefined();
  });

  it('a non-loopback listener without a token is refused before anything is done', async () => {
    h = await Harness.create({ files: { 'vms.yaml': vmYaml({ name: 'notoken-1' }) }, flags: { listen: '0.0.0.0:0' } });
    await expect(h.start()).rejects.toThrow(/without a token/);
    expect(await h.observer.getDomain('notoken-1', true)).toBeUndefined();
  });
});
