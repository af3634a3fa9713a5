// Kubernetes resource quantities ("256Mi", "1G", "1.5Gi", "134217728") as whole bytes.

const SUFFIX_FACTORS: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

/** The same grammar the CRD schema's pattern enforces (no signs, no exponents, no milli). */
export const QUANTITY_PATTERN = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$';
const QUANTITY_RE = new RegExp(QUANTITY_PATTERN);

export function parseQuantity(input: string | number): number {
  const text = String(input).trim();
  if (!QUANTITY_RE.test(text)) {
    throw new Error(`invalid quantity ${JSON.stringify(String(input))}: expected a number with an optional suffix such as Mi or Gi`);
  }
  const match = /^([0-9]+)(?:\.([0-9]+))?([A-Za-z]*)$/.exec(text)!;
  // Exact arithmetic: floating point turns 2.007k into 2007.0000000000002 and then 2008 bytes.
  const fraction = match[2] ?? '';
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(match[1]! + fraction) * BigInt(SUFFIX_FACTORS[match[3]!]!);
  const bytes = (scaled + scale - 1n) / scale; // rounded up to a whole byte
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`quantity ${text} is too large`);
  return Number(bytes);
}

/** Bytes rounded up to whole KiB, the unit libvirt's <memory> uses here. */
export function quantityToKiB(input: string | number): number {
  return Math.ceil(parseQuantity(input) / 1024);
}
