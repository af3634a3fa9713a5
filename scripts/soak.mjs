#!/usr/bin/env node
// Long runs of the fault tiers, beyond what CI runs:
//   npm run soak:crash -- --rounds 20 --vms 300 [--seed N]
//   npm run soak:fuzz -- --cases 200000 [--controller-cases 3000] [--seed N]
// Each runs the tier's own test file with its knobs set through the environment.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const tier = process.argv[2];
const { values } = parseArgs({
  args: process.argv.slice(3),
  options: { rounds: { type: 'string' }, vms: { type: 'string' }, seed: { type: 'string' }, cases: { type: 'string' }, 'controller-cases': { type: 'string' } },
});
const env = { ...process.env };
const set = (name, value) => { if (value !== undefined) env[name] = value; };
let file;
if (tier === 'crash') {
  file = 'test/faults/crash.test.ts';
  set('WIMAXVM_CRASH_ROUNDS', values.rounds);
  set('WIMAXVM_CRASH_VMS', values.vms);
  set('WIMAXVM_CRASH_SEED', values.seed);
} else if (tier === 'fuzz') {
  file = 'test/faults/fuzz.test.ts';
  set('WIMAXVM_FUZZ_CASES', values.cases);
  set('WIMAXVM_FUZZ_CONTROLLER_CASES', values['controller-cases']);
  set('WIMAXVM_FUZZ_SEED', values.seed);
} else {
  console.error('usage: soak.mjs crash|fuzz [--rounds N --vms N | --cases N --controller-cases N] [--seed N]');
  process.exit(2);
}
const result = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', file, '--testTimeout', '0', '--hookTimeout', '0'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
