// What the fault tiers share: who was disturbed (domain id and uuid), what the controller did
// (its action log lines), and a barrier that proves every earlier file change was read.
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import { eventually, type Harness, vmYaml } from '../helpers/harness.js';

export interface DomainMark {
  uuid: string;
  id: number | undefined;
  state: string;
}

/** Domain id and uuid per VM name: an id changes on every restart, a uuid on every re-creation. */
export async function markDomains(h: Harness, names: string[]): Promise<Map<string, DomainMark | undefined>> {
  const marks = await Promise.all(names.map(async (n) => {
    const d = await h.domain(n);
    return [n, d && { uuid: d.uuid, id: d.id, state: d.state }] as const;
  }));
  return new Map(marks);
}

/** The VMs whose domain is gone, re-created or restarted since `before`. */
export async function disturbed(h: Harness, before: Map<string, DomainMark | undefined>): Promise<string[]> {
  const after = await markDomains(h, [...before.keys()]);
  return [...before].filter(([n, b]) => JSON.stringify(b) !== JSON.stringify(after.get(n))).map(([n, b]) => `${n}: ${JSON.stringify(b)} -> ${JSON.stringify(after.get(n))}`);
}

/** The controller's actions on libvirt logged since `from` (define, start, stop, undefine, delete). */
export function actions(h: Harness, from: number): string[] {
  return h.logs.slice(from).map((l) => (JSON.parse(l) as { msg: string }).msg)
    .filter((m) => /^(defined|updated|started|shutting down|destroyed|undefined|deleted) ?/.test(m));
}

let barriers = 0;

/**
 * Writes a new marker VM and waits until it runs: its file was touched after every change made
 * before, so each of those has been read (or is being read again) by then; then waits for the
 * source and the queue to drain.
 */
export async function barrier(h: Harness, prefix: string): Promise<void> {
  const name = `${prefix}-barrier-${++barriers}`;
  h.write(`${name}.yaml`, vmYaml({ name }));
  try {
    await eventually(() => h.status(name)?.printableStatus === 'Running', `${name} Running`, 60_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; its status: ${JSON.stringify(h.status(name))}; the controller's last log lines:\n${h.logs.slice(-15).join('\n').slice(0, 4000)}`);
  }
  await h.settle();
}

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=fault', '-c', 'user.email=fault@test', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, encoding: 'utf8' });
}

export function expectNoneDisturbed(list: string[]): void {
  expect(list, `VMs disturbed:\n${list.join('\n')}`).toEqual([]);
}
