// `npm test` is the one test command: make sure the daemons the system tests use are up
// (idempotent; .ci/run has usually started them already).
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  if (process.getuid?.() !== 0) return; // system tests say why they cannot run
  execFileSync('bash', ['scripts/start-daemons.sh'], { stdio: 'inherit' });
}
