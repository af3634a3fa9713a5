// Where a VNC client connects to a running guest, from its live domain XML: libvirt writes the
// port it chose (autoport) and the listen address there. Pure.
import { XMLParser } from 'fast-xml-parser';

export type VncTarget =
  | { kind: 'vnc'; host: string; port: number; display: number; url: string; loopback: boolean }
  | { kind: 'none'; why: string };

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseAttributeValue: false, isArray: (n) => n === 'graphics' || n === 'listen' });

const LOOPBACK = /^(127\.|::1$|localhost$)/;
const ANY = new Set(['0.0.0.0', '::', '']);

/**
 * `liveXml`: the running domain's XML. `hostOfUri`: the libvirt host (for a listen on every
 * address, and for remote URIs); undefined for a local URI.
 */
export function vncTarget(liveXml: string, hostOfUri?: string): VncTarget {
  const domain = (parser.parse(liveXml) as { domain?: { devices?: { graphics?: Record<string, any>[] } } }).domain;
  const vnc = (domain?.devices?.graphics ?? []).find((g) => g['@type'] === 'vnc');
  if (!vnc) return { kind: 'none', why: 'it has no VNC graphics device' };
  const port = Number(vnc['@port']);
  if (!(port > 0)) return { kind: 'none', why: vnc['@socket'] ? `its VNC display is a UNIX socket (${vnc['@socket']}) on the libvirt host` : 'libvirt has not given its VNC display a port' };
  const listen = (vnc.listen ?? []).find((l: Record<string, string>) => l['@address'] !== undefined)?.['@address'] ?? vnc['@listen'] ?? '';
  const host = ANY.has(listen) ? hostOfUri ?? 'localhost' : listen;
  const loopback = LOOPBACK.test(host);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { kind: 'vnc', host, port, display: port - 5900, url: `vnc://${urlHost}:${port}`, loopback };
}

/** The host part of a libvirt URI (qemu+ssh://root@node7/system → node7); undefined when local. */
export function hostOfUri(uri: string): string | undefined {
  const m = /^[a-z0-9+]+:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?]*)/i.exec(uri);
  const host = m?.[1];
  return host ? host.replace(/^\[|\]$/g, '') : undefined;
}
