// The Hypervisor port's calls beyond power, through the libvirt adapter on test:///default (in
// process): plain data in and out, libvirt's answers, never a binding type.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { silentLogger } from '../../src/core/logger.js';
import { HypervisorNotFoundError } from '../../src/ports/hypervisor.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';

const run = Math.random().toString(36).slice(2, 6);
const VM = `ad-${run}`;
const NS = 'https://example.org/adoption/v1';

describe('the libvirt adapter on test:///default', () => {
  const hv = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });

  beforeAll(async () => {
    await hv.connect();
    await hv.define(buildDomainXml({
      name: VM, uuid: randomUUID(), type: 'test', memoryKiB: 131072, vcpus: 2, diskPaths: [], mac: '52:54:00:ad:00:01', nic: { type: 'user' },
      owner: { uid: VM, namespace: 'default', name: VM, generation: 1, specHash: 'x', mac: '52:54:00:ad:00:01' },
    }));
  });

  afterAll(async () => hv.close());

  it('state with its reason, in the snapshot too', async () => {
    await hv.start(VM);
    expect(await hv.domainState(VM)).toEqual({ state: 'running', reason: 'booted' });
    await hv.destroy(VM);
    expect((await hv.getDomain(VM, true))!.reason).toBe('destroyed');
    expect(await hv.domainState(`${VM}-none`)).toBeUndefined();
  });

  it('a metadata element set, read and removed without redefining the domain', async () => {
    const before = (await hv.getDomain(VM, true))!.persistentXml;
    await hv.setMetadata(VM, NS, 'adopt', '<claim by="wimaxvm"/>', { config: true });
    expect(await hv.getMetadata(VM, NS, { config: true })).toMatch(/^<claim by="wimaxvm"\/>$/);
    const after = (await hv.getDomain(VM, true))!.persistentXml;
    expect(after).toContain(`<adopt:claim xmlns:adopt="${NS}" by="wimaxvm"/>`);
    // Everything outside <metadata> is as it was: nothing was redefined.
    expect(after.replace(/<metadata>[^]*<\/metadata>/, '')).toBe(before.replace(/<metadata>[^]*<\/metadata>/, ''));
    await hv.setMetadata(VM, NS, 'adopt', null, { config: true });
    expect(await hv.getMetadata(VM, NS, { config: true })).toBeUndefined();
  });

  it('memory and vcpus of the definition', async () => {
    await hv.setMemory(VM, 65536, { config: true });
    await hv.setVcpus(VM, 1, { config: true });
    const xml = (await hv.getDomain(VM, true))!.persistentXml;
    expect(xml).toMatch(/<currentMemory unit='KiB'>65536<\/currentMemory>/);
    expect(xml).toMatch(/<vcpu[^>]*current='1'|<vcpu[^>]*>1<\/vcpu>/);
  });

  it('managed save: saved, seen, started from it, removed', async () => {
    await hv.start(VM);
    await hv.managedSave(VM);
    expect(await hv.domainState(VM)).toEqual({ state: 'shutoff', reason: 'saved' });
    expect(await hv.hasManagedSave(VM)).toBe(true);
    await hv.start(VM); // from the saved state (the test driver says 'booted', QEMU 'restored')
    expect((await hv.domainState(VM))!.state).toBe('running');
    expect(await hv.hasManagedSave(VM)).toBe(false);
    await hv.managedSave(VM);
    await hv.removeManagedSave(VM);
    expect(await hv.hasManagedSave(VM)).toBe(false);
  });

  it('statistics of a running guest, node figures, networks', async () => {
    await hv.start(VM);
    const xml = (await hv.getDomain(VM, true))!.liveXml!;
    const dev = /<target dev='([^']+)'/.exec(xml)?.[1];
    if (dev) expect((await hv.interfaceStats(VM, dev)).rxBytes).toBeGreaterThanOrEqual(0);
    const node = await hv.nodeFigures();
    expect(node.cpus).toBeGreaterThan(0);
    expect(node.memoryKiB).toBeGreaterThan(0);
    expect(node.freeMemoryBytes).toBeGreaterThan(0);
    expect(await hv.getNetwork(`nonet-${run}`)).toBeUndefined();
    const net = (await hv.getNetwork('default'))!;
    expect(net.name).toBe('default');
    await hv.destroy(VM);
  });

  it('a missing domain is HypervisorNotFoundError for every call on it', async () => {
    for (const call of [() => hv.setMemory(`${VM}-none`, 1024), () => hv.getMetadata(`${VM}-none`, NS), () => hv.managedSave(`${VM}-none`)]) {
      await expect(call()).rejects.toBeInstanceOf(HypervisorNotFoundError);
    }
  });
});
