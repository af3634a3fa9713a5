// The last step of `npm run build`: bundles the compiled CLI's start-up path (dist/src/cli/main.js
// and what its commands import) into one CommonJS file, dist/cli.cjs, which bin/wimaxvm.js loads.
// One file read by the CommonJS loader instead of some thirty ES modules each resolved, read and
// linked by the ESM loader: `wimaxvm --help` and `wimaxvm get` start faster (see bench/figures/
// cli-startup.ts). The commands outside main.ts (other-commands.ts) and libvirt's and Kubernetes'
// adapters stay where tsc put them and are imported from there when used. npm packages are not
// bundled. Without esbuild (a dependency of the dev tools, like tsc) the bundle is skipped and
// bin/wimaxvm.js runs dist/src/cli/main.js.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const entry = join(dist, 'src', 'cli', 'main.js');
const outfile = join(dist, 'cli.cjs');

/** Modules loaded from dist/src/ as they are, not bundled: the commands off the start-up path and the native bindings' adapters. */
const UNBUNDLED = [/\/src\/cli\/other-commands\.js$/, /\/src\/adapters\/libvirt\//, /\/src\/adapters\/kube-[^/]*\.js$/, /\/src\/modes\//];

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  rmSync(outfile, { force: true }); // never leave an older bundle to run instead of the new dist/
  console.error('bundle-cli: esbuild is not installed; bin/wimaxvm.js will run dist/src/cli/main.js (slower start-up)');
  process.exit(0);
}
if (!existsSync(entry)) throw new Error(`bundle-cli: ${entry} is missing; run tsc first`);

const unbundled = {
  name: 'unbundled',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      if (!UNBUNDLED.some((pattern) => pattern.test(path))) return undefined;
      return { path: './' + relative(dist, path), external: true }; // relative to dist/cli.cjs
    });
  },
};

await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [unbundled],
  // package-root.ts finds the package from its own URL; in the bundle that is dist/cli.cjs.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "'use strict';\nconst __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
