// A controller stopped and started again over the same libvirt and state directory.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, Harness, manyVms, vmYaml } from '../helpers/harness.js';

describe('controller restarts on test:///default', () => {
  let h: Harness;
  afterEach(async () => h.dispose());

  it('restarted mid-way: no duplicate domains, allocations kept, everything converges', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `rs-${i}`);
    h = await Harness.create({ files: { 'a.yaml': manyVms(names.slice(0, 100).map((name) => ({ name }))), 'b.yaml': manyVms(names.slice(100).map((name) => ({ name }))) } });
    await h.start();
    // Stop as soon as some (not all) have been reconciled.
    await eventually(() => names.filter((n) => h.status(n)).length >= 20, 'some statuses');
    await h.stop();
    const macsBefore = new Map(names.flatMap((n) => {
      const s = h.statusFromDisk(n);
      return s?.allocations.mac ? [[n, s.allocations.mac] as const] : [];
    }));
    expect(macsBefore.size).toBeGreaterThanOrEqual(20);
    const uuidsBefore = new Map((await Promise.all(names.map(async (n) => [n, (await h.domain(n))?.uuid] as const))).filter(([, u]) => u));

    await h.start();
    await eventually(() => names.every((n) => h.status(n)?.printableStatus === 'Running'), 'all Running after restart');
    const domains = await h.observer.listDomains();
    const ours = domains.filter((d) => d.name.startsWith('rs-'));
    expect(ours.length).toBe(200);
    for (const [n, mac] of macsBefore) expect(h.status(n)!.allocations.mac).toBe(mac);
    for (const [n, uuid] of uuidsBefore) expect((await h.domain(n))!.uuid).toBe(uuid);
    expect(new Set(names.map((n) => h.status(n)!.allocations.mac)).size).toBe(200);
  });

  it('a MAC is not handed out twice when the state directory is lost (rebuilt from domain metadata)', async () => {
    h = await Harness.create({ files: { 'a.yaml': manyVms([{ name: 'mac-a' }, { name: 'mac-b' }]) } });
    await h.start();
    await h.waitForStatus('mac-b', 'Running');
    const macA = h.status('mac-a')!.allocations.mac;
    await h.stop();
    h.wipeState();
    await h.start();
    await h.waitForStatus('mac-a', 'Running');
    expect(h.status('mac-a')!.allocations.mac).toBe(macA);
    expect((await h.domain('mac-a'))!.parsed.facts.nics[0]!.mac).toBe(macA);
  });

  it('a file removed while the controller was down: its VMs go at the next start', async () => {
    h = await Harness.create({ files: { 'keep.yaml': vmYaml({ name: 'down-keep' }), 'gone.yaml': vmYaml({ name: 'down-gone' }) } });
    await h.start();
    await h.waitForStatus('down-gone', 'Running');
    await h.stop();
    h.remove('gone.yaml');
    await h.start();
    await eventually(async () => (await h.domain('down-gone')) === undefined, 'down-gone undefined');
    expect((await h.domain('down-keep'))!.state).toBe('running');
    expect(h.status('down-gone')).toBeUndefined();
  });

  it('a file broken while the controller was down keeps its VMs as they were', async () => {
    h = await Harness.create({ files: { 'vm.yaml': manyVms([{ name: 'brk-1' }, { name: 'brk-2', runStrategy: 'Halted' }]) } });
    await h.start();
    await h.waitForStatus('brk-1', 'Running');
    await h.waitForStatus('brk-2', 'Stopped');
    const before = await h.domain('brk-1');
    await h.stop();
    h.write('vm.yaml', 'kind: VirtualMachine\n  this is: [not yaml');
    await h.start();
    await h.settle();
    const cond = await eventually(() => h.status('brk-1')?.conditions.find((c) => c.type === 'SourceValid'), 'SourceValid on brk-1');
    expect(cond.reason).toBe('InvalidManifest');
    const after = await h.domain('brk-1');
    expect(after!.state).toBe('running');
    expect(after!.id).toBe(before!.id);
    expect((await h.domain('brk-2'))!.state).toBe('shutoff');
    expect(h.logs.some((l) => l.includes('keeping the last good state'))).toBe(true);
  });
});
