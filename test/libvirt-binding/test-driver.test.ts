// Every call of the binding on libvirt's in-process test driver (test:///default): the happy
// paths, the typed errors per path, and lifecycle events as the driver emits them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/harness.js';
import { ErrorCode, openConnection, setCallObserver, type Connection } from '../../src/adapters/libvirt/native.js';
import { EventLog, rejectsWith, testDomainXml, uniqueName } from './fixtures.js';

const NS = 'https://wimaxvm.example/binding-test';

describe('the binding on test:///default', () => {
  let conn: Connection;

  beforeAll(async () => {
    conn = await openConnection('test:///default');
  });
  afterAll(async () => {
    await conn.close();
  });

  it('answers the connection calls', async () => {
    expect(conn.uri).toBe('test:///default');
    expect(await conn.isAlive()).toBe(true);
    expect(await conn.hostname()).toMatch(/\S/);
    expect(await conn.libVersion()).toBeGreaterThanOrEqual(9_000_000);
    expect(await conn.nodeInfo()).toEqual({ model: 'i686', memoryKiB: 3145728, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 });
    expect(await conn.nodeFreeMemory()).toBeGreaterThan(0);
    const test = await conn.lookupDomainByName('test'); // the driver's own running domain
    expect((await conn.listAllDomains()).map((d) => d.name)).toContain('test');
    expect(await conn.listActiveDomainIds()).toContain(await test.getId());
    expect((await conn.lookupDomainById((await test.getId())!)).uuid).toBe(test.uuid);
    expect((await conn.lookupDomainByUuid(test.uuid)).name).toBe('test');
  });

  it('takes a domain through its life, with state reasons', async () => {
    const name = uniqueName('life');
    const d = await conn.defineDomain(testDomainXml(name));
    expect(d.name).toBe(name);
    expect(d.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await d.isPersistent()).toBe(true);
    expect(await d.getId()).toBeUndefined();
    expect(await d.getState()).toMatchObject({ state: 'shutoff', reason: 'unknown' });
    expect(await conn.listDefinedDomainNames()).toContain(name);

    await d.create();
    expect(await d.isActive()).toBe(true);
    expect(await d.getId()).toBeGreaterThan(0);
    expect(await d.getState()).toMatchObject({ state: 'running', reason: 'booted' });
    expect(await d.getInfo()).toMatchObject({ state: 'running', maxMemKiB: 65536, memoryKiB: 65536, vcpus: 1 });
    expect(await d.getXmlDesc()).toContain(`<name>${name}</name>`);
    expect(await d.getXmlDesc({ inactive: true })).toContain(`<name>${name}</name>`);

    await d.suspend();
    expect(await d.getState()).toMatchObject({ state: 'paused', reason: 'user' });
    await d.resume();
    expect(await d.getState()).toMatchObject({ state: 'running', reason: 'unpaused' });
    await d.reboot();
    await d.shutdown();
    expect(await d.getState()).toMatchObject({ state: 'shutoff', reason: 'shutdown' });

    await rejectsWith(d.create({ paused: true, forceBoot: true }), 'VIR_ERR_INVALID_ARG'); // the test driver takes no start flags
    await d.create();
    await d.managedSave();
    expect(await d.hasManagedSave()).toBe(true);
    expect(await d.getState()).toMatchObject({ state: 'shutoff', reason: 'saved' });
    await d.managedSaveRemove();
    expect(await d.hasManagedSave()).toBe(false);

    await d.create();
    await d.destroy();
    expect(await d.getState()).toMatchObject({ state: 'shutoff', reason: 'destroyed', stateCode: 5 });
    await d.undefine({ managedSave: true, snapshotsMetadata: true });
    await rejectsWith(conn.lookupDomainByName(name), 'VIR_ERR_NO_DOMAIN');
  });

  it('reads every domain with its state and both definitions in one call (readAllDomains), and says which calls it made', async () => {
    const off = uniqueName('survey-off');
    const on = uniqueName('survey-on');
    await conn.defineDomain(testDomainXml(off));
    const running = await conn.defineDomain(testDomainXml(on));
    await running.create();
    await running.setMemory(32768, { config: true }); // the persistent definition now differs from the live one
    const calls: string[] = [];
    setCallObserver((c) => calls.push(c));
    let all;
    try {
      all = await conn.readAllDomains();
    } finally {
      setCallObserver(undefined);
    }
    const byName = new Map(all.map((d) => [d.name, d]));
    const shutOff = byName.get(off)!;
    expect(shutOff).toMatchObject({ state: 'shutoff', reason: 'unknown', stateCode: 5, uuid: (await conn.lookupDomainByName(off)).uuid });
    expect(shutOff.persistentXml).toContain(`<name>${off}</name>`);
    expect(shutOff.liveXml).toBeUndefined();
    const active = byName.get(on)!;
    expect(active).toMatchObject({ state: 'running', reason: 'booted' });
    expect(active.liveXml).toBe(await running.getXmlDesc());
    expect(active.persistentXml).toBe(await running.getXmlDesc({ inactive: true }));
    expect(active.persistentXml).toContain('32768');
    expect(active.liveXml).not.toContain('32768');
    // One native call; the observer still hears every libvirt function it made.
    const xmlReads = all.reduce((n, d) => n + 1 + (d.liveXml === undefined ? 0 : 1), 0);
    expect(calls.filter((c) => c === 'virConnectGetAllDomainStats')).toHaveLength(1);
    expect(calls.filter((c) => c === 'virDomainGetXMLDesc')).toHaveLength(xmlReads);
    expect(calls.filter((c) => c !== 'virConnectGetAllDomainStats' && c !== 'virDomainGetXMLDesc')).toEqual([]);
    await running.destroy();
    for (const name of [on, off]) await (await conn.lookupDomainByName(name)).undefine();
    expect((await conn.readAllDomains()).map((d) => d.name)).not.toContain(on);
  });

  it('sets metadata, description, memory and vCPUs without redefining', async () => {
    const d = await conn.defineDomain(testDomainXml(uniqueName('meta'), { memoryKiB: 131072, maxVcpus: 4 }));
    const before = await d.getXmlDesc({ inactive: true });
    expect(await d.getMetadataElement(NS)).toBeUndefined();
    await d.setMetadataElement(NS, 'wx', '<owner controller="wimaxvm" id="7"/>', { config: true });
    expect(await d.getMetadataElement(NS, { config: true })).toBe('<owner controller="wimaxvm" id="7"/>');
    const after = await d.getXmlDesc({ inactive: true });
    // Only the metadata element came in: the rest of the definition is as it was.
    expect(after.replace(/\s*<metadata>[\s\S]*<\/metadata>/, '')).toBe(before);
    await d.setMetadataElement(NS, 'wx', null);
    expect(await d.getMetadataElement(NS)).toBeUndefined();

    await d.setDescription('a station gateway');
    expect(await d.getDescription()).toBe('a station gateway');
    await d.setDescription(null);
    expect(await d.getDescription()).toBeUndefined();

    await d.create();
    await d.setMemory(98304, { live: true });
    await d.setVcpus(3, { live: true });
    expect(await d.getInfo()).toMatchObject({ memoryKiB: 98304, vcpus: 3 });
    await d.destroy();
    await d.undefine();
  });

  it('gives statistics', async () => {
    const d = await conn.defineDomain(testDomainXml(uniqueName('stats'), { mac: '52:54:00:aa:bb:02' }));
    await d.create();
    const block = await d.blockStats('vda');
    expect(Object.keys(block).sort()).toEqual(['errs', 'rdBytes', 'rdReq', 'wrBytes', 'wrReq']);
    expect(Object.values(block).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    const nic = await d.interfaceStats('52:54:00:aa:bb:02');
    expect(Object.keys(nic)).toHaveLength(8);
    expect(Object.values(nic).every((v) => Number.isFinite(v))).toBe(true);
    expect(await d.memoryStats()).toEqual({}); // the test driver reports none
    await rejectsWith(d.interfaceStats('nope0'), 'VIR_ERR_INVALID_ARG');
    await d.destroy();
    await d.undefine();
  });

  it('rejects with libvirt\'s code per path', async () => {
    const absent = await rejectsWith(conn.lookupDomainByName(uniqueName('absent')), 'VIR_ERR_NO_DOMAIN');
    expect(absent).toMatchObject({ code: ErrorCode.NO_DOMAIN, domainName: 'VIR_FROM_TEST', call: 'virDomainLookupByName', level: 2 });
    await rejectsWith(conn.lookupDomainById(99999), 'VIR_ERR_NO_DOMAIN');
    await rejectsWith(conn.lookupDomainByUuid('00000000-0000-0000-0000-00000000beef'), 'VIR_ERR_NO_DOMAIN');
    expect(await rejectsWith(conn.lookupNetworkByName(uniqueName('absent')), 'VIR_ERR_NO_NETWORK')).toMatchObject({ code: ErrorCode.NO_NETWORK, call: 'virNetworkLookupByName' });
    await rejectsWith(conn.defineDomain('<domain'), 'VIR_ERR_XML_DETAIL');

    const d = await conn.defineDomain(testDomainXml(uniqueName('invalid')));
    // Operation invalid: live changes to a domain that does not run (the test driver says
    // INTERNAL_ERROR for starting a running one; real libvirtd's OPERATION_INVALID is in libvirtd.test.ts).
    expect(await rejectsWith(d.managedSave(), 'VIR_ERR_OPERATION_INVALID')).toMatchObject({ code: ErrorCode.OPERATION_INVALID, call: 'virDomainManagedSave' });
    await rejectsWith(d.setMemory(32768, { live: true }), 'VIR_ERR_OPERATION_INVALID');
    await rejectsWith(d.reboot(), 'VIR_ERR_OPERATION_INVALID');
    await rejectsWith(conn.defineDomain(testDomainXml('test')), 'VIR_ERR_OPERATION_FAILED'); // the driver's own 'test', another uuid
    await rejectsWith(d.attachDevice("<interface type='network'><source network='default'/></interface>"), 'VIR_ERR_NO_SUPPORT');
    await d.undefine();
    // The handle outlives the domain: calls on it say the domain is gone.
    await rejectsWith(d.getState(), 'VIR_ERR_NO_DOMAIN');
  });

  it('rejects every call on a closed connection without reaching libvirt, handles included', async () => {
    const other = await openConnection('test:///default');
    const d = await other.lookupDomainByName('test');
    const calls: string[] = [];
    setCallObserver((c) => calls.push(c));
    await other.close();
    await other.close(); // idempotent
    try {
      for (const p of [other.hostname(), other.listAllDomains(), other.listDefinedDomainNames(), other.isAlive(), d.getState(), other.lookupDomainByName('test')]) {
        expect(await rejectsWith(p, 'VIR_ERR_INVALID_CONN')).toMatchObject({ code: ErrorCode.INVALID_CONN, call: 'closed' });
      }
      expect(calls).toEqual(['virConnectClose']);
    } finally {
      setCallObserver(undefined);
    }
  });

  it('tells the call observer every libvirt function as it is called', async () => {
    const calls: string[] = [];
    setCallObserver((c) => calls.push(c));
    try {
      const d = await conn.lookupDomainByName('test');
      await d.getState();
      await d.getXmlDesc();
      await conn.lookupDomainByName(uniqueName('absent')).catch(() => undefined);
    } finally {
      setCallObserver(undefined);
    }
    expect(calls).toEqual(['virDomainLookupByName', 'virDomainGetState', 'virDomainGetXMLDesc', 'virDomainLookupByName']);
  });

  it('delivers lifecycle events with their details, and metadata changes (the test driver emits no reboot event)', async () => {
    const name = uniqueName('events');
    const log = new EventLog(conn, name);
    await conn.eventsReady();
    const d = await conn.defineDomain(testDomainXml(name));
    await d.create();
    await d.suspend();
    await d.resume();
    await d.reboot();
    await d.setMetadataElement(NS, 'wx', '<x/>', { live: true });
    await d.shutdown();
    await d.create();
    await d.destroy();
    await d.undefine();
    await log.waitFor('undefined/removed');
    expect(log.lifecycle()).toEqual([
      'defined/added', 'started/booted', 'suspended/paused', 'resumed/unpaused', 'stopped/shutdown', 'started/booted', 'stopped/destroyed', 'undefined/removed',
    ]);
    const first = log.events[0]!;
    expect(first).toMatchObject({ kind: 'lifecycle', name, uuid: d.uuid, id: -1, eventCode: 0, detailCode: 0 });
    expect(log.events.find((e) => e.kind === 'lifecycle' && e.event === 'started')!.id).toBeGreaterThan(0);
    expect(log.events.find((e) => e.kind === 'metadata-change')).toMatchObject({ type: 2, nsuri: NS });
    log.unsubscribe();
  });

  it('stops delivering to a listener that unsubscribed', async () => {
    const name = uniqueName('unsub');
    const kept = new EventLog(conn, name);
    const dropped = new EventLog(conn, name);
    dropped.unsubscribe();
    await conn.eventsReady();
    const d = await conn.defineDomain(testDomainXml(name));
    await d.undefine();
    await kept.waitFor('undefined/removed');
    expect(dropped.events).toEqual([]);
    kept.unsubscribe();
  });

  it('delivers events while other calls are in flight', async () => {
    const name = uniqueName('busy');
    const d = await conn.defineDomain(testDomainXml(name));
    let inFlight = 0;
    let inFlightAtEvent: number | undefined;
    const unsubscribe = conn.onDomainEvent((e) => {
      if (e.name === name && e.kind === 'lifecycle' && e.event === 'started') inFlightAtEvent = inFlight;
    });
    await conn.eventsReady();
    const start = d.create();
    // Thousands of calls queued behind the start: the event must not wait for them all.
    const flood = Array.from({ length: 4000 }, () => {
      inFlight++;
      return d.getXmlDesc().finally(() => inFlight--);
    });
    await start;
    await eventually(() => inFlightAtEvent !== undefined, 'the started event');
    expect(inFlightAtEvent).toBeGreaterThan(0);
    const xmls = await Promise.all(flood);
    expect(xmls.every((x) => x.includes(`<name>${name}</name>`))).toBe(true);
    unsubscribe();
    await d.destroy();
    await d.undefine();
  });
});

describe('networks on test:///default', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await openConnection('test:///default');
  });
  afterAll(async () => {
    await conn.close();
  });

  const xml = (name: string, octet: number): string => `<network><name>${name}</name><bridge name='lb${octet}'/>
<ip address='10.77.${octet}.1' netmask='255.255.255.0'><dhcp><range start='10.77.${octet}.10' end='10.77.${octet}.99'/></dhcp></ip></network>`;

  it('defines, starts, updates, stops and undefines a network', async () => {
    const name = uniqueName('net');
    const n = await conn.defineNetwork(xml(name, 11));
    expect(n.name).toBe(name);
    expect(await n.isActive()).toBe(false);
    expect((await conn.listAllNetworks()).map((x) => x.name)).toContain(name);
    await n.create();
    expect(await n.isActive()).toBe(true);
    await n.update('add-last', 'ip-dhcp-host', "<host mac='52:54:00:00:00:09' ip='10.77.11.9'/>", { live: true, config: true });
    expect(await n.getXmlDesc()).toContain("ip='10.77.11.9'");
    await rejectsWith(n.update('add-last', 'ip-dhcp-host', "<host mac='52:54:00:00:00:09' ip='10.77.11.9'/>", { live: true }), 'VIR_ERR_OPERATION_INVALID'); // already there
    await rejectsWith(n.getXmlDesc({ inactive: true }), 'VIR_ERR_INVALID_ARG'); // a flag the test driver lacks
    await rejectsWith(n.dhcpLeases(), 'VIR_ERR_NO_SUPPORT'); // the test driver has no dnsmasq
    await n.destroy();
    await n.undefine();
    await rejectsWith(conn.lookupNetworkByName(name), 'VIR_ERR_NO_NETWORK');
    await rejectsWith(n.create(), 'VIR_ERR_NO_NETWORK');
  });

  it('creates a transient network', async () => {
    const name = uniqueName('tnet');
    const n = await conn.createNetwork(xml(name, 12));
    expect(await n.isActive()).toBe(true);
    expect((await conn.lookupNetworkByName(name)).uuid).toBe(n.uuid);
    await n.destroy();
    await rejectsWith(conn.lookupNetworkByName(name), 'VIR_ERR_NO_NETWORK');
  });

  it('says which calls the driver lacks: migration, console, jobs', async () => {
    const d = await conn.defineDomain(testDomainXml(uniqueName('nosup')));
    await d.create();
    await rejectsWith(d.migrateToUri3('test:///default', { destName: 'x', bandwidthMiBs: 10 }, { live: true }), 'VIR_ERR_ARGUMENT_UNSUPPORTED');
    await rejectsWith(d.openConsole(), 'VIR_ERR_NO_SUPPORT');
    await rejectsWith(d.getJobInfo(), 'VIR_ERR_NO_SUPPORT');
    await rejectsWith(d.abortJob(), 'VIR_ERR_NO_SUPPORT');
    await rejectsWith(d.detachDeviceAlias('net0', { live: true }), 'VIR_ERR_NO_SUPPORT');
    await d.destroy();
    await d.undefine();
  });
});

