// Bit rates as tc writes them ("20Mbit", "512kbit", "1.5Gbit") → whole kbit/s.

export const RATE_PATTERN = '^[0-9]+(\\.[0-9]+)?([kKmMgG])?bit$';
const RATE_RE = new RegExp(RATE_PATTERN);
const FACTORS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

export interface Shaping {
  downlink?: string;
  uplink?: string;
}

export function parseRateKbps(rate: string): number {
  if (!RATE_RE.test(rate)) throw new Error(`invalid rate ${JSON.stringify(rate)}: expected e.g. 512kbit, 20Mbit, 1Gbit`);
  const m = /^([0-9.]+)([kKmMgG]?)bit$/.exec(rate)!;
  const bits = Number(m[1]) * FACTORS[m[2]!.toLowerCase()]!;
  const kbps = Math.ceil(Number((bits / 1000).toPrecision(15)));
  if (kbps < 8) throw new Error(`rate ${rate} is below the 8kbit wimaxvm can enforce`);
  return kbps;
}

/** Both directions in kbit/s; absent where not declared. */
export function shapingKbps(shaping: Shaping | undefined): { downlinkKbps?: number; uplinkKbps?: number } {
  return {
    ...(shaping?.downlink ? { downlinkKbps: parseRateKbps(shaping.downlink) } : {}),
    ...(shaping?.uplink ? { uplinkKbps: parseRateKbps(shaping.uplink) } : {}),
  };
}
