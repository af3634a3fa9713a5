// `wimaxvm pool import FILE --name NAME`: a Nimbus network pool file becomes an IPPool
// declaration. File mode writes it into the watched directory (its own file) and says what it
// did, as `kubectl create` does; -o yaml prints it instead (for `kubectl apply -f -`).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { IPPOOL_KIND, type IPPoolSpec } from '../api/ip-pool.js';
import { API_VERSION, DEFAULT_NAMESPACE } from '../api/meta.js';
import { FileDesiredStateWriter } from '../adapters/file-desired-state-writer.js';
import { compilePool } from '../pools/pool-addresses.js';
import { parseNimbusPoolFile, PoolFileError, poolSpecFromNimbus } from '../pools/nimbus-pool-file.js';
import { POOL_OPTIONS } from './command-options.js';
import { checkLogLevel, dirToEdit } from './common-flags.js';
import { UsageError, usage } from './usage.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export async function pool(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: POOL_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return (process.stdout.write(usage('pool') + '\n'), 0);
  checkLogLevel(values['log-level']);
  const [verb, file, ...rest] = positionals;
  if (verb !== 'import') throw new UsageError(`pool: unknown subcommand ${JSON.stringify(verb ?? '')}; known: import`);
  if (!file || rest.length) throw new UsageError('pool import takes one FILE (a Nimbus network pool file)');
  const output = values.output;
  if (output !== undefined && output !== 'yaml') throw new UsageError(`-o: expected yaml, got ${JSON.stringify(output)}`);
  // Nimbus names a pool by its file; a name that is not a Kubernetes name must be given.
  const name = values.name ?? basename(file).toLowerCase();
  if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
    throw new UsageError(`--name ${JSON.stringify(name)}: a pool's name is lower case letters, digits, '-' and '.' (${values.name ? 'give another' : 'the file name is not one; give --name'})`);
  }
  const namespace = values.namespace ?? DEFAULT_NAMESPACE;
  // Checked before anything is written: a dir flag missing is a usage error even for a bad file.
  const dir = output === undefined ? dirToEdit('pool import', values.dir) : undefined;

  let spec: IPPoolSpec;
  try {
    spec = poolSpecFromNimbus(parseNimbusPoolFile(await readFile(file, 'utf8'), file), file);
  } catch (err) {
    if (!(err instanceof PoolFileError)) throw err;
    for (const problem of err.problems) process.stderr.write(`error: ${problem}\n`);
    return 1;
  }
  const compiled = compilePool(spec);
  if (!compiled.ok) {
    for (const e of compiled.errors) process.stderr.write(`error: ${file}: ${e.message}\n`);
    return 1;
  }
  const object = { apiVersion: API_VERSION, kind: IPPOOL_KIND, metadata: { name, namespace }, spec: spec as unknown as Record<string, unknown> };
  if (dir === undefined) {
    process.stdout.write((await import('yaml')).stringify(object));
    return 0;
  }
  await new FileDesiredStateWriter(dir).create(object);
  const { size } = compiled.pool;
  process.stdout.write(`ippool/${name} created (${spec.hosts!.length} entries of ${file}: ${spec.cidr}${spec.gateway ? `, gateway ${spec.gateway}` : ''}${spec.dns ? `, DNS ${spec.dns.join(',')}` : ''}; ${size} addresses offered)\n`);
  return 0;
}
