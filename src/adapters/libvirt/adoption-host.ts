// AdoptionHost (src/adoption/adoption-host.ts) for the CLI, which runs on the libvirt host: one
// libvirt connection, the local file system for disk paths, ovs-vsctl for a port's tag.
import { realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { AdoptionHost, DomainOnHost } from '../../adoption/adoption-host.js';
import { execFile } from '../../observability/counted-child-process.js';
import { METADATA_KEY, METADATA_NS } from '../../reconcilers/virtual-machine/domain-xml.js';
import { domainXmls, lookupDomain } from './cli-domains.js';
import { classify } from './errors.js';
import { openConnection, type Connection } from './native.js';

const run = promisify(execFile);

export class LibvirtAdoptionHost implements AdoptionHost {
  private constructor(private readonly conn: Connection) {}

  static async open(uri: string): Promise<LibvirtAdoptionHost> {
    return new LibvirtAdoptionHost(await openConnection(uri));
  }

  get uri(): string { return this.conn.uri; }

  async describe(domainName: string): Promise<DomainOnHost | undefined> {
    const domain = await lookupDomain(this.conn, domainName);
    if (!domain) return undefined;
    const [xmls, persistent] = await Promise.all([domainXmls(domain), domain.isPersistent()]);
    return { name: domain.name, uuid: domain.uuid, persistent, ...xmls };
  }

  async activeDomainNames(): Promise<string[]> {
    const ids = await this.conn.listActiveDomainIds();
    const names = await Promise.all(ids.map(async (id) => {
      try {
        return (await this.conn.lookupDomainById(id)).name;
      } catch (err) {
        if (classify(err) === 'absent') return undefined; // stopped meanwhile
        throw err;
      }
    }));
    return names.filter((n): n is string => n !== undefined).sort();
  }

  async realPath(path: string): Promise<string | undefined> {
    try {
      return await realpath(path);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async portTag(port: string): Promise<number | undefined> {
    try {
      const { stdout } = await run('ovs-vsctl', ['--timeout=5', 'get', 'port', port, 'tag'], { encoding: 'utf8' });
      const tag = Number(stdout.trim());
      return Number.isInteger(tag) ? tag : undefined; // "[]": no tag
    } catch {
      return undefined; // no such port, or no Open vSwitch here: the XML's <vlan> is all there is
    }
  }

  async setOwnerElement(domainName: string, xml: string | null, live: boolean): Promise<void> {
    const domain = await lookupDomain(this.conn, domainName);
    if (!domain) throw new Error(`domain ${domainName} not found`);
    await domain.setMetadataElement(METADATA_NS, METADATA_KEY, xml, { config: true, ...(live ? { live: true } : {}) });
  }

  close(): Promise<void> { return this.conn.close(); }
}
