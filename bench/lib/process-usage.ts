// What a child process costs, read from /proc (Linux): CPU time, resident and peak memory.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Clock ticks per second of /proc/PID/stat (USER_HZ: 100 on Linux). */
const TICKS = 100;

/** User + system CPU seconds of a live process. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name may hold spaces
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14 and 15)
}

/** VmRSS and VmHWM (peak) of a live process, in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Runs a command to its end: wall time (ms, from spawn to exit) and peak RSS (MiB, GNU time's %M). */
export async function timeCommand(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ ms: number; peakMiB: number; stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-bench-time-'));
  const out = join(dir, 'rusage');
  try {
    const t0 = performance.now();
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn('/usr/bin/time', ['-f', '%M', '-o', out, file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      let err = '';
      child.stdout.on('data', (c) => (text += String(c)));
      child.stderr.on('data', (c) => (err += String(c)));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${err.trim().slice(-500)}`))));
    });
    const ms = performance.now() - t0;
    return { ms, peakMiB: Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024, stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
