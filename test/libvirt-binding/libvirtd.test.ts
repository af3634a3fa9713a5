// The binding against a real libvirtd of the test's own (PrivateLibvirtd), which it may stop and
// kill: a call in flight when the daemon dies rejects with a connection-lost code, onClose
// fires, list calls reject instead of answering [], and keepalive notices a daemon that hangs.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PrivateLibvirtd, privateLibvirtdEnabled } from '../helpers/private-libvirtd.js';
import { isConnectionLost, openConnection, type CloseReason, type Connection, type LibvirtError } from '../../src/adapters/libvirt/native.js';

const enabled = privateLibvirtdEnabled();
const describeError = (e: LibvirtError): string => `${e.call}: ${e.codeName} (${e.domainName}) ${e.message}`;

async function failure(p: Promise<unknown>): Promise<LibvirtError> {
  return p.then(() => { throw new Error('the call succeeded'); }, (e: LibvirtError) => e);
}

describe.runIf(enabled)('the binding on a private libvirtd that dies', () => {
  let daemon: PrivateLibvirtd | undefined;
  const conns: Connection[] = [];

  /** A fresh daemon per test (each one kills it), reached through its test driver. */
  async function connect(opts?: { keepAliveIntervalS?: number; keepAliveCount?: number }): Promise<{ conn: Connection; closed: Promise<CloseReason> }> {
    daemon = new PrivateLibvirtd();
    await daemon.start();
    const conn = await openConnection(daemon.uri.replace('qemu+unix:///session', 'test+unix:///default'), opts);
    conns.push(conn);
    const closed = new Promise<CloseReason>((resolve) => conn.onClose(resolve));
    return { conn, closed };
  }

  afterEach(async () => {
    for (const c of conns.splice(0)) await c.close();
    if (daemon?.pid) process.kill(daemon.pid, 'SIGCONT');
    await daemon?.dispose();
    daemon = undefined;
  });
  afterAll(async () => {
    await daemon?.dispose();
  });

  it('killed mid-call: the call rejects with a connection-lost code, onClose fires, lists reject', async () => {
    const { conn, closed } = await connect();
    expect(await conn.hostname()).toMatch(/\S/);
    expect((await conn.listAllDomains()).map((d) => d.name)).toContain('test');
    const test = await conn.lookupDomainByName('test');

    // Stopped, the daemon reads nothing: these calls are in flight until it dies.
    process.kill(daemon!.pid!, 'SIGSTOP');
    const inFlight = [conn.listAllDomains(), test.getXmlDesc(), conn.lookupDomainByName('test')].map(failure);
    await new Promise((r) => setTimeout(r, 200)); // let them reach the socket (they cannot finish either way)
    await daemon!.kill('SIGKILL');

    const errors = await Promise.all(inFlight);
    console.log('killed mid-call:', errors.map(describeError).join('; '));
    for (const e of errors) expect(isConnectionLost(e), describeError(e)).toBe(true);
    const reason = await closed;
    console.log('onClose:', reason);
    expect(reason).toMatch(/^(eof|error)$/);

    // After: every list call rejects, none answers [].
    const after = await Promise.all([conn.listAllDomains(), conn.listDefinedDomainNames(), conn.listActiveDomainIds(), conn.listAllNetworks(), test.getState()].map(failure));
    console.log('after the daemon died:', [...new Set(after.map(describeError))].join('; '));
    for (const e of after) expect(isConnectionLost(e), describeError(e)).toBe(true);
    expect(await conn.isAlive()).toBe(false);
  }, 60_000);

  it('hung (SIGSTOP): keepalive closes the connection and the call in flight rejects', async () => {
    const { conn, closed } = await connect({ keepAliveIntervalS: 1, keepAliveCount: 1 });
    expect(await conn.isAlive()).toBe(true);
    process.kill(daemon!.pid!, 'SIGSTOP');
    const pending = failure(conn.hostname());
    expect(await closed).toBe('keepalive');
    const e = await pending;
    console.log('hung daemon, keepalive:', describeError(e));
    expect(isConnectionLost(e), describeError(e)).toBe(true);
  }, 60_000);

  it('a connection that never opened says why', async () => {
    const e = await failure(openConnection('test+unix:///default?socket=/nonexistent/wimaxvm-binding.sock'));
    expect(e).toMatchObject({ name: 'LibvirtError', codeName: 'VIR_ERR_SYSTEM_ERROR', call: 'virConnectOpen' });
    expect(isConnectionLost(e)).toBe(true);
  });
});
