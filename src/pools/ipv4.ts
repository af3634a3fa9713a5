// IPv4 addresses as 32-bit numbers, CIDR blocks and address ranges. Pure; every parser throws an
// Error whose message names the bad text, so callers can prefix where it came from.

export interface Cidr {
  /** The network address (host bits zero). */
  network: number;
  prefixLength: number;
}

export interface AddressRange {
  first: number;
  last: number;
}

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number {
  const m = DOTTED.exec(text.trim());
  // Leading zeros are refused: some tools read 010 as octal (8), others as decimal (10).
  if (!m || m.slice(1).some((o) => Number(o) > 255 || (o.length > 1 && o.startsWith('0')))) {
    throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  }
  return m.slice(1).reduce((n, o) => n * 256 + Number(o), 0);
}

export function isIpv4(text: string): boolean {
  try {
    parseIpv4(text);
    return true;
  } catch {
    return false;
  }
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The netmask of a prefix length, as a number (24 → 255.255.255.0). */
export function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (2 ** 32 - 2 ** (32 - prefixLength));
}

/** 255.255.255.0 → 24; a mask whose ones are not contiguous is refused. */
export function prefixLengthOfMask(text: string): number {
  const mask = parseIpv4(text);
  for (let length = 0; length <= 32; length++) if (maskOf(length) === mask) return length;
  throw new Error(`not a netmask (its one bits are not contiguous): ${JSON.stringify(text)}`);
}

/** "192.168.0.0/24"; host bits set ("192.168.0.7/24") are refused, as Kubernetes refuses them. */
export function parseCidr(text: string): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  const prefixLength = m ? Number(m[2]) : NaN;
  if (!m || prefixLength > 32) throw new Error(`not an IPv4 CIDR block (like 192.168.0.0/24): ${JSON.stringify(text)}`);
  const address = parseIpv4(m[1]!);
  const network = networkOf(address, prefixLength);
  if (network !== address) {
    throw new Error(`${JSON.stringify(text)} has host bits set: the block is ${formatCidr({ network, prefixLength })}`);
  }
  return { network, prefixLength };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefixLength}`;
}

export function networkOf(address: number, prefixLength: number): number {
  return address - (address % 2 ** (32 - prefixLength));
}

export function broadcastOf(cidr: Cidr): number {
  return cidr.network + 2 ** (32 - cidr.prefixLength) - 1;
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return address >= cidr.network && address <= broadcastOf(cidr);
}

/** "A" or "A-B" (A ≤ B). */
export function parseRange(text: string): AddressRange {
  const parts = text.split('-');
  if (parts.length > 2) throw new Error(`not an address or range (A or A-B): ${JSON.stringify(text)}`);
  const first = parseIpv4(parts[0]!);
  const last = parts.length === 2 ? parseIpv4(parts[1]!) : first;
  if (last < first) throw new Error(`range ${JSON.stringify(text)} ends before it starts`);
  return { first, last };
}

export function formatRange(range: AddressRange): string {
  return range.first === range.last ? formatIpv4(range.first) : `${formatIpv4(range.first)}-${formatIpv4(range.last)}`;
}
