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

// --- Guest memory: the one rule, enforced by the CRD schema (crds/virtualmachines...yaml, both
// modes) and by the controller. A string needs a unit of at least a MiB and a number of at least
// one of it ("0", "0.5" and "1k" are refused); a bare integer counts bytes.

/** The CRD's spec.memory pattern for strings (a test keeps the two identical). */
export const MEMORY_PATTERN = '^[1-9][0-9]*(\\.[0-9]+)?(Mi|Gi|Ti|G|T)$';
const MEMORY_RE = new RegExp(MEMORY_PATTERN);
/** The CRD's spec.memory minimum and maximum for integers (bytes). */
export const MIN_MEMORY_BYTES = 2 ** 20;
export const MAX_MEMORY_BYTES = 2 ** 40;

/** Guest memory in bytes, or an error that says what the rule is. */
export function parseMemory(input: string | number): number {
  const shown = JSON.stringify(input);
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < MIN_MEMORY_BYTES) throw new Error(`memory ${shown}: a number of bytes must be a whole number of at least ${MIN_MEMORY_BYTES} (1Mi)`);
  } else if (!MEMORY_RE.test(input)) {
    throw new Error(`memory ${shown}: expected a quantity of at least 1 of Mi, Gi, Ti, G or T (e.g. 256Mi, 1.5Gi)`);
  }
  const bytes = parseQuantity(input);
  if (bytes > MAX_MEMORY_BYTES) throw new Error(`memory ${shown} is more than the 1Ti wimaxvm accepts`);
  return bytes;
}
