// Reading Prometheus text exposition (/metrics) in tests and benchmarks: one sample per line.
export type Samples = Map<string, number>;

/** Prometheus text → value by full name with labels, e.g. wimaxvm_vms{status="Running"}. */
export function parseSamples(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The sum of a metric's series whose labels include `labels` (e.g. 'mutating="true"'). */
export function sum(samples: Samples, metric: string, labels = ''): number {
  let total = 0;
  for (const [key, v] of samples) if ((key === metric || key.startsWith(`${metric}{`)) && key.includes(labels)) total += v;
  return total;
}
