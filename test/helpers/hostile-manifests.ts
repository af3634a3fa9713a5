// Hostile manifest files, each as large as the limits let through (a document of a little under
// 512 KiB, or a file of a little under 4 MiB in documents):
// the cases the parser must turn into errors quickly and in bounded memory. Shared by
// bench/hostile-parse.ts (figures) and the tests (limits hold).
const FILE = 4 * 1024 * 1024 - 64;
const DOCUMENT = 512 * 1024 - 64;
const HEAD = 'apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: hostile\n';

/** `unit` repeated until `prefix` + the repeats fill the budget. */
function fill(prefix: string, unit: (i: number) => string, suffix = '', budget = DOCUMENT): string {
  const parts = [prefix];
  let size = prefix.length + suffix.length;
  for (let i = 0; ; i++) {
    const u = unit(i);
    if (size + u.length > budget) break;
    parts.push(u);
    size += u.length;
  }
  parts.push(suffix);
  return parts.join('');
}

const vmDoc = (i: number, spec = '  memory: 64Mi\n'): string =>
  `---\napiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: vm-${i}\nspec:\n${spec}`;

export function hostileManifests(): Record<string, () => string> {
  return {
    unclosedList: () => fill(`${HEAD}spec:\n  memory: 64Mi\n  disks: [`, () => '{image: a.qcow2}, '),
    deepFlowSequence: () => fill('x: ', () => '['),
    deepFlowMapping: () => fill('', () => '{a: '),
    deepBlockMapping: () => fill('', (i) => `${' '.repeat(i)}a:\n`),
    deepBlockSequence: () => fill('', (i) => `${' '.repeat(i)}-\n`),
    emptyDocuments: () => fill('', () => '---\n', '', FILE),
    validDocuments: () => Array.from({ length: 10_000 }, (_, i) => vmDoc(i)).join(''),
    invalidDocuments: () => fill('', (i) => vmDoc(i, '  vcpus: 0\n  cpus: 2\n'), '', FILE),
    longString: () => fill(`${HEAD}  annotations:\n    note: "`, () => 'x', '"\nspec: {}\n'),
    longPlainScalars: () => fill(`${HEAD}  annotations:\n`, (i) => `    k${i}: ${'y'.repeat(10_000)}\n`, 'spec: {}\n'),
    manyLabels: () => fill(`${HEAD}  labels:\n`, (i) => `    k${i}: v\n`, 'spec: {}\n'),
    flowMapping: () => fill(`${HEAD}  labels: {`, (i) => `k${i}: v, `, '}\nspec: {}\n'),
    manyUnknownFields: () => fill(`${HEAD}spec:\n`, (i) => `  f${i}: 1\n`),
    manyAliases: () => fill(`${HEAD}  labels: &l {a: b}\nspec:\n  disks: [`, () => '*l, ', ']\n'),
    manyAnchors: () => fill(`${HEAD}spec:\n  disks: [`, (i) => `&a${i} {image: a}, `, ']\n'),
    syntaxErrors: () => fill('', () => 'a: b: c\n'),
    nulBytes: () => fill(`${HEAD}spec:\n  memory: "`, () => '\0', '"\n'),
  };
}
