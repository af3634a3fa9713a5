// Whether a libvirt URI names the same daemon from another host. `qemu:///system` and
// `test:///default` name whichever daemon (or in-process driver) the opener has: another node
// opening them would reach its own, never this one. A transport (`qemu+tls://`, `+ssh`, `+tcp`,
// `+unix` with its socket) or a host name (`qemu://host/system`, TLS by default) names one daemon.
export function reachableFromOtherHosts(uri: string): boolean {
  const match = /^([a-z0-9]+)(\+[a-z0-9]+)?:\/\/([^/?]*)/i.exec(uri.trim());
  if (!match) return false;
  const [, , transport, host] = match;
  return transport !== undefined || host !== '';
}
