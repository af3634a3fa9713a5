// The libvirt adapter's listing serves the looks that follow it (a resync's reconciles), one
// look per domain, and never once something may have changed the domain: an event about it, a
// call of ours on it, or a second look. On libvirt's in-process test driver, with a second
// connection making the changes "by hand".
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { openConnection, setCallObserver, type Connection } from '../../src/adapters/libvirt/native.js';
import { silentLogger } from '../../src/core/logger.js';
import { callCounts, countLibvirtCall, countsSince } from '../../src/observability/call-counters.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually } from '../helpers/harness.js';

const run = Math.random().toString(36).slice(2, 6);
const A = `sv-a-${run}`;
const B = `sv-b-${run}`;

const xml = (name: string) => buildDomainXml({
  name, uuid: randomUUID(), type: 'test', memoryKiB: 131072, vcpus: 1, diskPaths: [], mac: '52:54:00:5e:00:01', nic: { type: 'user' },
  owner: { uid: name, namespace: 'default', name, generation: 1, specHash: 'x', mac: '52:54:00:5e:00:01' },
});

/** libvirt calls made while fn ran (this process's tallies: nothing else runs in it meanwhile). */
async function callsDuring<T>(fn: () => Promise<T>): Promise<{ value: T; calls: number }> {
  const before = callCounts();
  const value = await fn();
  return { value, calls: [...countsSince(before).libvirt.values()].reduce((a, b) => a + b, 0) };
}

describe('a listing serves the looks of the resync that made it', () => {
  const hv = new LibvirtHypervisor({ uri: 'test:///default', logger: silentLogger });
  let byHand: Connection;
  const events: string[] = [];

  beforeAll(async () => {
    setCallObserver(countLibvirtCall); // as the controller does (src/main.ts)
    await hv.connect();
    expect(hv.eventsDelivered()).toBe(true);
    hv.subscribe((e) => { if (e.kind === 'lifecycle') events.push(`${e.domain} ${e.event}`); });
    byHand = await openConnection('test:///default');
    for (const name of [A, B]) {
      await hv.define(xml(name));
      await hv.start(name);
    }
    // Their events come after the calls: one arriving after a test's listing rightly unserves it (seen once in CI).
    await eventually(() => [A, B].every((name) => events.includes(`${name} started`)), 'the started events of both domains');
  });

  afterAll(async () => {
    for (const name of [A, B]) await (await byHand.lookupDomainByName(name)).destroy().catch(() => undefined);
    for (const name of [A, B]) await (await byHand.lookupDomainByName(name)).undefine().catch(() => undefined);
    await byHand.close();
    await hv.close();
    setCallObserver(undefined);
  });

  it('one look per domain comes from the listing, with no libvirt call; the next look reads libvirt again', async () => {
    const listed = (await hv.listDomainsForResync()).find((d) => d.name === A)!;
    const first = await callsDuring(() => hv.getDomain(A));
    expect(first.calls).toBe(0);
    expect(first.value).toEqual(listed);
    expect(first.value).toMatchObject({ state: 'running', id: expect.any(Number) });
    const second = await callsDuring(() => hv.getDomain(A));
    expect(second.calls).toBeGreaterThan(0);
    expect(second.value).toEqual(listed); // nothing changed: libvirt says the same
  });

  it('a change libvirt sends no event for (setmem --config) is seen by the next listing, never hidden by the last one', async () => {
    await hv.listDomainsForResync();
    await (await byHand.lookupDomainByName(A)).setMemory(65536, { config: true }); // no event
    expect((await hv.getDomain(A))!.persistentXml).not.toContain('65536'); // the listing was read before the change: that is its age, as a fresh read a moment earlier would be
    await hv.listDomainsForResync(); // the next resync's listing
    expect((await hv.getDomain(A))!.persistentXml).toMatch(/<currentMemory unit='KiB'>65536</);
    await (await byHand.lookupDomainByName(A)).setMemory(131072, { config: true });
  });

  it('a domain an event told about after the listing is read again (destroyed by hand)', async () => {
    await hv.listDomainsForResync();
    const seen = events.length;
    await (await byHand.lookupDomainByName(B)).destroy();
    await eventually(() => events.slice(seen).includes(`${B} stopped`), `the stopped event of ${B}`);
    expect((await hv.getDomain(B))!.state).toBe('shutoff');
    await hv.start(B);
  });

  it('a domain a call of ours changed after the listing is read again', async () => {
    await hv.listDomainsForResync();
    await hv.setMemory(A, 98304, { config: true });
    expect((await hv.getDomain(A))!.persistentXml).toMatch(/<currentMemory unit='KiB'>98304</);
    await hv.setMemory(A, 131072, { config: true });
  });

  it('a listing other than a resync\'s (the hosts\' figures) serves no look', async () => {
    await hv.listDomains();
    const look = await callsDuring(() => hv.getDomain(A));
    expect(look.calls).toBeGreaterThan(0);
  });

  it('a fresh look (deletions ask for one) never comes from the listing', async () => {
    await hv.listDomainsForResync();
    const fresh = await callsDuring(() => hv.getDomain(A, true));
    expect(fresh.calls).toBeGreaterThan(0);
  });
});
