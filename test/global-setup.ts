// `npm test` is the one test command: make sure the daemons the system tests use are up
// (idempotent; .ci/run has usually started them already), and that dist/ is current for the
// tests that run the built CLI (bin/wimaxvm.js) or compiled modules in a second process.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** npm run build's two steps: tsc, then the CLI's bundle (dist/cli.cjs), which bin/wimaxvm.js runs. */
function buildIfStale(): void {
  const sources = Math.max(newestMtime('src'), statSync('tsconfig.json').mtimeMs, statSync('scripts/bundle-cli.mjs').mtimeMs);
  const built = ['dist/src/cli/main.js', 'dist/cli.cjs'].map((path) => (existsSync(path) ? statSync(path).mtimeMs : -1));
  if (Math.min(...built) >= sources) return;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/bundle-cli.mjs'], { stdio: 'inherit' });
}

export default function setup(): void {
  buildIfStale();
  if (process.getuid?.() !== 0) return; // system tests say why they cannot run
  execFileSync('bash', ['scripts/start-daemons.sh'], { stdio: 'inherit' });
}
