// `wimaxvm console` and `wimaxvm vnc` through main() on libvirt's test driver, in this process
// (test:///default's state is shared by the connections of one process): the driver has no
// guest consoles and gives no VNC port, so what is checked here is every refusal, with its
// message and exit code. The attached console itself is test/system/console-adoption.test.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireControllerLock } from '../../src/adapters/store/controller-lock.js';
import { cli } from '../helpers/run-cli.js';
import { openConnection, type Connection } from '../../src/adapters/libvirt/native.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';

const run = Math.random().toString(36).slice(2, 7);
const VM = `con-${run}`;
const STOPPED = `con-off-${run}`;
const FOREIGN = `con-foreign-${run}`;

function wimaxvmDomain(name: string, namespace = 'default'): string {
  const domainName = namespace === 'default' ? name : `${namespace}_${name}`;
  return buildDomainXml({
    name: domainName, uuid: crypto.randomUUID(), type: 'test', memoryKiB: 65536, vcpus: 1, diskPaths: [], mac: '52:54:00:aa:00:01', nic: { type: 'user' },
    owner: { uid: 'u', namespace, name, generation: 1, specHash: 'h', mac: '52:54:00:aa:00:01', controller: 'file://test/dir' },
  });
}

describe('wimaxvm console and vnc on test:///default', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await openConnection('test:///default');
    await (await conn.defineDomain(wimaxvmDomain(VM))).create();
    await conn.defineDomain(wimaxvmDomain(STOPPED));
    await (await conn.defineDomain(`<domain type='test'><name>${FOREIGN}</name><memory>65536</memory><os><type>hvm</type></os></domain>`)).create();
  });
  afterAll(async () => {
    for (const name of [VM, STOPPED, FOREIGN]) {
      const d = await conn.lookupDomainByName(name);
      if (await d.isActive()) await d.destroy();
      await d.undefine();
    }
    await conn.close();
  });

  it('a running wimaxvm VM on a driver without consoles: exit 1, saying so', async () => {
    const r = await cli('console', VM, '--connect', 'test:///default');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: the libvirt driver of this connection has no guest consoles \(.*virDomainOpenConsole\)\n$/);
    expect(r.out).toBe('');
  });

  it.each([
    ['a VM with no domain', ['nope-' + run], /no libvirt domain nope-\w+ on test:\/\/\/default: the VM is not declared, or its controller has not defined it yet/],
    ['a stopped VM', [STOPPED], new RegExp(`VM ${STOPPED} is not running \\(domain ${STOPPED} is shutoff\\)`)],
    ['a domain wimaxvm does not own', [FOREIGN], new RegExp(`the libvirt domain ${FOREIGN} is not a wimaxvm VM .*wimaxvm adopt ${FOREIGN}`)],
    ['another namespace', [VM, '-n', 'lab'], new RegExp(`VM lab/${VM}: no libvirt domain lab_${VM}`)],
  ])('console of %s: exit 1 and one line', async (_what, args, message) => {
    const r = await cli('console', ...args, '--connect', 'test:///default');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  });

  it.each([
    [['console'], /console needs one NAME/],
    [['console', 'a', 'b'], /console needs one NAME/],
    [['console', VM, '--bogus'], /Unknown option '--bogus'/],
    [['vnc'], /vnc needs one NAME/],
  ])('usage errors exit 2: %j', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('vnc: a running VM whose driver gave its display no port, and a stopped one', async () => {
    const running = await cli('vnc', VM, '--connect', 'test:///default');
    expect(running.code).toBe(1);
    expect(running.err).toMatch(new RegExp(`VM ${VM} has no VNC display to connect to: libvirt has not given its VNC display a port`));
    const stopped = await cli('vnc', STOPPED, '--connect', 'test:///default');
    expect(stopped.code).toBe(1);
    expect(stopped.err).toMatch(/is not running .*cannot connect to its display/);
  });

  it('without --connect: the URI the controller running on --state-dir (or --dir) recorded', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wimaxvm-console-state-'));
    const socket = `/nonexistent/wimaxvm-console-${run}.sock`;
    const lock = acquireControllerLock(stateDir, { directory: '/d', identity: 'file://h/d', listen: 'off', connect: `test+unix:///default?socket=${socket}` });
    try {
      const r = await cli('vnc', VM, '--state-dir', stateDir);
      expect(r.code).toBe(1);
      expect(r.err).toContain(socket); // libvirt could not reach the controller's libvirt: it was asked
      expect((await cli('console', VM, '--state-dir', stateDir, '--connect', 'test:///default')).err).toMatch(/no guest consoles/); // --connect wins
    } finally {
      lock.release();
    }
    expect((await cli('console', VM, '--state-dir', stateDir)).err).toMatch(/no guest consoles/); // no controller running: the default
  });

  it('help names the escape and --force', async () => {
    const r = await cli('help', 'console');
    expect(r.out).toMatch(/Ctrl-\] ends/);
    expect(r.out).toMatch(/--force/);
  });
});
