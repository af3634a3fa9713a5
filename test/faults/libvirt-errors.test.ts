// The libvirt adapter's error paths on real libvirt: a private libvirtd (QEMU guests, killed and
// started again by its pid). Absent, operation invalid and a connection lost mid-call each become
// the port's own error, decided from libvirt's codes; calls on a dead connection fail, never
// answer "no domains", and the adapter is back by itself once the daemon is.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { silentLogger } from '../../src/core/logger.js';
import { HypervisorInvalidOperationError, HypervisorNotFoundError, HypervisorUnavailableError, type HypervisorEvent } from '../../src/ports/hypervisor.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually } from '../helpers/harness.js';
import { PrivateLibvirtd, privateLibvirtdEnabled } from '../helpers/private-libvirtd.js';

const enabled = privateLibvirtdEnabled();
const run = Math.random().toString(36).slice(2, 6);
const VM = `le-${run}`;

function xml(name: string, uuid = randomUUID()): string {
  return buildDomainXml({
    name, uuid, type: 'qemu', memoryKiB: 65536, vcpus: 1, diskPaths: [], mac: '52:54:00:4c:45:01', nic: { type: 'user' },
    owner: { uid: name, namespace: 'default', name, generation: 1, specHash: 'x', mac: '52:54:00:4c:45:01' },
  });
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('the call succeeded');
}

describe.runIf(enabled)('libvirt errors by code, on a libvirtd of our own', () => {
  const daemon = new PrivateLibvirtd();
  let hv: LibvirtHypervisor;
  const events: HypervisorEvent[] = [];

  beforeAll(async () => {
    await daemon.start();
    hv = new LibvirtHypervisor({ uri: daemon.uri, logger: silentLogger, reconnectBaseMs: 50, reconnectMaxMs: 500 });
    await hv.connect();
    hv.subscribe((e) => events.push(e));
    await hv.define(xml(VM));
  }, 60_000);

  afterAll(async () => {
    await hv?.close();
    await daemon.dispose();
  });

  it('absent: a lookup answers undefined, a call says not found; a handle outliving its domain is refreshed', async () => {
    expect(await hv.getDomain(`${VM}-nope`, true)).toBeUndefined();
    expect(await hv.domainState(`${VM}-nope`)).toBeUndefined();
    expect(await failure(hv.start(`${VM}-nope`))).toBeInstanceOf(HypervisorNotFoundError);
    // Undefined and defined again by hand (a new uuid): our cached handle is stale.
    const first = (await hv.getDomain(VM))!;
    daemon.virsh('undefine', VM);
    const uuid = randomUUID();
    await eventually(() => events.some((e) => e.kind === 'lifecycle' && e.domain === VM && e.event === 'undefined'), 'the undefined event');
    const file = `${mkdtempSync(join(tmpdir(), 'wimaxvm-le-'))}/d.xml`;
    writeFileSync(file, xml(VM, uuid));
    daemon.virsh('define', file);
    const again = (await hv.getDomain(VM))!;
    expect(again.uuid).toBe(uuid);
    expect(again.uuid).not.toBe(first.uuid);
  });

  it('operation invalid: suspending a guest that is off, undefining nothing twice', async () => {
    const err = await failure(hv.suspend(VM));
    expect(err).toBeInstanceOf(HypervisorInvalidOperationError);
    expect(String(err)).toContain(`suspend ${VM}`);
    expect(await hv.domainState(VM)).toEqual({ state: 'shutoff', reason: expect.any(String) });
  });

  it('libvirtd killed mid-call: calls in flight fail as unavailable, lists fail instead of answering [], and the adapter reconnects by itself', async () => {
    await hv.start(VM);
    const id = (await hv.getDomain(VM, true))!.id;
    expect(id).toBeDefined();
    // Calls in flight, one after another, while the daemon is killed.
    const outcomes: string[] = [];
    let stop = false;
    const caller = (async () => {
      while (!stop) {
        await new Promise((r) => setImmediate(r)); // a failing call rejects at once: let timers run
        try {
          await hv.getDomain(VM, true);
          outcomes.push('ok');
        } catch (err) {
          outcomes.push(err instanceof HypervisorUnavailableError ? 'unavailable' : `other: ${String(err)}`);
        }
      }
    })();
    await eventually(() => outcomes.length >= 5, 'calls going on');
    await daemon.kill('SIGKILL');
    await eventually(() => outcomes.includes('unavailable'), 'a call failing as unavailable');
    expect(hv.connected).toBe(false); // the close callback or the failed call dropped it
    expect(await failure(hv.listDomains())).toBeInstanceOf(HypervisorUnavailableError);
    expect(await failure(hv.activity())).toBeInstanceOf(HypervisorUnavailableError);
    expect(hv.unreachableBecause).toBeDefined();
    expect(hv.eventsDelivered()).toBe(false);
    expect(events.some((e) => e.kind === 'connection-closed')).toBe(true);
    stop = true;
    await caller;
    expect(outcomes.filter((o) => o.startsWith('other'))).toEqual([]);

    await daemon.start();
    await eventually(() => hv.connected, 'reconnected', 30_000);
    const back = (await hv.getDomain(VM, true))!;
    expect([back.state, back.id]).toEqual(['running', id]); // the guest never stopped
    expect((await hv.listDomains()).map((d) => d.name)).toContain(VM);
    await eventually(() => hv.eventsDelivered(), 'events registered again');
    // A restarted libvirtd may still give up on the running QEMU it reconnected to (seen once under
    // CI's load: "domain is not running" a moment after it answered running); then the stop it
    // made is the event the new connection must deliver.
    const destroyed = await hv.destroy(VM).then(() => true, (err: unknown) => {
      if (err instanceof HypervisorInvalidOperationError) return false;
      throw err;
    });
    await eventually(() => events.some((e) => e.kind === 'lifecycle' && e.domain === VM && e.event === 'stopped' && (!destroyed || e.detail === 'destroyed')), 'the stopped event on the new connection');
  }, 120_000);
});
