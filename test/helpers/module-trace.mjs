// Preloaded with `node --import` in a child process: appends every module the process loads to
// the file $MODULE_TRACE_OUT, one per line, as it loads: ES modules (a loader hook, which runs on
// its own thread), CommonJS modules (Module._load) and native addons (process.dlopen). Appended
// synchronously, so the list is complete however the process ends.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const out = process.env.MODULE_TRACE_OUT;
if (!out) throw new Error('module-trace.mjs: set MODULE_TRACE_OUT');
const record = (what) => appendFileSync(out, what + '\n');

register(new URL('./module-trace-hooks.mjs', import.meta.url), { data: { out } });

const load = Module._load;
Module._load = function traced(request, parent, isMain) {
  const exported = load.apply(this, arguments);
  try {
    record(Module._resolveFilename(request, parent, isMain));
  } catch {
    record(request);
  }
  return exported;
};

const dlopen = process.dlopen;
process.dlopen = function traced(module, filename, ...rest) {
  record(filename);
  return dlopen.call(this, module, filename, ...rest);
};
