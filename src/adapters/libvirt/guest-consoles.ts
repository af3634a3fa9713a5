// GuestConsoles (src/console/console-port.ts) on one plain libvirt connection: a CLI's, opened
// for one command and closed after it (no reconnect: a lost daemon ends the session).
import { ConsoleError, type DomainView, type GuestConsoles } from '../../console/console-port.js';
import type { ConsoleChannel } from '../../console/session.js';
import { domainXmls, lookupDomain } from './cli-domains.js';
import { LibvirtError, openConnection, type Connection, type ConsoleStream } from './native.js';

export class LibvirtGuestConsoles implements GuestConsoles {
  private constructor(private readonly conn: Connection) {}

  static async open(uri: string): Promise<LibvirtGuestConsoles> {
    return new LibvirtGuestConsoles(await openConnection(uri));
  }

  get uri(): string { return this.conn.uri; }

  async describe(domainName: string): Promise<DomainView | undefined> {
    const domain = await lookupDomain(this.conn, domainName);
    if (!domain) return undefined;
    return { name: domainName, ...(await domainXmls(domain)) };
  }

  async open(domainName: string, opts: { force: boolean }): Promise<ConsoleChannel> {
    const domain = await lookupDomain(this.conn, domainName);
    if (!domain) throw new ConsoleError('absent', `domain ${domainName} not found`);
    try {
      // safe: only a console libvirt can hand over without losing data (a pty, not a raw socket).
      return tellingTakeover(await domain.openConsole(undefined, { force: opts.force, safe: true }), domainName);
    } catch (err) {
      throw consoleError(err, domainName);
    }
  }

  close(): Promise<void> { return this.conn.close(); }
}

/**
 * A console another client took over (--force) ends with VIR_ERR_RPC from VIR_FROM_STREAMS
 * ("stream had I/O failure", seen on libvirt 9.0); a stopped domain ends it without an error.
 */
function tellingTakeover(stream: ConsoleStream, domainName: string): ConsoleChannel {
  return {
    onData: (l) => stream.onData(l),
    onEnd: (l) => stream.onEnd((err) => l(err instanceof LibvirtError && err.codeName === 'VIR_ERR_RPC' && err.domainName === 'VIR_FROM_STREAMS'
      ? new ConsoleError('taken-over', `another client took the console of ${domainName} over (--force)`)
      : err)),
    write: (chunk) => stream.write(chunk),
    close: () => stream.close(),
  };
}

/** libvirt's refusals of virDomainOpenConsole, by code (seen on libvirt 9.0: test/libvirt-binding). */
function consoleError(err: unknown, domainName: string): unknown {
  if (!(err instanceof LibvirtError)) return err;
  switch (err.codeName) {
    case 'VIR_ERR_OPERATION_FAILED': // "Active console session exists for this domain"
      return new ConsoleError('busy', `the console of ${domainName} is in use by another client (virsh console, another wimaxvm console); --force takes it over`);
    case 'VIR_ERR_NO_SUPPORT':
      return new ConsoleError('unsupported', `the libvirt driver of this connection has no guest consoles (${err.message})`);
    case 'VIR_ERR_OPERATION_INVALID': // "domain is not running"
      return new ConsoleError('not-running', `domain ${domainName} is not running`);
    case 'VIR_ERR_NO_DOMAIN':
      return new ConsoleError('absent', `domain ${domainName} not found`);
    default:
      return err;
  }
}
