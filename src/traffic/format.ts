// Traffic figures for people: rates in bits per second as tc writes them, totals in IEC bytes.

/** Bytes per second → "19.8Mbit", "512kbit", "0bit". */
export function formatRate(bytesPerSecond: number): string {
  const bits = bytesPerSecond * 8;
  for (const [unit, size] of [['Gbit', 1e9], ['Mbit', 1e6], ['kbit', 1e3]] as const) {
    if (bits >= size) return `${(bits / size).toFixed(bits >= 100 * size ? 0 : 1)}${unit}`;
  }
  return `${Math.round(bits)}bit`;
}

/** Bytes → "1.2GiB", "340KiB", "12B". */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size) return `${(bytes / size).toFixed(bytes >= 100 * size ? 0 : 1)}${unit}`;
  }
  return `${bytes}B`;
}
