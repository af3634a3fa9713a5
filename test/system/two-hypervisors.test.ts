// Two real hypervisors on this machine: two libvirtds of the test's own (PrivateLibvirtd, each
// with its own sockets, state and host_uuid), reached by two URIs and declared as Hypervisors in
// a controller's watched directory. Their status from the real daemons; placement by the
// scheduler over those statuses spreads guests by capacity, each defined on exactly the daemon
// chosen; a live migration of the tiny real guest from one to the other (its counter goes on,
// same boot, exactly one domain afterwards); a killed daemon is Ready=False and nothing of it
// is recreated on the other. One real guest boot; the others are guests without an OS.
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hypervisorKey, type Hypervisor, type HypervisorStatus } from '../../src/api/hypervisor.js';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { silentLogger } from '../../src/core/logger.js';
import { hostViewOf, usedFromStatus } from '../../src/hosts/hypervisor-status.js';
import { scheduleAll } from '../../src/hosts/scheduler.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { PrivateLibvirtd, privateLibvirtdEnabled } from '../helpers/private-libvirtd.js';
import { DeletionGate } from '../../src/core/deletion-gate.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import { moveDomain, type MoveHosts } from '../../src/hosts/domain-move.js';
import type { MigrationProgress } from '../../src/ports/migration.js';
import { cli } from '../helpers/run-cli.js';
import { vmNamed } from '../helpers/vm-steps.js';
import { ensureRealGuestDisk, GUEST_SAYS, REAL_GUEST_MEMORY, SerialLog } from '../helpers/real-guest/index.js';

const enabled = privateLibvirtdEnabled();
const run = Math.random().toString(36).slice(2, 6);
const NOBODY = 65534;

function hypervisorYaml(name: string, uri: string, vcpuRatio: number): string {
  return ['apiVersion: wimaxvm.io/v1alpha1', 'kind: Hypervisor', 'metadata:', `  name: ${name}`, 'spec:', `  uri: "${uri}"`, `  overcommit: { vcpus: ${vcpuRatio} }`].join('\n') + '\n';
}

/** A guest as wimaxvm defines it (its metadata marks it as wimaxvm's), no OS unless a disk is given. */
function guestXml(name: string, memoryKiB: number, disk?: string, serialFile?: string): string {
  const mac = `52:54:00:${randomUUID().slice(0, 6).replace(/(..)(..)(..)/, '$1:$2:$3')}`;
  const xml = buildDomainXml({
    name, uuid: randomUUID(), type: 'qemu', memoryKiB, vcpus: 1, diskPaths: disk ? [disk] : [], mac, nic: { type: 'user' },
    owner: { uid: randomUUID(), namespace: 'default', name, generation: 1, specHash: 'test', mac },
  });
  // A session daemon cannot log into /var/log/libvirt: the serial console goes to a file of ours.
  return serialFile ? xml.replace('<serial type="pty"/>', `<serial type="file"><source path="${serialFile}" append="on"/></serial>`) : xml;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const names = (d: PrivateLibvirtd): string[] => d.virsh('list', '--all', '--name').split('\n').map((l) => l.trim()).filter(Boolean).sort();

describe.runIf(enabled)('two real hypervisors: status, placement by capacity, live migration, one killed', () => {
  const uuidA = randomUUID();
  const a = new PrivateLibvirtd({ hostUuid: uuidA });
  const b = new PrivateLibvirtd({ hostUuid: randomUUID() });
  const ports: Record<string, LibvirtHypervisor> = {};
  const daemons: Record<string, PrivateLibvirtd> = {};
  const hvA = `hv-a-${run}`;
  const hvB = `hv-b-${run}`;
  let h: Harness;
  const hv = (name: string): Hypervisor => h.running!.statuses.get(`Hypervisor/default/${name}`) as Hypervisor;
  const status = (name: string): HypervisorStatus | undefined => hv(name)?.status;
  const ready = (name: string) => status(name)?.conditions.find((c) => c.type === 'Ready');
  const placed: Record<string, string> = {};

  beforeAll(async () => {
    await Promise.all([a.start(), b.start()]);
    daemons[hvA] = a;
    daemons[hvB] = b;
    for (const [name, d] of Object.entries(daemons)) {
      ports[name] = new LibvirtHypervisor({ uri: d.uri, logger: silentLogger });
      await ports[name]!.connect();
    }
    // hv-a may give its 2 CPUs 3 times over, hv-b 1.5 times: twice hv-b's vCPUs.
    h = await Harness.create({ uri: a.uri, files: { 'a.yaml': hypervisorYaml(hvA, a.uri, 3), 'b.yaml': hypervisorYaml(hvB, b.uri, 1.5) } });
    await h.start();
  }, 120_000);

  afterAll(async () => {
    await h?.dispose();
    for (const p of Object.values(ports)) await p.close();
    await Promise.all([a.dispose(), b.dispose()]);
  }, 120_000);

  it("each Hypervisor's status from its own daemon: capacity from libvirt's node info, Ready", async () => {
    await eventually(() => ready(hvA)?.status === 'True' && ready(hvB)?.status === 'True', 'both hypervisors Ready', 30_000);
    for (const name of [hvA, hvB]) {
      const info = daemons[name]!.virsh('nodeinfo');
      const kib = Number(/Memory size:\s+(\d+) KiB/.exec(info)![1]);
      const cpus = Number(/CPU\(s\):\s+(\d+)/.exec(info)![1]);
      expect(status(name)!.capacity).toEqual({ memory: `${kib}Ki`, vcpus: cpus });
      expect(status(name)!.vmCount).toBe(0);
      expect(status(name)!.domainType).toBe('qemu');
    }
    expect(status(hvA)!.allocatable!.vcpus).toBe(Math.floor(status(hvA)!.capacity!.vcpus * 3));
    expect(status(hvB)!.allocatable!.vcpus).toBe(Math.floor(status(hvB)!.capacity!.vcpus * 1.5));
  });

  it('placement over the two statuses spreads by capacity; each guest is defined on exactly the daemon chosen', async () => {
    const requests = [1, 2, 3, 4].map((i) => ({ key: `pl-${run}-${i}`, memoryBytes: 64 * 2 ** 20, vcpus: 1 }));
    const hosts = [hvA, hvB].map((name) => hostViewOf(hv(name), usedFromStatus(hv(name))));
    const placement = scheduleAll(requests, hosts);
    for (const [key, p] of placement) {
      expect(p.host, key).toBeDefined();
      placed[key] = p.host!;
      await ports[p.host!]!.define(guestXml(key, 64 * 1024));
      await ports[p.host!]!.start(key);
    }
    // Twice the vCPUs, more of the guests: 3 on hv-a, 1 on hv-b (scores: a 83, then a tie broken by fewer VMs, then a, a).
    const on = (host: string) => Object.keys(placed).filter((k) => placed[k] === host).sort();
    expect([on(hvA).length, on(hvB).length]).toEqual([3, 1]);
    expect(names(a)).toEqual(on(hvA));
    expect(names(b)).toEqual(on(hvB));
    // The Hypervisors' status follows (a domain defined is news to the host's connection).
    await eventually(() => stringify(status(hvA)?.vms) === stringify(on(hvA)) && stringify(status(hvB)?.vms) === stringify(on(hvB)), 'the statuses to list the placed guests', 30_000);
    expect(status(hvA)!.allocatable!.vcpus).toBe(status(hvA)!.capacity!.vcpus * 3 - 3);
    expect(status(hvB)!.allocatable!.vcpus).toBe(Math.floor(status(hvB)!.capacity!.vcpus * 1.5) - 1);
  });

  it('live migration of the real guest from hv-a to hv-b: its counter goes on, same boot, exactly one domain', async () => {
    const base = await ensureRealGuestDisk();
    const dir = mkdtempSync(join('/tmp', `wimaxvm-mig-${run}-`));
    chmodSync(dir, 0o755);
    chownSync(dir, NOBODY, NOBODY);
    const overlay = join(dir, 'guest.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, overlay]);
    chownSync(overlay, NOBODY, NOBODY);
    const serial = new SerialLog(join(dir, 'serial.log'));
    const guest = `mig-${run}`;
    await ports[hvA]!.define(guestXml(guest, Number(REAL_GUEST_MEMORY.replace('Mi', '')) * 1024, overlay, serial.path));
    await ports[hvA]!.start(guest);
    await serial.waitFor(/wimaxvm-guest counter 3 /, 'the guest to count', { timeoutMs: 240_000 });
    const before = serial.counters().at(-1)!;

    // What libvirt refuses, and why the code says what it says: a local disk path is not known
    // to be shared; two daemons of one host_uuid are one host. The guest runs on meanwhile.
    await expect(ports[hvA]!.migrate(guest, b.uri, { migrateUri: `tcp:127.0.0.1:${await freePort()}` })).rejects.toThrow(/Migration without shared storage is unsafe/);
    const twin = new PrivateLibvirtd({ hostUuid: uuidA });
    try {
      await twin.start();
      await expect(ports[hvA]!.migrate(guest, twin.uri, { sharedStorage: true, migrateUri: `tcp:127.0.0.1:${await freePort()}` })).rejects.toThrow(/Attempt to migrate guest to the same host/);
      expect(names(twin)).toEqual([]);
    } finally {
      await twin.dispose();
    }
    expect(a.runningIds().has(guest)).toBe(true);

    // The move as the controller makes it (src/hosts/domain-move.ts): libvirt migrates, the old
    // definition stays until the deletion gate sees the destination hold the same guest.
    const store = new DesiredStore();
    const key = `VirtualMachine/default/${guest}`;
    store.set(key, vmNamed(guest));
    const gate = new DeletionGate(store, () => undefined, silentLogger);
    const progress: MigrationProgress[] = [];
    const migrateUri = `tcp:127.0.0.1:${await freePort()}`;
    const hostsOf: MoveHosts = {
      portOf: (host) => ports[host]!, uriOf: (host) => daemons[host]!.uri,
      isPersistent: (name, host) => ports[host]!.isPersistent(name),
      // Both daemons see the overlay at the same path: the storage is shared by nature. A capped
      // bandwidth (32 MiB/s) makes the job last long enough to be looked at.
      migrateLive: async (name, from, to) => {
        const watch = setInterval(() => void ports[from]!.migrationProgress(name).then((p) => p && progress.push(p), () => undefined), 200);
        try {
          await ports[from]!.migrate(name, daemons[to]!.uri, { sharedStorage: true, migrateUri, bandwidthMiBs: 32 });
        } finally {
          clearInterval(watch);
        }
        // libvirt's own migration keeps the source's definition, shut off: the gate's to remove.
        expect(names(a)).toContain(guest);
        expect(a.virsh('domstate', '--reason', guest).trim()).toBe('shut off (migrated)');
      },
    };
    const t = Date.now();
    expect(await moveDomain({ key, domainName: guest, from: hvA, to: hvB }, hostsOf, gate, { moved: () => undefined })).toBe('live');
    console.log(`live migration of ${guest} (${REAL_GUEST_MEMORY}, QEMU emulation, 32 MiB/s cap): ${Date.now() - t} ms; job figures seen ${progress.length} times, last ${JSON.stringify(progress.at(-1))}`);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.totalBytes).toBeGreaterThan(0);
    expect(progress.at(-1)!.processedBytes).toBeGreaterThan(progress[0]!.processedBytes - 1);

    expect(b.runningIds().has(guest)).toBe(true);
    expect(names(a)).not.toContain(guest); // the gate's permit removed it once hv-b held the guest
    expect(names(b).filter((n) => n === guest)).toEqual([guest]);
    const from = serial.size();
    await serial.waitFor(new RegExp(`wimaxvm-guest counter ${before.n + 3} `), 'the counter to go on on hv-b', { from: 0, timeoutMs: 60_000 });
    const after = serial.counters().filter((c) => c.n > before.n);
    expect(after.every((c) => c.boot === before.boot)).toBe(true); // no reboot: the same memory, moved
    expect(serial.text(from)).not.toMatch(GUEST_SAYS.ready); // it did not boot again
    await eventually(() => status(hvB)?.vms?.includes(guest) && !status(hvA)?.vms?.includes(guest), 'the statuses to follow the guest', 30_000);
    placed[guest] = hvB;
  }, 400_000);

  it('a killed daemon: its Hypervisor Ready=False with libvirt\'s error, the other Ready; nothing of it recreated elsewhere; back when it is', async () => {
    const onB = Object.keys(placed).filter((k) => placed[k] === hvB).sort();
    const namesOfA = names(a);
    await b.kill();
    await eventually(() => ready(hvB)?.status === 'False', 'hv-b Ready=False', 30_000);
    expect(ready(hvB)).toMatchObject({ reason: 'Unreachable' });
    expect(ready(hvB)!.message).toMatch(/^libvirt at qemu\+unix:\/\/\/session\?socket=\S+ does not answer: .+; retrying$/);
    expect(status(hvB)!.vms).toEqual(onB); // the last known, kept as a NotReady node keeps its figures
    expect(ready(hvA)?.status).toBe('True');
    expect(names(a)).toEqual(namesOfA); // none of hv-b's guests appeared on hv-a
    await b.start();
    await eventually(() => ready(hvB)?.status === 'True', 'hv-b Ready again', 60_000);
    for (const name of onB) expect(b.runningIds().has(name), name).toBe(true); // its guests ran on meanwhile
  }, 120_000);

  it('the controller places declared VMs over both daemons: status.nodeName, each domain on exactly that daemon, the rest Pending; a killed daemon leaves its VMs Unknown, never recreated; removal reaches the host', async () => {
    const freeA = status(hvA)!.allocatable!.vcpus;
    const freeB = status(hvB)!.allocatable!.vcpus;
    expect(freeA).toBeGreaterThan(0);
    expect(freeB).toBeGreaterThan(0);
    const vms = Array.from({ length: freeA + freeB + 1 }, (_, i) => `eng-${run}-${i}`);
    for (const name of vms) h.write(`${name}.yaml`, vmYaml({ name, memory: '64Mi' }));
    const settled = () => vms.every((n) => ['Running', 'Pending'].includes(h.status(n)?.printableStatus ?? ''));
    await eventually(settled, 'every VM Running or Pending', 120_000);
    const on = (host: string) => vms.filter((n) => h.status(n)?.printableStatus === 'Running' && h.status(n)?.nodeName === host).sort();
    const pending = vms.filter((n) => h.status(n)?.printableStatus === 'Pending');
    expect([on(hvA).length, on(hvB).length, pending.length]).toEqual([freeA, freeB, 1]);
    expect(h.status(pending[0]!)?.conditions.find((c) => c.type === 'Scheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message: '0/2 hypervisors are available: 2 Insufficient vcpus.' });
    for (const n of on(hvA)) expect([a.runningIds().has(n), names(b).includes(n)], n).toEqual([true, false]);
    for (const n of on(hvB)) expect([b.runningIds().has(n), names(a).includes(n)], n).toEqual([true, false]);
    expect(names(a).concat(names(b)).filter((n) => n === pending[0])).toEqual([]);

    const namesOfA = names(a);
    await b.kill();
    for (const n of on(hvB)) {
      const s = await eventually(() => (h.status(n)?.printableStatus === 'Unknown' ? h.status(n) : undefined), `${n} Unknown`, 30_000);
      expect(s.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'HypervisorNotReady' });
      expect(s.nodeName).toBe(hvB);
    }
    h.running!.resync(); // every VM looked at again while hv-b is down: none of them moves
    await new Promise((r) => setTimeout(r, 1000)).then(() => h.running!.idle());
    expect(names(a)).toEqual(namesOfA);
    expect(h.status(pending[0]!)?.printableStatus).toBe('Pending');
    await b.start();
    for (const n of on(hvB)) await h.waitForStatus(n, 'Running', 60_000);

    // spec.nodeName changed on a running VM: live migration to hv-b, Migrating meanwhile, exactly one domain after.
    const moving = on(hvA)[0]!;
    const seen: string[] = [];
    const statuses = h.running!.statuses;
    const write = statuses.write.bind(statuses);
    statuses.write = async (key, object) => {
      if (key === `VirtualMachine/default/${moving}`) seen.push((object.status as { printableStatus: string }).printableStatus);
      return write(key, object);
    };
    h.write(`${moving}.yaml`, vmYaml({ name: moving, memory: '64Mi', extra: `  nodeName: ${hvB}` }));
    await eventually(() => h.status(moving)?.nodeName === hvB && h.status(moving)?.printableStatus === 'Running', `${moving} Running on hv-b`, 120_000)
      .catch((err) => { throw new Error(`${err}; status ${JSON.stringify(h.status(moving))}`); });
    statuses.write = write;
    expect(seen).toContain('Migrating');
    expect([b.runningIds().has(moving), names(a).includes(moving)]).toEqual([true, false]);

    for (const name of vms) h.remove(`${name}.yaml`);
    await eventually(() => vms.every((n) => !names(a).includes(n) && !names(b).includes(n)), 'the removed VMs gone from both daemons', 120_000);
  }, 400_000);

  it('a cold move of a stopped VM (one definition on the new host, none on the old), then `wimaxvm drain` empties hv-a by live migration; MAC, VLAN and uuid unchanged', async () => {
    // The earlier guests of this file (defined by hand) leave: the room on hv-b is for these.
    for (const d of [a, b]) for (const n of names(d)) { try { d.virsh('destroy', n); } catch { /* not running */ } d.virsh('undefine', n); }
    // The controller sees a Hypervisor's file change like any other: wait for it before relying on it.
    const cordonSeen = (host: string, cordoned: boolean) => eventually(
      () => (h.running!.store.get<Hypervisor>(hypervisorKey(host))?.spec.unschedulable === true) === cordoned, `${host} ${cordoned ? '' : 'un'}cordoned in the controller`);
    expect((await cli('cordon', hvB, '--dir', h.dir)).code).toBe(0);
    await cordonSeen(hvB, true);
    const [cold, live1, live2] = ['cold', 'live1', 'live2'].map((n) => `mv-${run}-${n}`) as [string, string, string];
    h.write(`${cold}.yaml`, vmYaml({ name: cold, memory: '64Mi', runStrategy: 'Halted' }));
    for (const n of [live1, live2]) h.write(`${n}.yaml`, vmYaml({ name: n, memory: '64Mi' }));
    await eventually(() => h.status(cold)?.printableStatus === 'Stopped' && [live1, live2].every((n) => h.status(n)?.printableStatus === 'Running'), 'the three VMs up', 120_000);
    const facts = (n: string) => ({ mac: h.status(n)!.allocations.mac, vlan: h.status(n)!.allocations.vlan, uuid: h.status(n)!.domain?.uuid });
    const before = Object.fromEntries([cold, live1, live2].map((n) => [n, facts(n)]));
    for (const n of [cold, live1, live2]) expect(h.status(n)!.nodeName, n).toBe(hvA); // hv-b cordoned

    // Cold: spec.nodeName names hv-b (a spec.nodeName is not the scheduler's: a cordon does not stop it).
    h.write(`${cold}.yaml`, vmYaml({ name: cold, memory: '64Mi', runStrategy: 'Halted', extra: `  nodeName: ${hvB}` }));
    await eventually(() => h.status(cold)?.nodeName === hvB && h.status(cold)?.printableStatus === 'Stopped', `${cold} Stopped on hv-b`, 60_000);
    expect([names(a).includes(cold), names(b).filter((n) => n === cold)]).toEqual([false, [cold]]);
    expect(b.virsh('domstate', cold).trim()).toBe('shut off');
    expect(facts(cold)).toEqual(before[cold]);
    expect(b.virsh('domuuid', cold).trim()).toBe(before[cold]!.uuid);

    // Drain hv-a: its two running VMs (placed by the scheduler) go live to hv-b.
    expect((await cli('uncordon', hvB, '--dir', h.dir)).code).toBe(0);
    await cordonSeen(hvB, false); // else the drain may find no room (CI saw DrainBlocked: 2 cordoned)
    const t = Date.now();
    const r = await cli('drain', hvA, '--dir', h.dir, '--state-dir', h.stateDir, '--timeout', '240s');
    console.log(`drain of ${hvA} (2 guests without an OS, live): ${Date.now() - t} ms\n${r.out}${r.err}`);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`^hypervisor/${hvA} cordoned\n[^]*virtualmachine/${live1} moved to ${hvB}\n[^]*hypervisor/${hvA} drained\n$`));
    for (const n of [live1, live2]) {
      expect([b.runningIds().has(n), names(a).includes(n)], n).toEqual([true, false]);
      expect(h.status(n)!.nodeName).toBe(hvB);
      expect(facts(n)).toEqual(before[n]);
    }
    expect(names(a).filter((n) => n.startsWith(`mv-${run}`))).toEqual([]);
    expect((await cli('uncordon', hvA, '--dir', h.dir)).code).toBe(0);
    for (const n of [cold, live1, live2]) h.remove(`${n}.yaml`);
    await eventually(() => [cold, live1, live2].every((n) => !names(a).includes(n) && !names(b).includes(n)), 'the VMs gone from both daemons', 120_000);
  }, 400_000);
});

function stringify(v: unknown): string {
  return JSON.stringify(v);
}
