// What a reconcile sees of a domain: its state and, parsed only when a field needs it, its
// persistent and live definitions and wimaxvm's metadata.
import type { DomainSnapshot } from '../../ports/hypervisor.js';
import { parseDomainXml } from './domain-xml.js';
import type { ObservedDomain } from './plan.js';

export interface Observed extends ObservedDomain {
  snapshot: DomainSnapshot;
  vncPort?: number;
}

/** The VNC port libvirt chose, from the live XML's <graphics type='vnc' port='5900' ...> (either quotes, any order). */
function vncPortOf(xml: string): number {
  const tag = /<graphics\b[^>]*\btype=['"]vnc['"][^>]*>/.exec(xml)?.[0];
  return Number((tag && /\bport=['"](\d+)['"]/.exec(tag)?.[1]) ?? 0);
}

/**
 * What a reconcile sees of a domain. The XML is parsed only when a field needs it: a look right
 * after our own define and start reads the state and the VNC port, not the definitions.
 */
export function observe(snapshot: DomainSnapshot | undefined): Observed | undefined {
  if (!snapshot) return undefined;
  let persistent: ReturnType<typeof parseDomainXml> | undefined;
  let live: ReturnType<typeof parseDomainXml> | undefined;
  const parsedPersistent = () => (persistent ??= parseDomainXml(snapshot.persistentXml));
  const parsedLive = () => (live ??= parseDomainXml(snapshot.liveXml!));
  const port = snapshot.liveXml ? vncPortOf(snapshot.liveXml) : 0;
  return {
    snapshot,
    state: snapshot.state,
    reason: snapshot.reason,
    get persistent() { return parsedPersistent().facts; },
    get live() { return snapshot.liveXml ? parsedLive().facts : undefined; },
    get owner() { return parsedPersistent().owner; },
    ...(port > 0 ? { vncPort: port } : {}),
  };
}
