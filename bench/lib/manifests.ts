// Declarations the figures write: one VirtualMachine or WimaxClient per file.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function vmYaml(name: string, memory = '64Mi'): string {
  return `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\nspec:\n  memory: ${memory}\n`;
}

export function stationYaml(name: string, mac: string, vmName: string): string {
  return `apiVersion: wimaxvm.io/v1alpha1\nkind: WimaxClient\nmetadata:\n  name: ${name}\nspec:\n  mac: "${mac}"\n  vmName: ${vmName}\n`;
}

/** A locally administered MAC from a number. */
export function macOf(i: number, prefix = '02:00:00'): string {
  return `${prefix}:${[16, 8, 0].map((s) => ((i >> s) & 255).toString(16).padStart(2, '0')).join(':')}`;
}

/** A fresh temporary base with vms/ holding `vm-0.yaml`… (VM names prefix-0…). */
export function vmDirectory(n: number, prefix = 'vm'): { base: string; dir: string; state: string } {
  const base = mkdtempSync(join(tmpdir(), 'wimaxvm-bench-'));
  const dir = join(base, 'vms');
  mkdirSync(dir);
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `${prefix}-${i}.yaml`), vmYaml(`${prefix}-${i}`));
  return { base, dir, state: join(base, 'state') };
}

/** A unique tag for names of this run (VMs, bridges): others run tests on the same daemons. */
export const RUN_TAG = Math.random().toString(36).slice(2, 6).padEnd(4, '0');
