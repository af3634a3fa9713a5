// What a reconcile sees of a domain: its state and, parsed only when a field needs it, its
// persistent and live definitions and wimaxvm's metadata.
import { createHash } from 'node:crypto';
import type { DomainSnapshot, DomainView } from '../../ports/hypervisor.js';
import { parseDomainXml, type ParsedDomain } from './domain-xml.js';
import type { ObservedDomain } from './plan.js';

export interface Observed extends ObservedDomain {
  /** A DomainView when looked at right after acting (getDomainView): then only state and live facts may be read. */
  snapshot: DomainView;
  vncPort?: number;
}

/** The VNC port libvirt chose, from the live XML's <graphics type='vnc' port='5900' ...> (either quotes, any order). */
function vncPortOf(xml: string): number {
  const tag = /<graphics\b[^>]*\btype=['"]vnc['"][^>]*>/.exec(xml)?.[0];
  return Number((tag && /\bport=['"](\d+)['"]/.exec(tag)?.[1]) ?? 0);
}

/** Definitions parsed, by domain and kind (persistent or live): kept for about two per VM of 16k. */
const PARSED_KEPT = 32_768;
const parsed = new Map<string, { digest: string; domain: ParsedDomain }>();

/**
 * The parsed definition, parsed again only when the XML changed: a resync looks at every
 * domain, and most have not changed since the last look. A digest (a few microseconds) stands
 * for the XML, so the XML itself is not kept; the result is frozen, as it is shared.
 */
function parseOnce(name: string, which: 'persistent' | 'live', xml: string): ParsedDomain {
  const key = `${which}/${name}`;
  const digest = createHash('sha1').update(xml).digest('base64');
  const hit = parsed.get(key);
  parsed.delete(key); // re-inserted last: the map's order is least recently used first
  if (hit?.digest === digest) {
    parsed.set(key, hit);
    return hit.domain;
  }
  const domain = deepFreeze(parseDomainXml(xml));
  parsed.set(key, { digest, domain });
  if (parsed.size > PARSED_KEPT) parsed.delete(parsed.keys().next().value!);
  return domain;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * What a reconcile sees of a domain. The XML is parsed only when a field needs it: a look right
 * after our own define and start reads the state and the VNC port, not the definitions (and
 * reads no persistent definition at all: getDomainView).
 */
export function observe(snapshot: DomainSnapshot | DomainView | undefined): Observed | undefined {
  if (!snapshot) return undefined;
  let persistent: ReturnType<typeof parseDomainXml> | undefined;
  let live: ReturnType<typeof parseDomainXml> | undefined;
  const parsedPersistent = () => {
    if (!('persistentXml' in snapshot)) throw new Error(`the persistent definition of ${snapshot.name} was not read (a look after acting reads the state and live XML only)`);
    return (persistent ??= parseOnce(snapshot.name, 'persistent', snapshot.persistentXml));
  };
  const parsedLive = () => (live ??= parseOnce(snapshot.name, 'live', snapshot.liveXml!));
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
