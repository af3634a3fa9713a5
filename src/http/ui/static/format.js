// Rates as people read them: bits per second with a unit.
export function bitRate(bytesPerSecond) {
  const bits = bytesPerSecond * 8;
  if (bits < 1) return '0';
  const units = [['Gbit/s', 1e9], ['Mbit/s', 1e6], ['kbit/s', 1e3]];
  for (const [unit, size] of units) if (bits >= size) return `${(bits / size).toFixed(bits >= size * 100 ? 0 : 1)} ${unit}`;
  return `${Math.round(bits)} bit/s`;
}

/** "3s ago" style, from an ISO time. */
export function age(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
