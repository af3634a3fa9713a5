// The live steps in the whole VM step list over FakeHypervisor (which answers live calls as
// libvirt does): a running guest's spec change within its maxima is applied without a restart
// and said in LiveUpdated; what cannot be live restarts it or waits in RestartRequired.
import { describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/meta.js';
import type { VirtualMachineSpec } from '../../src/api/virtual-machine.js';
import { parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { VM_STEPS } from '../../src/reconcilers/virtual-machine/steps/index.js';
import { FakeDiskImages } from '../fakes/fake-disk-images.js';
import { stepHarness, vmNamed } from '../helpers/vm-steps.js';

const MiB = 1024;

function setup(name: string, spec: Partial<VirtualMachineSpec>) {
  const disks = new FakeDiskImages();
  disks.images.add('boot.qcow2');
  disks.images.add('data.qcow2');
  disks.images.add('logs.qcow2');
  const h = stepHarness({ disks });
  let generation = 0;
  let last = '';
  const key = `VirtualMachine/default/${name}`;
  return {
    h, disks, key,
    /** Declares the spec (a new generation when it changed, as the API server counts) and runs one reconcile. */
    async apply(next: Partial<VirtualMachineSpec>) {
      if (JSON.stringify(next) !== last) generation++;
      last = JSON.stringify(next);
      const out = await h.run(VM_STEPS, vmNamed(name, next, generation));
      if (out.error) throw out.error;
      return out;
    },
    live: () => parseDomainXml(h.hv.peek(name)!.liveXml!).facts,
    persistent: () => parseDomainXml(h.hv.peek(name)!.persistentXml).facts,
    /** Calls on the domain since the last look, as "op" strings. */
    ops() {
      const ops = h.hv.ops(name);
      h.hv.clearCalls();
      return ops;
    },
    condition: (status: { conditions: { type: string }[] } | undefined, type: string) => status && findCondition(status.conditions as never, type),
    async started(spec: Partial<VirtualMachineSpec>) {
      await this.apply(spec);
      expect(h.hv.peek(name)!.state).toBe('running');
      h.hv.clearCalls();
      h.events.clear();
    },
  };
}

const BASE: Partial<VirtualMachineSpec> = { runStrategy: 'Always', memory: '256Mi', maxMemory: '1Gi', vcpus: 1, maxVcpus: 4, disks: [{ image: 'boot.qcow2' }] };

describe('live changes through the VM steps', () => {
  it('the guest starts with the maxima; memory and vCPUs within them are applied live: no restart, LiveUpdated, an event', async () => {
    const t = setup('lv-mem', BASE);
    await t.started(BASE);
    expect(t.live()).toMatchObject({ memoryKiB: 256 * MiB, maxMemoryKiB: 1024 * MiB, vcpus: 1, maxVcpus: 4 });
    const out = await t.apply({ ...BASE, memory: '512Mi', vcpus: 3 });
    expect(t.ops()).toEqual(['define', 'setMemory', 'setMetadata', 'setVcpus']);
    expect(t.live()).toMatchObject({ memoryKiB: 512 * MiB, vcpus: 3 });
    expect(t.persistent()).toMatchObject({ memoryKiB: 512 * MiB, vcpus: 3 });
    expect(out.status?.printableStatus).toBe('Running');
    expect(t.condition(out.status, 'RestartRequired')).toBeUndefined();
    expect(t.condition(out.status, 'LiveUpdated')).toMatchObject({ status: 'True', reason: 'Applied', message: expect.stringContaining('memory 512Mi, vcpus 3') });
    expect(t.h.events.events.filter((e) => e.reason === 'LiveUpdated').map((e) => e.message)).toEqual([`applied to the running guest lv-mem: memory 512Mi, vcpus 3`]);
    // The next look has nothing to do and keeps saying what was applied.
    const again = await t.apply({ ...BASE, memory: '512Mi', vcpus: 3 });
    expect(t.ops()).toEqual([]);
    expect(t.condition(again.status, 'LiveUpdated')).toMatchObject({ status: 'True', reason: 'Applied' });
    // Less memory: the balloon takes it back.
    await t.apply({ ...BASE, memory: '128Mi', vcpus: 3 });
    expect(t.ops()).toEqual(['define', 'setMemory', 'setMetadata']);
    expect(t.live()).toMatchObject({ memoryKiB: 128 * MiB, vcpus: 3 });
    // Fewer vCPUs are not unplugged (see live-changes.ts): under Always the guest is restarted.
    await t.apply({ ...BASE, memory: '128Mi', vcpus: 2 });
    expect(t.ops()).toEqual(['define', 'shutdown']);
  });

  it('a disk and a NIC added are plugged in (the overlay made first), removed are pulled', async () => {
    const t = setup('lv-dev', BASE);
    await t.started(BASE);
    const plugged = { ...BASE, disks: [{ image: 'boot.qcow2' }, { image: 'data.qcow2' }], interfaces: [{ name: 'mgmt', network: 'mgmt', mac: '52:54:00:00:aa:01' }] };
    const out = await t.apply(plugged);
    expect(t.ops()).toEqual(['define', 'attachDevice', 'attachDevice']);
    expect(t.disks.calls.filter((c) => c.op === 'ensureOverlay' && c.index === 1)).not.toHaveLength(0);
    expect(t.live().diskPaths).toEqual(t.persistent().diskPaths);
    expect(t.live().nics.map((n) => n.mac)).toEqual([t.live().nics[0]!.mac, '52:54:00:00:aa:01']);
    expect(t.condition(out.status, 'LiveUpdated')).toMatchObject({ message: expect.stringContaining('disk vdb added, NIC 52:54:00:00:aa:01 on mgmt added') });
    await t.apply(BASE);
    expect(t.ops()).toEqual(['define', 'detachDevice', 'detachDevice']);
    expect(t.live().diskPaths).toHaveLength(1);
    expect(t.live().nics).toHaveLength(1);
  });

  it('a middle disk removed: the ones after it move up, each plugged once its target is free (looked at again within a second)', async () => {
    const three = { ...BASE, disks: [{ image: 'boot.qcow2' }, { image: 'data.qcow2' }, { image: 'logs.qcow2' }] };
    const t = setup('lv-mid', three);
    await t.started(three);
    const out = await t.apply({ ...BASE, disks: [{ image: 'boot.qcow2' }, { image: 'logs.qcow2' }] });
    expect(t.ops()).toEqual(['define', 'detachDevice', 'detachDevice']);
    expect(out.result).toEqual({ requeueAfterMs: 1_000 });
    expect(t.live().diskPaths).toHaveLength(1);
    const next = await t.apply({ ...BASE, disks: [{ image: 'boot.qcow2' }, { image: 'logs.qcow2' }] });
    expect(t.ops()).toEqual(['attachDevice']);
    expect(next.result).toEqual({});
    expect(t.live().diskPaths).toEqual(t.persistent().diskPaths);
    expect(t.condition(next.status, 'LiveUpdated')).toMatchObject({ message: expect.stringContaining('disk vdb added') });
  });

  it('beyond the maxima under Manual: nothing live, RestartRequired says which; under Always the guest is restarted', async () => {
    const t = setup('lv-max', { ...BASE, runStrategy: 'Manual' });
    await t.apply({ ...BASE, runStrategy: 'Always' }); // started once
    await t.started({ ...BASE, runStrategy: 'Manual' });
    let out = await t.apply({ ...BASE, runStrategy: 'Manual', memory: '2Gi', maxMemory: '2Gi' });
    expect(t.ops()).toEqual(['define']);
    expect(t.condition(out.status, 'RestartRequired')).toMatchObject({ message: expect.stringMatching(/^memory, maxMemory changed/) });
    // A new maximum with a memory within the old one: the memory now, the maximum at the restart.
    out = await t.apply({ ...BASE, runStrategy: 'Manual', memory: '768Mi', maxMemory: '2Gi' });
    expect(t.ops()).toEqual(['define', 'setMemory', 'setMetadata']);
    expect(t.condition(out.status, 'RestartRequired')).toMatchObject({ message: expect.stringMatching(/^maxMemory changed/) });
    expect(t.condition(out.status, 'LiveUpdated')).toMatchObject({ status: 'True', message: expect.stringContaining('memory 768Mi') });
    out = await t.apply({ ...BASE, runStrategy: 'Always', memory: '768Mi', maxMemory: '2Gi' });
    expect(t.ops()).toEqual(['define', 'shutdown']); // the runStrategy changed: a new generation to record
    expect(out.status?.printableStatus).toBe('Stopping');
  });

  it('without declared maxima a memory or vCPU change restarts the guest, as before', async () => {
    const plain = { runStrategy: 'Always' as const, memory: '256Mi', vcpus: 1 };
    const t = setup('lv-plain', plain);
    await t.started(plain);
    const xml = t.h.hv.peek('lv-plain')!.persistentXml;
    expect(xml).toMatch(/<memory unit="KiB">262144<\/memory>\s*<currentMemory unit="KiB">262144<\/currentMemory>\s*<vcpu placement="static">1<\/vcpu>/);
    await t.apply({ ...plain, vcpus: 2 });
    expect(t.ops()).toEqual(['define', 'shutdown']);
  });

  it('a guest that is off is only redefined; it starts with the new definition', async () => {
    const t = setup('lv-off', { ...BASE, runStrategy: 'Halted' });
    await t.apply({ ...BASE, runStrategy: 'Halted' });
    t.ops();
    const out = await t.apply({ ...BASE, runStrategy: 'Halted', memory: '512Mi', vcpus: 2, disks: [{ image: 'boot.qcow2' }, { image: 'data.qcow2' }] });
    expect(t.ops()).toEqual(['define']);
    expect(t.condition(out.status, 'LiveUpdated')).toBeUndefined();
    await t.apply({ ...BASE, memory: '512Mi', vcpus: 2, disks: [{ image: 'boot.qcow2' }, { image: 'data.qcow2' }] });
    expect(t.ops()).toEqual(['define', 'start']); // runStrategy Always: a new generation to record
    expect(t.live()).toMatchObject({ memoryKiB: 512 * MiB, vcpus: 2, diskPaths: t.persistent().diskPaths });
  });

  it('what libvirt refuses is said in LiveUpdated and tried again later; the rest is applied and the reconcile does not fail', async () => {
    const t = setup('lv-refused', BASE);
    await t.started(BASE);
    t.h.hv.failNext('setVcpus', new Error('internal error: unable to execute QEMU command \'device_add\''));
    const out = await t.apply({ ...BASE, memory: '512Mi', vcpus: 2 });
    expect(t.ops()).toEqual(['define', 'setMemory', 'setMetadata', 'setVcpus']);
    expect(out.result).toEqual({ requeueAfterMs: 30_000 });
    expect(out.status?.printableStatus).toBe('Running');
    expect(t.condition(out.status, 'LiveUpdated')).toMatchObject({ status: 'False', reason: 'Refused', message: expect.stringContaining('vcpus 2: internal error') });
    expect(t.h.events.reasons()).toContain('LiveUpdateFailed');
    const retried = await t.apply({ ...BASE, memory: '512Mi', vcpus: 2 });
    expect(t.ops()).toEqual(['setVcpus']);
    expect(t.condition(retried.status, 'LiveUpdated')).toMatchObject({ status: 'True', message: expect.stringContaining('vcpus 2') });
  });

  it('maxima below the current values are the user\'s to fix: Failed, nothing claimed or defined', async () => {
    const t = setup('lv-bad', BASE);
    const out = await t.h.run(VM_STEPS, vmNamed('lv-bad', { ...BASE, maxMemory: '128Mi', maxVcpus: 0 as never }));
    expect(out.status?.printableStatus).toBe('Failed');
    expect(findCondition(out.status!.conditions, 'Ready')).toMatchObject({ reason: 'InvalidSpec', message: expect.stringContaining('spec.maxMemory: Invalid value: "128Mi": must be at least spec.memory (256Mi)') });
    expect(t.h.hv.ops('lv-bad')).toEqual([]);
  });
});
