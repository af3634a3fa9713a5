// The XML of the network parts the port changes, from checked plain data.
import type { DhcpHost } from '../../ports/hypervisor.js';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function dhcpHostXml(host: DhcpHost): string {
  if (!MAC.test(host.mac)) throw new Error(`not a MAC address: ${JSON.stringify(host.mac)}`);
  const ip = IPV4.exec(host.ip);
  if (!ip || ip.slice(1).some((o) => Number(o) > 255)) throw new Error(`not an IPv4 address: ${JSON.stringify(host.ip)}`);
  const name = host.name !== undefined ? ` name='${escapeAttr(host.name)}'` : '';
  return `<host mac='${host.mac.toLowerCase()}'${name} ip='${host.ip}'/>`;
}
