// The real engine on libvirt's in-process test driver with a real watched directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, manyVms, vmYaml } from '../helpers/harness.js';
import { undefineByHand } from '../helpers/by-hand.js';
import { StateReader } from '../../src/adapters/store/state-reader.js';

describe('file mode on test:///default', () => {
  let h: Harness;
  const FILES = 50;
  const PER_FILE = 10;

  beforeAll(async () => {
    const files: Record<string, string> = {};
    for (let f = 0; f < FILES; f++) {
      files[`group-${f}/vms.yaml`] = manyVms(Array.from({ length: PER_FILE }, (_, i) => ({ name: `bulk-${f}-${i}` })));
    }
    h = await Harness.create({ files });
    await h.start();
  });
  afterAll(async () => h.dispose());

  it('converges 500 VMs declared across 50 files', async () => {
    await h.settle();
    const names = Array.from({ length: FILES * PER_FILE }, (_, n) => `bulk-${Math.floor(n / PER_FILE)}-${n % PER_FILE}`);
    await eventually(() => names.every((n) => h.status(n)?.printableStatus === 'Running'), 'all 500 Running');
    const active = await h.observer.activity();
    const running = await Promise.all(names.map((n) => h.domain(n)));
    expect(running.every((d) => d?.state === 'running')).toBe(true);
    expect(new Set(running.map((d) => d!.uuid)).size).toBe(500);
    expect(new Set(names.map((n) => h.status(n)!.allocations.mac)).size).toBe(500);
    expect(active.activeIds.length).toBeGreaterThanOrEqual(500);
    // The driver's own "test" domain has no wimaxvm metadata: never touched.
    expect((await h.domain('test'))?.state).toBe('running');
  });

  it('a resync makes no mutating call and writes no status', async () => {
    const defined = await Promise.all(['bulk-3-3', 'bulk-7-1'].map((n) => h.domain(n)));
    const reconcilesBefore = h.running!.controller.stats.reconciles;
    const logBefore = h.logs.length;
    h.running!.resync();
    await h.settle();
    expect(h.running!.controller.stats.reconciles - reconcilesBefore).toBeGreaterThanOrEqual(500);
    // Every action is logged (defined/started/...); none happened.
    expect(h.logs.slice(logBefore).filter((l) => /"msg":"(defined|updated|started|destroyed|shutting down|undefined)/.test(l))).toEqual([]);
    const after = await Promise.all(['bulk-3-3', 'bulk-7-1'].map((n) => h.domain(n)));
    expect(after.map((d) => d!.id)).toEqual(defined.map((d) => d!.id));
  });

  it('an edit reaches libvirt: memory change redefines and restarts an Always guest', async () => {
    const before = await h.domain('bulk-0-0');
    h.write('group-0/vms.yaml', manyVms(Array.from({ length: PER_FILE }, (_, i) => ({ name: `bulk-0-${i}`, memory: i === 0 ? '128Mi' : '64Mi' }))));
    await eventually(async () => (await h.domain('bulk-0-0'))?.parsed.facts.memoryKiB === 131072, 'memory 128Mi in the definition');
    const after = await eventually(async () => {
      const d = await h.domain('bulk-0-0');
      return d?.state === 'running' && d.id !== before!.id ? d : undefined;
    }, 'bulk-0-0 restarted with the new memory');
    expect(after.uuid).toBe(before!.uuid);
    await h.waitForStatus('bulk-0-0', 'Running');
    expect(h.status('bulk-0-0')!.observedGeneration).toBe(2);
    // Its neighbours in the same file were not touched.
    expect((await h.domain('bulk-0-1'))!.id).toBeDefined();
  });

  it('runStrategy Halted stops the guest; Always starts it again', async () => {
    h.write('group-1/vms.yaml', manyVms(Array.from({ length: PER_FILE }, (_, i) => ({ name: `bulk-1-${i}`, runStrategy: i === 0 ? 'Halted' : 'Always' }))));
    await h.waitForStatus('bulk-1-0', 'Stopped');
    expect((await h.domain('bulk-1-0'))!.state).toBe('shutoff');
    h.write('group-1/vms.yaml', manyVms(Array.from({ length: PER_FILE }, (_, i) => ({ name: `bulk-1-${i}` }))));
    await h.waitForStatus('bulk-1-0', 'Running');
  });

  it("an editor's atomic save (rename over) is a change, not a delete and an add", async () => {
    const before = await Promise.all(Array.from({ length: PER_FILE }, (_, i) => h.domain(`bulk-2-${i}`)));
    const logBefore = h.logs.length;
    h.atomicWrite('group-2/vms.yaml', manyVms(Array.from({ length: PER_FILE }, (_, i) => ({ name: `bulk-2-${i}` }))) + '# touched\n');
    await h.settle();
    await new Promise((r) => setTimeout(r, 300));
    await h.settle();
    const after = await Promise.all(Array.from({ length: PER_FILE }, (_, i) => h.domain(`bulk-2-${i}`)));
    expect(after.map((d) => `${d!.uuid}/${d!.id}/${d!.state}`)).toEqual(before.map((d) => `${d!.uuid}/${d!.id}/${d!.state}`));
    expect(h.logs.slice(logBefore).filter((l) => /deleted|undefined|shutting down|file removed/.test(l))).toEqual([]);
  });

  it('a broken file touches no domain; fixing it applies the fix', async () => {
    const before = await Promise.all(Array.from({ length: PER_FILE }, (_, i) => h.domain(`bulk-4-${i}`)));
    h.write('group-4/vms.yaml', 'apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: bulk-4-0\nspec: [');
    await eventually(() => h.status('bulk-4-0')?.conditions.find((c) => c.type === 'SourceValid' && c.status === 'False'), 'SourceValid=False on bulk-4-0');
    expect(h.status('bulk-4-0')!.conditions.find((c) => c.type === 'SourceValid')!.message).toMatch(/group-4\/vms\.yaml:\d+: YAML/);
    expect(h.source().errors()[0]!.file).toBe('group-4/vms.yaml');
    // Valid YAML, invalid spec: still nothing touched.
    h.write('group-4/vms.yaml', vmYaml({ name: 'bulk-4-0', runStrategy: 'Sometimes' }));
    await eventually(() => h.status('bulk-4-0')?.conditions.find((c) => c.type === 'SourceValid' && /Unsupported value: "Sometimes"/.test(c.message)), 'the enum error reported');
    await h.settle();
    const during = await Promise.all(Array.from({ length: PER_FILE }, (_, i) => h.domain(`bulk-4-${i}`)));
    expect(during.map((d) => `${d!.uuid}/${d!.id}/${d!.state}`)).toEqual(before.map((d) => `${d!.uuid}/${d!.id}/${d!.state}`));
    // Fixed, with one VM halted: the fix applies, the problem condition goes.
    h.write('group-4/vms.yaml', manyVms(Array.from({ length: PER_FILE }, (_, i) => ({ name: `bulk-4-${i}`, runStrategy: i === 1 ? 'Halted' : 'Always' }))));
    await h.waitForStatus('bulk-4-1', 'Stopped');
    await eventually(() => !h.status('bulk-4-0')!.conditions.some((c) => c.type === 'SourceValid'), 'SourceValid cleared');
    expect(h.source().errors()).toEqual([]);
  });

  it('the same VM declared in two files is a conflict on both; removing one resolves it', async () => {
    h.write('dup-a.yaml', vmYaml({ name: 'dup-vm' }));
    await h.waitForStatus('dup-vm', 'Running');
    h.write('dup-b.yaml', vmYaml({ name: 'dup-vm', runStrategy: 'Halted' }));
    const cond = await eventually(() => h.status('dup-vm')?.conditions.find((c) => c.reason === 'DuplicateDeclaration'), 'DuplicateDeclaration');
    expect(cond.message).toContain('dup-a.yaml:1');
    expect(cond.message).toContain('dup-b.yaml:1');
    expect(h.logs.filter((l) => l.includes('duplicate declaration') && l.includes('dup-b.yaml')).length).toBeGreaterThan(0);
    // Neither wins: the VM keeps running under its last good declaration.
    await h.settle();
    expect((await h.domain('dup-vm'))!.state).toBe('running');
    h.remove('dup-a.yaml');
    await h.waitForStatus('dup-vm', 'Stopped');
    expect(h.status('dup-vm')!.conditions.some((c) => c.type === 'SourceValid')).toBe(false);
  });

  it('removing a file deletes its VMs: domain undefined, status removed', async () => {
    h.remove('group-5/vms.yaml');
    await eventually(async () => (await Promise.all(Array.from({ length: PER_FILE }, (_, i) => h.domain(`bulk-5-${i}`)))).every((d) => d === undefined), 'group 5 undefined');
    // The status goes last in the reconcile that undefined the domain: wait for that reconcile's end.
    await eventually(() => Array.from({ length: PER_FILE }, (_, i) => h.status(`bulk-5-${i}`)).every((s) => s === undefined), 'group 5 statuses removed');
    expect((await h.domain('bulk-6-0'))!.state).toBe('running');
  });

  it('removing one document from a file deletes only that VM', async () => {
    h.write('group-6/vms.yaml', manyVms(Array.from({ length: PER_FILE - 1 }, (_, i) => ({ name: `bulk-6-${i}` }))));
    await eventually(async () => (await h.domain(`bulk-6-${PER_FILE - 1}`)) === undefined, 'last document deleted');
    expect((await h.domain('bulk-6-0'))!.state).toBe('running');
  });

  it('repairs drift made by hand: destroy, undefine, edited definition', async () => {
    const before = (await h.domain('bulk-8-0'))!;
    await h.observer.destroy('bulk-8-0');
    const restarted = await eventually(async () => {
      const d = await h.domain('bulk-8-0');
      return d?.state === 'running' && d.id !== before.id ? d : undefined;
    }, 'bulk-8-0 started again after virsh destroy');
    expect(restarted.uuid).toBe(before.uuid);
    await eventually(() => (h.status('bulk-8-0')?.restarts ?? 0) >= 1, 'the restart counted in status');

    await h.observer.destroy('bulk-8-1');
    await undefineByHand(h.uri, 'bulk-8-1');
    await eventually(async () => (await h.domain('bulk-8-1'))?.state === 'running', 'bulk-8-1 defined and started again');

    const d = (await h.domain('bulk-8-2'))!;
    await h.observer.define(d.persistentXml.replace(/<memory unit='KiB'>\d+<\/memory>/, "<memory unit='KiB'>262144</memory>").replace(/<currentMemory unit='KiB'>\d+<\/currentMemory>/, "<currentMemory unit='KiB'>262144</currentMemory>"));
    expect((await h.domain('bulk-8-2'))!.parsed.facts.memoryKiB).toBe(262144);
    h.running!.resync(); // a definition edit changes no activity: the periodic resync finds it
    await eventually(async () => (await h.domain('bulk-8-2'))!.parsed.facts.memoryKiB === 65536, 'definition repaired');
  });

  it('a file truncated and then written again (cat >, nano) deletes nothing', async () => {
    const file = 'group-9/vms.yaml';
    const before = await Promise.all(Array.from({ length: PER_FILE }, (_, i) => h.domain(`bulk-9-${i}`)));
    const logBefore = h.logs.length;
    h.write(file, '');
    await new Promise((r) => setTimeout(r, 150));
    h.write(file, manyVms(Array.from({ length: PER_FILE }, (_, i) => ({ name: `bulk-9-${i}` }))));
    await new Promise((r) => setTimeout(r, 700));
    await h.settle();
    const after = await Promise.all(Array.from({ length: PER_FILE }, (_, i) => h.domain(`bulk-9-${i}`)));
    expect(after.map((d) => `${d!.uuid}/${d!.id}/${d!.state}`)).toEqual(before.map((d) => `${d!.uuid}/${d!.id}/${d!.state}`));
    expect(h.logs.slice(logBefore).filter((l) => /deleted|undefined|shutting down/.test(l))).toEqual([]);
  });

  it('a file emptied for good deletes its VMs on the second look', async () => {
    h.write('group-7/vms.yaml', '# nothing here any more\n');
    await eventually(async () => (await h.domain('bulk-7-0')) === undefined, 'bulk-7-0 deleted');
  });

  it('a VLAN a file names wins over one handed out automatically; two VMs swapping VLANs converge', async () => {
    const holder = 'bulk-3-5';
    const taken = h.status(holder)!.allocations.vlan!;
    const before = (await h.domain(holder))!;
    const withVlan = (name: string, vlan: number) => vmYaml({ name, extra: `  network:\n    vlan: ${vlan}` });
    h.write('vlans/named.yaml', withVlan('vlan-named', taken));
    await eventually(() => h.status('vlan-named')?.allocations.vlan === taken && h.status('vlan-named')!.printableStatus === 'Running', `vlan-named Running on VLAN ${taken}`);
    const moved = await eventually(() => {
      const vlan = h.status(holder)?.allocations.vlan;
      return vlan !== undefined && vlan !== taken ? vlan : undefined;
    }, `${holder} moved off VLAN ${taken}`);
    expect((await h.domain(holder))!.parsed.owner!.vlan).toBe(moved);
    expect(h.status('vlan-named')!.conditions.find((c) => c.type === 'VLANAssigned')).toBeUndefined();
    // Moved, not restarted.
    const after = (await h.domain(holder))!;
    expect([after.id, after.state]).toEqual([before.id, 'running']);

    h.write('vlans/swap.yaml', [withVlan('vlan-x', 3900), withVlan('vlan-y', 3901)].join('---\n'));
    await eventually(() => h.status('vlan-x')?.allocations.vlan === 3900 && h.status('vlan-y')?.allocations.vlan === 3901, 'x on 3900, y on 3901');
    h.write('vlans/swap.yaml', [withVlan('vlan-x', 3901), withVlan('vlan-y', 3900)].join('---\n'));
    await eventually(() => h.status('vlan-x')?.allocations.vlan === 3901 && h.status('vlan-y')?.allocations.vlan === 3900
      && [h.status('vlan-x'), h.status('vlan-y')].every((s) => !s!.conditions.some((c) => c.type === 'VLANAssigned')), 'x on 3901, y on 3900, no VLAN condition left');
    expect(h.running!.vlans.holder(3900)).toBe('VirtualMachine/default/vlan-y');
  });

  it('long valid names run with their status stored; a name libvirt cannot hold is Failed with a clear reason (issue 15, 8)', async () => {
    const longest = `n${'x'.repeat(245)}9`; // 247: the longest libvirt's QEMU driver can hold
    const tooLong = `t${'x'.repeat(251)}9`; // 253: valid in Kubernetes
    const elsewhere = `e${'x'.repeat(241)}9`; // 243 + "lab_": 247
    h.write('long/names.yaml', [vmYaml({ name: longest }), vmYaml({ name: tooLong }), vmYaml({ name: elsewhere, namespace: 'lab' })].join('---\n'));
    await h.waitForStatus(longest, 'Running');
    await eventually(() => h.status(elsewhere, 'lab')?.printableStatus === 'Running', `lab/${elsewhere} Running`);
    expect(h.statusFromDisk(longest)?.printableStatus).toBe('Running');
    expect((await h.domain(longest))!.state).toBe('running');
    expect((await h.domain(`lab_${elsewhere}`))!.state).toBe('running');
    const failed = await h.waitForStatus(tooLong, 'Failed');
    expect(failed.conditions.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'NameTooLong' });
    expect(failed.conditions.find((c) => c.type === 'Ready')!.message).toMatch(/is 253 characters; .*at most 247.*choose a shorter name/);
    expect(h.statusFromDisk(tooLong)?.printableStatus).toBe('Failed');
    expect(await h.domain(tooLong)).toBeUndefined();
    expect(h.logs.filter((l) => l.includes('"reason":"NameTooLong"') && l.includes('"level":"warn"'))).toHaveLength(1);
  });

  it('a label-only edit reaches the stored status, without touching the domain (issue 15, 10)', async () => {
    const labelled = (team: string) => vmYaml({ name: 'labelled-vm' }).replace('metadata:\n', `metadata:\n  labels:\n    team: ${team}\n`);
    h.write('labels/vm.yaml', labelled('radio'));
    await h.waitForStatus('labelled-vm', 'Running');
    await eventually(() => h.running!.statuses.get('VirtualMachine/default/labelled-vm')?.metadata.labels?.team === 'radio', 'label stored');
    const before = (await h.domain('labelled-vm'))!;
    h.write('labels/vm.yaml', labelled('core'));
    await eventually(() => h.running!.statuses.get('VirtualMachine/default/labelled-vm')?.metadata.labels?.team === 'core', 'the new label stored');
    const reader = StateReader.open(h.stateDir)!;
    try {
      expect(reader.objects('VirtualMachine', 'default', 'labelled-vm')[0]!.metadata.labels).toEqual({ team: 'core' });
    } finally {
      reader.close();
    }
    const after = (await h.domain('labelled-vm'))!;
    expect([after.id, after.state]).toEqual([before.id, 'running']);
  });
});
