// The live-change calls of the Hypervisor port answer the same through FakeHypervisor (what the
// reconciler tests use) and through the libvirt adapter on test:///default: the balloon and
// vCPUs within the maxima, refused beyond them and on a guest that is off, and the balloon
// target kept in the live metadata. (test:///default has no device hot-plug: the fake's
// attach/detach are held to QEMU's in test/system/live-changes.test.ts.)
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { silentLogger } from '../../src/core/logger.js';
import { HypervisorInvalidOperationError, type Hypervisor } from '../../src/ports/hypervisor.js';
import {
  balloonTargetXml, buildDomainXml, LIVE_METADATA_KEY, LIVE_METADATA_NS, parseDomainXml,
} from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { FakeHypervisor } from '../fakes/fake-hypervisor.js';

const run = Math.random().toString(36).slice(2, 6);
const MiB = 1024;
const libvirt = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
afterAll(async () => libvirt.close());

const hypervisors: [string, () => Promise<Hypervisor>][] = [
  ['FakeHypervisor', (() => { const fake = new FakeHypervisor(); return async () => fake; })()],
  ['libvirt test:///default', async () => { await libvirt.connect(); return libvirt; }],
];

describe.each(hypervisors)('live calls on %s', (_label, make) => {
  const VM = `lc-${run}-${Math.random().toString(36).slice(2, 5)}`;
  const live = async (hv: Hypervisor) => parseDomainXml((await hv.getDomain(VM, true))!.liveXml!).facts;
  const persistent = async (hv: Hypervisor) => parseDomainXml((await hv.getDomain(VM, true))!.persistentXml).facts;

  it('balloon and vCPUs within the maxima on the running guest, refused beyond; the definition unchanged', async () => {
    const hv = await make();
    await hv.define(buildDomainXml({
      name: VM, uuid: randomUUID(), type: 'test', memoryKiB: 256 * MiB, maxMemoryKiB: 1024 * MiB, vcpus: 1, maxVcpus: 4,
      diskPaths: [], mac: '52:54:00:1c:00:01', nic: { type: 'user' },
      owner: { uid: VM, namespace: 'default', name: VM, generation: 1, specHash: 'x', mac: '52:54:00:1c:00:01' },
    }));
    // Off: a live change is refused, as libvirt refuses it.
    await expect(hv.setMemory(VM, 512 * MiB, { live: true })).rejects.toThrow(HypervisorInvalidOperationError);
    await expect(hv.setVcpus(VM, 2, { live: true })).rejects.toThrow(HypervisorInvalidOperationError);
    await hv.start(VM);
    expect(await live(hv)).toMatchObject({ memoryKiB: 256 * MiB, maxMemoryKiB: 1024 * MiB, vcpus: 1, maxVcpus: 4 });

    await hv.setMemory(VM, 768 * MiB, { live: true });
    await hv.setVcpus(VM, 3, { live: true });
    expect(await live(hv)).toMatchObject({ memoryKiB: 768 * MiB, maxMemoryKiB: 1024 * MiB, vcpus: 3, maxVcpus: 4 });
    await hv.setMemory(VM, 128 * MiB, { live: true });
    await hv.setVcpus(VM, 4, { live: true });
    expect(await live(hv)).toMatchObject({ memoryKiB: 128 * MiB, vcpus: 4 });
    expect(await persistent(hv)).toMatchObject({ memoryKiB: 256 * MiB, vcpus: 1 });

    await expect(hv.setMemory(VM, 1025 * MiB, { live: true })).rejects.toThrow(/higher than max memory/);
    await expect(hv.setVcpus(VM, 5, { live: true })).rejects.toThrow(/5 > 4/);
    expect(await live(hv)).toMatchObject({ memoryKiB: 128 * MiB, vcpus: 4 });
  });

  it('the balloon target in the live metadata is what the live facts say, and goes with the next start', async () => {
    const hv = await make();
    await hv.setMetadata(VM, LIVE_METADATA_NS, LIVE_METADATA_KEY, balloonTargetXml(200 * MiB), { live: true });
    expect((await live(hv)).memoryKiB).toBe(200 * MiB);
    expect((await hv.getDomain(VM, true))!.persistentXml).not.toContain(LIVE_METADATA_NS);
    await hv.setMetadata(VM, LIVE_METADATA_NS, LIVE_METADATA_KEY, balloonTargetXml(300 * MiB), { live: true });
    expect((await live(hv)).memoryKiB).toBe(300 * MiB);
    await hv.destroy(VM);
    await hv.start(VM);
    expect(await live(hv)).toMatchObject({ memoryKiB: 256 * MiB, vcpus: 1 });
    await hv.destroy(VM);
  });
});
