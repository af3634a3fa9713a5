// One run of one figure, in a process of its own (the runner starts one per run): prints its
// rows as one JSON line after ROWS_MARK; anything else on stdout is progress.
import { FIGURES } from './figures/index.js';

import { ROWS_MARK } from './lib/figure.js';

const [name, ...flags] = process.argv.slice(2);
const figure = FIGURES.find((f) => f.name === name);
if (!figure) {
  console.error(`no figure ${name}; figures: ${FIGURES.map((f) => f.name).join(', ')}`);
  process.exit(2);
}
const rows = await figure.run({ quick: flags.includes('--quick') });
console.log(ROWS_MARK + JSON.stringify(rows));
// Handles left by libraries (libvirt's event loop) must not keep a finished run alive.
process.exit(0);
