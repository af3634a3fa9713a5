// The built CLI as a child process of the test, its output collected as it comes: tests that
// need a real process (signals, exit codes, start-up) start it here and stop only it, by its PID.
import { spawn, type ChildProcess } from 'node:child_process';

export type CliChild = ChildProcess & { out: () => string; err: () => string; done: Promise<number | null> };

export function spawnCli(args: string[], env: NodeJS.ProcessEnv): CliChild {
  const child = spawn(process.execPath, ['bin/wimaxvm.js', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += String(c)));
  child.stderr!.on('data', (c) => (err += String(c)));
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return Object.assign(child, { out: () => out, err: () => err, done });
}
