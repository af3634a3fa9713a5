// Live changes in file mode: the whole controller on libvirt's test driver (in process), driven
// by editing a YAML file. test:///default takes balloon and vCPU changes live (it has no device
// hot-plug: disks and NICs are held to QEMU in test/system/live-changes.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/meta.js';
import { validateResource } from '../../src/api/schema.js';
import { parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';

const run = Math.random().toString(36).slice(2, 6);
const VM = `lf-${run}`;
const MiB = 1024;
const yaml = (memory: string, vcpus: number, more = '') => vmYaml({ name: VM, memory, vcpus, extra: `  maxMemory: 512Mi\n  maxVcpus: 4${more}` });

describe('live changes through a YAML file (test:///default)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.create({ files: { 'vm.yaml': yaml('128Mi', 1) } });
    await h.start();
  });
  afterAll(async () => h?.dispose());

  const live = async () => {
    const snapshot = (await h.observer.getDomain(VM, true))!;
    return { id: snapshot.id, facts: parseDomainXml(snapshot.liveXml!).facts };
  };

  it('starts the guest with the maxima', async () => {
    await h.waitForStatus(VM, 'Running');
    expect((await live()).facts).toMatchObject({ memoryKiB: 128 * MiB, maxMemoryKiB: 512 * MiB, vcpus: 1, maxVcpus: 4 });
  });

  it('an edit of memory and vcpus within the maxima reaches the running guest without a restart', async () => {
    const before = await live();
    h.write('vm.yaml', yaml('384Mi', 3));
    const after = await eventually(async () => {
      const l = await live();
      return l.facts.memoryKiB === 384 * MiB && l.facts.vcpus === 3 ? l : undefined;
    }, 'the guest at 384Mi and 3 vCPUs');
    expect(after.id).toBe(before.id); // the same run of the guest: not restarted
    const status = await eventually(() => { const s = h.status(VM); return s && findCondition(s.conditions, 'LiveUpdated') ? s : undefined; }, 'LiveUpdated');
    expect(findCondition(status.conditions, 'LiveUpdated')).toMatchObject({ status: 'True', reason: 'Applied', message: expect.stringContaining('memory 384Mi, vcpus 3') });
    expect(findCondition(status.conditions, 'RestartRequired')).toBeUndefined();
    expect(h.logs.some((l) => l.includes(`live-updated ${VM}: memory 384Mi, vcpus 3`))).toBe(true);
    expect(status.restarts ?? 0).toBe(0);
  });

  it('a maximum below the memory is an error of the file, with its line; the guest keeps running as it was', async () => {
    const bad = yaml('384Mi', 3).replace('maxMemory: 512Mi', 'maxMemory: 256Mi');
    const result = validateResource((await import('yaml')).parse(bad));
    expect(result).toMatchObject({ ok: false, errors: [{ path: ['spec', 'maxMemory'], message: expect.stringContaining('must be at least spec.memory (384Mi)') }] });
    const before = await live();
    h.write('vm.yaml', bad);
    await eventually(() => findCondition(h.status(VM)?.conditions ?? [], 'SourceValid')?.status === 'False', 'SourceValid False');
    expect(findCondition(h.status(VM)!.conditions, 'SourceValid')!.message).toMatch(/vm\.yaml:\d+.*maxMemory/);
    expect(await live()).toEqual(before);
  });
});
