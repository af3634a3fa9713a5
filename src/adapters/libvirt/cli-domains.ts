// What the CLI's one-connection adapters (adoption, consoles) ask of a domain by name: the domain
// or undefined when libvirt has none, and its state with both XML descriptions.
import { classify } from './errors.js';
import type { Connection, Domain, DomainState } from './native.js';

export async function lookupDomain(conn: Connection, name: string): Promise<Domain | undefined> {
  try {
    return await conn.lookupDomainByName(name);
  } catch (err) {
    if (classify(err) === 'absent') return undefined;
    throw err;
  }
}

/** Its state and definition, and the live XML unless it is shut off. */
export async function domainXmls(domain: Domain): Promise<{ state: DomainState; persistentXml: string; liveXml?: string }> {
  const [{ state }, persistentXml] = await Promise.all([domain.getState(), domain.getXmlDesc({ inactive: true })]);
  const liveXml = state === 'shutoff' ? undefined : await domain.getXmlDesc();
  return { state, persistentXml, ...(liveXml !== undefined ? { liveXml } : {}) };
}
