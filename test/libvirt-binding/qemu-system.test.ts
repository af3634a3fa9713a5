// The binding on the shared qemu:///system with a real QEMU guest (no OS, no disk: it runs,
// which is all this needs): `virsh destroy` reaches JavaScript as a lifecycle event, starting a
// running guest is OPERATION_INVALID, the console is a stream, configuration changes apply.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemTestsEnabled, virsh } from '../helpers/system.js';
import { openConnection, type Connection, type Domain, type LibvirtError } from '../../src/adapters/libvirt/native.js';
import { EventLog, qemuDomainXml, rejectsWith, uniqueName } from './fixtures.js';

const enabled = systemTestsEnabled();

/** Runs virsh without blocking the event loop; resolves with the moment it exited. */
function virshAsync(...args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('virsh', ['-c', 'qemu:///system', ...args], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now()) : reject(new Error(`virsh ${args.join(' ')} exited with ${code}`))));
  });
}

describe.runIf(enabled)('the binding on qemu:///system', () => {
  let conn: Connection;
  const names: string[] = [];

  beforeAll(async () => {
    conn = await openConnection('qemu:///system');
  });
  afterAll(async () => {
    await conn?.close();
    for (const name of names) {
      try { virsh('destroy', name); } catch { /* not running */ }
      try { virsh('undefine', name); } catch { /* gone */ }
    }
  });

  async function undefine(d: Domain): Promise<void> {
    await d.undefine();
    names.splice(names.indexOf(d.name), 1);
  }

  async function startedGuest(): Promise<{ d: Domain; log: EventLog }> {
    const name = uniqueName('q');
    names.push(name);
    const log = new EventLog(conn, name);
    await conn.eventsReady();
    const d = await conn.defineDomain(qemuDomainXml(name));
    await d.create();
    await log.waitFor('started/booted');
    return { d, log };
  }

  it('virsh destroy reaches JavaScript as stopped/destroyed; the delay is reported', async () => {
    const { d, log } = await startedGuest();
    expect(await d.getState()).toMatchObject({ state: 'running', reason: 'booted' });
    expect(await rejectsWith(d.create(), 'VIR_ERR_OPERATION_INVALID')).toMatchObject({ call: 'virDomainCreateWithFlags', domainName: 'VIR_FROM_QEMU' });

    let eventAt: number | undefined;
    const unsubscribe = conn.onDomainEvent((e) => {
      if (e.name === d.name && e.kind === 'lifecycle' && e.event === 'stopped') eventAt ??= performance.now();
    });
    await conn.eventsReady();
    const virshStartedAt = performance.now();
    const virshExitedAt = await virshAsync('destroy', d.name);
    await log.waitFor('stopped/destroyed');
    unsubscribe();
    // Negative: the event reached JavaScript before virsh's own process had exited.
    console.log(`virsh destroy → stopped/destroyed event in JS: ${(eventAt! - virshExitedAt).toFixed(1)} ms after virsh exited; virsh ran ${(virshExitedAt - virshStartedAt).toFixed(1)} ms, the event came ${(eventAt! - virshStartedAt).toFixed(1)} ms after its start`);
    expect(await d.getState()).toMatchObject({ state: 'shutoff', reason: 'destroyed' });
    log.unsubscribe();
    await undefine(d);
  });

  it('opens the console as a stream that ends when the guest goes', async () => {
    const { d, log } = await startedGuest();
    const console_ = await d.openConsole();
    const ended = new Promise<LibvirtError | undefined>((resolve) => console_.onEnd(resolve));
    console_.onData(() => undefined); // a guest without an OS says nothing; the stream must still work
    await console_.write('hello\r\n');
    await rejectsWith(d.openConsole(), 'VIR_ERR_OPERATION_FAILED'); // one console user at a time without force
    await d.destroy();
    expect(await ended).toBeUndefined(); // EOF, no error
    await rejectsWith(console_.write('late'), 'VIR_ERR_INTERNAL_ERROR');
    await console_.close();
    await log.waitFor('stopped/destroyed');
    log.unsubscribe();
    await undefine(d);
  });

  it('changes the configuration without redefining; figures and jobs', async () => {
    const { d, log } = await startedGuest();
    expect(await d.getJobInfo()).toMatchObject({ type: 0 });
    expect(await d.memoryStats()).toHaveProperty('actual', 65536);
    expect((await conn.nodeInfo()).cpus).toBeGreaterThan(0);
    const serial = "<serial type='pty'><target port='1'/></serial>";
    await d.attachDevice(serial, { config: true });
    expect(await d.getXmlDesc({ inactive: true })).toMatch(/<target type='isa-serial' port='1'>/);
    await d.detachDevice(serial, { config: true });
    expect(await d.getXmlDesc({ inactive: true })).not.toMatch(/port='1'/);
    await d.setMetadataElement('https://wimaxvm.example/binding-test', 'wx', '<owner id="1"/>', { live: true, config: true });
    expect(await d.getMetadataElement('https://wimaxvm.example/binding-test', { live: true })).toBe('<owner id="1"/>');
    // Migration to the host it is on: typed parameters reach libvirt, which refuses.
    await rejectsWith(d.migrateToUri3('qemu:///system', { bandwidthMiBs: 8, destName: d.name }, { live: true, peer2peer: true }), 'VIR_ERR_INVALID_ARG');
    await d.destroy();
    await log.waitFor('stopped/destroyed');
    log.unsubscribe();
    await undefine(d);
  });

  it('runs a transient isolated network: leases, live update, stop', async () => {
    const name = uniqueName('net');
    const octet = 100 + Math.floor(Math.random() * 100);
    const bridge = `lbn${name.slice(-9).replace(/[^a-z0-9]/g, '')}`.slice(0, 15);
    const n = await conn.createNetwork(`<network><name>${name}</name><bridge name='${bridge}'/>
<ip address='10.231.${octet}.1' netmask='255.255.255.0'><dhcp><range start='10.231.${octet}.10' end='10.231.${octet}.99'/></dhcp></ip></network>`);
    try {
      expect(await n.isActive()).toBe(true);
      expect(await n.dhcpLeases()).toEqual([]); // dnsmasq runs; nobody asked yet
      expect(await n.dhcpLeases('52:54:00:00:00:01')).toEqual([]);
      await n.update('add-last', 'ip-dhcp-host', `<host mac='52:54:00:00:00:09' ip='10.231.${octet}.9'/>`, { live: true });
      expect(await n.getXmlDesc()).toContain(`ip='10.231.${octet}.9'`);
      await n.update('delete', 'ip-dhcp-host', `<host mac='52:54:00:00:00:09' ip='10.231.${octet}.9'/>`, { live: true });
      expect(await n.getXmlDesc()).not.toContain(`10.231.${octet}.9'`);
    } finally {
      await n.destroy();
    }
    await rejectsWith(conn.lookupNetworkByName(name), 'VIR_ERR_NO_NETWORK');
  });
});
