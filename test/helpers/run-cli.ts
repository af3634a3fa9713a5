// The CLI's main() in this process, with its stdout and stderr captured.
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/**
 * main() left running (a drain that waits) while the test acts: its output so far, and its end.
 * Only one CLI run at a time: its stdout and stderr are captured until it ends.
 */
export function cliLive(...args: string[]): { out(): string; err(): string; done: Promise<{ code: number; out: string; err: string }> } {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const done = main(args).then((code) => ({ code, out, err })).finally(() => {
    o.mockRestore();
    e.mockRestore();
  });
  return { out: () => out, err: () => err, done };
}
