// A seeded generator of hostile manifest files: mutations of valid documents and the classes
// issue 15 names (alias bombs, huge and deep files, NUL bytes, wrong types, XML, `../`, shell
// metacharacters in every string field, MACs and IPs at the edges). Case `i` of seed `s` is
// the same text on every machine: `caseText(s, i)` replays it alone.
import { stringify } from 'yaml';

/** mulberry32: small, fast, good enough to spread cases; deterministic per seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

const HOSTILE_STRINGS = [
  '', ' ', '../../etc/passwd', '../', '/etc/shadow', 'a/../../b', '..', '.',
  '<domain type="kvm"><name>evil</name></domain>', ']]><evil/>', '&lt;x&gt;', '&amp;', "'\"<>&",
  '$(touch /tmp/pwned)', '`id`', '; rm -rf /', '| cat /etc/passwd', '&& reboot', '${IFS}', '\\', '\n', '\r\n', '\t',
  'a\u0000b', '\u0000', '\u202e', '\ud83d\ude00', '\ufeff', 'Ω'.repeat(300), 'x'.repeat(64), 'x'.repeat(254), 'x'.repeat(4097),
  'null', '~', 'true', 'NaN', '.inf', '0x1F', '1e999', '-0', '0o17', 'yes', 'on',
  '%00', '%2e%2e%2f', '*alias', '&anchor', '!!binary', '{}', '[]', '#', ': ',
];
const HOSTILE_SCALARS: readonly unknown[] = [
  ...HOSTILE_STRINGS, 0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER, 99999999999999999999999,
  true, false, null, [], {}, [1, 2], { a: 1 }, [[[[]]]],
];
const MACS = [
  '52:54:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '00:00:00:00:00:00', '52:54:00:ab:cd:ef', '52:54:00:AB:CD:EF',
  '52-54-00-00-00-01', '5254.0000.0001', '52:54:00:00:00', '52:54:00:00:00:00:00', '52:54:00:0g:00:00', ' 52:54:00:00:00:01', '52:54:00:00:00:01\n',
  'fe:ff:ff:ff:ff:ff', '02:00:00:00:00:00',
];
const IPS = [
  '0.0.0.0', '255.255.255.255', '127.0.0.1', '192.168.0.256', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.02.03.04', '::1', 'fe80::1%eth0',
  '10.0.0.1/24', '-1.0.0.0', '1.1.1.1 ', '224.0.0.1', '169.254.0.1',
];
const QUANTITIES = ['64Mi', '1Mi', '0Mi', '1Ti', '1024Ti', '99999999999999999999999Mi', '1.5Gi', '64M', '64', '-64Mi', '64mi', '64 Mi', '1e3Mi', '0.0001Gi'];
const RATES = ['1kbit', '0bit', '10Mbit', '1.5Gbit', '999999999999Gbit', 'fast', '-1kbit', '10 Mbit'];
const STRATEGIES = ['Always', 'Halted', 'Manual', 'RerunOnFailure', 'Once', 'always', 'Sometimes', ''];

/** A valid VirtualMachine (most of the time: the pools hold edge values). */
export function validVm(r: Rand, name: string): Record<string, unknown> {
  const spec: Record<string, unknown> = { runStrategy: pick(r, STRATEGIES.slice(0, 5)), memory: pick(r, ['64Mi', '128Mi', '1Gi']), vcpus: int(r, 1, 4) };
  if (r() < 0.5) spec.disks = [{ image: pick(r, ['debian-12.qcow2', 'base/alpine.qcow2', 'x_y-z.img']) }];
  if (r() < 0.6) {
    const network: Record<string, unknown> = {};
    if (r() < 0.5) network.mac = `52:54:00:${[0, 0, 0].map(() => int(r, 0, 255).toString(16).padStart(2, '0')).join(':')}`;
    if (r() < 0.5) network.ip = `10.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`;
    if (r() < 0.3) network.vlan = int(r, 2, 4094);
    if (r() < 0.3) network.shaping = { downlink: pick(r, RATES.slice(0, 4)), uplink: pick(r, RATES.slice(0, 4)) };
    spec.network = network;
  }
  const metadata: Record<string, unknown> = { name };
  if (r() < 0.3) metadata.namespace = pick(r, ['default', 'lab', 'slice-a']);
  if (r() < 0.3) metadata.labels = { team: 'wimax', [pick(r, ['app', 'tier'])]: pick(r, ['a', 'b-c']) };
  return { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata, spec };
}

function validClient(r: Rand, name: string, vmName: string): Record<string, unknown> {
  const mac = `00:11:22:${[0, 0, 0].map(() => int(r, 0, 255).toString(16).padStart(2, '0')).join(':')}`;
  return { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'WimaxClient', metadata: { name }, spec: { mac, vmName, ...(r() < 0.4 ? { shaping: { downlink: '2Mbit', uplink: '1Mbit' } } : {}) } };
}

/** Every path to a scalar in a value, for field-targeted mutations. */
function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [at, ...value.flatMap((v, i) => paths(v, [...at, i]))];
  if (value && typeof value === 'object') return [at, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k]))];
  return [at];
}

function setIn(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  if (!path.length) return;
  let node = root as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  // A copy: the hostile values ([], {}, [1, 2]...) are shared constants, and a later mutation
  // through this path must not reach into them (seed 1539336194 made an array hold itself).
  node[path[path.length - 1]!] = structuredClone(value);
}

/** A hostile value for a field: by what the field holds, else anything. */
function hostileFor(r: Rand, path: (string | number)[]): unknown {
  const last = String(path[path.length - 1]);
  if (r() < 0.6) {
    if (last === 'mac') return pick(r, MACS);
    if (last === 'ip') return pick(r, IPS);
    if (last === 'memory') return pick(r, QUANTITIES);
    if (last === 'downlink' || last === 'uplink') return pick(r, RATES);
    if (last === 'runStrategy') return pick(r, STRATEGIES);
    if (last === 'vlan' || last === 'vcpus') return pick(r, [0, 1, 2, 4094, 4095, -1, 65536, 2 ** 31, 1.5, '7', null]);
  }
  if (r() < 0.5) return pick(r, HOSTILE_STRINGS);
  return pick(r, HOSTILE_SCALARS);
}

const SHELL = ['$(id)', '`id`', ';id', '|id', '&&id', '>x', '<x', '*', '?', '~root', '!$', "'", '"'];

/** Every string field of a document carrying shell metacharacters (or XML, or `../`). */
function poisonStrings(doc: unknown, r: Rand): unknown {
  if (typeof doc === 'string') {
    const poison = pick(r, [...SHELL, '../', '<x/>', ']]>', '&amp;', '\u0000']);
    return r() < 0.5 ? `${doc}${poison}` : `${poison}${doc}`;
  }
  if (Array.isArray(doc)) return doc.map((d) => poisonStrings(d, r));
  if (doc && typeof doc === 'object') return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k === 'apiVersion' || k === 'kind' ? k : k, k === 'apiVersion' || k === 'kind' ? v : poisonStrings(v, r)]));
  return doc;
}

function text(docs: unknown[]): string {
  return docs.map((d) => stringify(d)).join('---\n');
}

/** Byte-level damage to a valid text. */
function damage(r: Rand, src: string): string {
  let s = src;
  const n = int(r, 1, 4);
  for (let k = 0; k < n; k++) {
    const at = int(r, 0, s.length);
    switch (int(r, 0, 9)) {
      case 0: s = s.slice(0, at) + s.slice(at + int(r, 1, 8)); break; // delete
      case 1: s = s.slice(0, at) + pick(r, [':', '-', '[', '{', '}', ']', '&a', '*a', '!', '\0', '\t', '"', "'", '#', '\n', '|', '>', '? ', '%', '@', '`', '---\n', '...\n', '  ', '\ufeff']) + s.slice(at); break;
      case 2: s = s.slice(0, at); break; // truncated (a half-written save)
      case 3: { const lines = s.split('\n'); const i = int(r, 0, lines.length - 1); lines.splice(i, 0, lines[i]!); s = lines.join('\n'); break; } // duplicated line
      case 4: { const lines = s.split('\n'); lines.splice(int(r, 0, lines.length - 1), 1); s = lines.join('\n'); break; }
      case 5: { const lines = s.split('\n'); const i = int(r, 0, lines.length - 1), j = int(r, 0, lines.length - 1); [lines[i], lines[j]] = [lines[j]!, lines[i]!]; s = lines.join('\n'); break; }
      case 6: { const lines = s.split('\n'); const i = int(r, 0, lines.length - 1); lines[i] = (r() < 0.5 ? ' ' : '') + lines[i]!.replace(/^ /, ''); s = lines.join('\n'); break; } // indentation
      case 7: s = s.replace(/: ([^\n]*)/, () => `: ${JSON.stringify(pick(r, HOSTILE_STRINGS))}`); break;
      case 8: s = s + '\n' + s; break; // the same documents twice
      default: s = s.slice(0, at) + String.fromCharCode(int(r, 0, 0xffff)) + s.slice(at); break;
    }
  }
  return s;
}

// The hostile classes, each a small text that would take a naive parser down.
function aliasBomb(r: Rand, name: string): string {
  switch (int(r, 0, 4)) {
    case 0: { // billion laughs
      const levels = int(r, 5, 12);
      const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < levels; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
      return `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\n  labels:\n${lines.map((l) => `    ${l}`).join('\n')}\nspec: {runStrategy: Always}\n`;
    }
    case 1: { // issue 15 defect 1: many label keys aliasing a big list
      const keys = int(r, 10, 150);
      return `x: &big [${Array(int(r, 100, 5000)).fill('0').join(',')}]\n---\napiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\n  labels:\n${Array.from({ length: keys }, (_, i) => `    k${i}: *big`).join('\n')}\nspec: {runStrategy: Always}\n`;
    }
    case 2: return `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: *missing\n`; // unresolved alias
    case 3: return `a: &a [*a]\n`; // cycle
    default: return `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata: &m {name: ${name}, labels: &l {a: b}}\nspec: &s {runStrategy: Always, memory: 64Mi}\n---\nkind: VirtualMachine\napiVersion: wimaxvm.io/v1alpha1\nmetadata: *m\nspec: *s\n`;
  }
}

function deep(r: Rand, name: string, maxDepth: number): string {
  const depth = Math.min(maxDepth, pick(r, [100, 1000, 5000, 20000]));
  switch (int(r, 0, 2)) {
    case 0: return `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {runStrategy: Always, disks: ${'['.repeat(depth)}${']'.repeat(depth)}}\n`;
    case 1: return `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}, labels: ${'{a: '.repeat(depth)}b${'}'.repeat(depth)}}\nspec: {runStrategy: Always}\n`;
    default: return `${'- '.repeat(Math.min(depth, 2000))}x\n`;
  }
}

function huge(r: Rand, name: string, maxBytes: number): string {
  const size = Math.min(maxBytes, pick(r, [64 * 1024, 512 * 1024, 3 * 1024 * 1024, 4 * 1024 * 1024 + 1, 6 * 1024 * 1024]));
  switch (int(r, 0, 2)) {
    case 0: return `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\nspec:\n  runStrategy: Always\n  disks: [${'{image: a.qcow2}, '.repeat(Math.floor(size / 18))}\n`; // unclosed
    case 1: return `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\n  annotations:\n    big: "${'x'.repeat(size)}"\nspec: {runStrategy: Always}\n`;
    default: { // many documents, padded to the size (a few hundred VMs: valid ones are defined for real)
      const count = 200;
      const pad = 'p'.repeat(Math.max(0, Math.floor(size / count) - 150));
      return Array.from({ length: count }, (_, i) => stringify({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: `${name}-${i}`, annotations: { pad } }, spec: { runStrategy: 'Halted' } })).join('---\n');
    }
  }
}

export const CLASSES = ['mutated', 'field', 'poisoned', 'damaged', 'alias', 'deep', 'huge', 'nul', 'types', 'xml', 'valid'] as const;
export type CaseClass = (typeof CLASSES)[number];

export interface FuzzCase {
  index: number;
  kind: CaseClass;
  text: string;
}

/** Case `index` of `seed`. `maxBytes` and `maxDepth` bound the huge and deep classes (in-process runs keep them small). */
export function caseText(seed: number, index: number, opts: { prefix?: string; maxBytes?: number; maxDepth?: number } = {}): FuzzCase {
  const r = rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const prefix = opts.prefix ?? 'fz';
  const name = `${prefix}-${index}`;
  // Weights: mostly mutations of valid documents; every hostile class every run.
  const roll = r();
  const kind: CaseClass = roll < 0.2 ? 'mutated' : roll < 0.4 ? 'field' : roll < 0.5 ? 'poisoned' : roll < 0.7 ? 'damaged' : roll < 0.76 ? 'alias'
    : roll < 0.8 ? 'deep' : roll < 0.81 ? 'huge' : roll < 0.85 ? 'nul' : roll < 0.93 ? 'types' : roll < 0.97 ? 'xml' : 'valid';
  const docs = (): Record<string, unknown>[] => {
    const n = int(r, 1, 3);
    return Array.from({ length: n }, (_, i) => (r() < 0.8 ? validVm(r, `${name}-${i}`) : validClient(r, `${name}-c${i}`, `${name}-0`)));
  };
  switch (kind) {
    case 'valid': return { index, kind, text: text(docs()) };
    case 'mutated': return { index, kind, text: damage(r, text(docs())) };
    case 'field': {
      const all = docs();
      for (let k = int(r, 1, 3); k > 0; k--) {
        const doc = pick(r, all);
        const p = pick(r, paths(doc).filter((x) => x.length > 0));
        if (r() < 0.15) {
          // Remove the field instead.
          const parent = p.slice(0, -1).reduce<Record<string | number, unknown>>((n, s) => n[s] as Record<string | number, unknown>, doc);
          if (parent && typeof parent === 'object') delete parent[p[p.length - 1]!];
        } else setIn(doc, p, hostileFor(r, p));
      }
      return { index, kind, text: text(all) };
    }
    case 'poisoned': return { index, kind, text: text(docs().map((d) => poisonStrings(d, r))) };
    case 'damaged': return { index, kind, text: damage(r, damage(r, text(docs()))) };
    case 'alias': return { index, kind, text: aliasBomb(r, name) };
    case 'deep': return { index, kind, text: deep(r, name, opts.maxDepth ?? 20000) };
    case 'huge': return { index, kind, text: huge(r, name, opts.maxBytes ?? 6 * 1024 * 1024) };
    case 'nul': {
      const s = text(docs());
      const at = int(r, 0, s.length);
      return { index, kind, text: s.slice(0, at) + '\0'.repeat(int(r, 1, 3)) + s.slice(at) };
    }
    case 'types': {
      const all = docs();
      const doc = pick(r, all);
      const p = pick(r, paths(doc));
      if (p.length === 0) return { index, kind, text: stringify(pick(r, HOSTILE_SCALARS)) };
      setIn(doc, p, pick(r, HOSTILE_SCALARS.filter((v) => typeof v !== 'string')));
      return { index, kind, text: text(all) };
    }
    case 'xml': {
      const all = docs();
      const doc = pick(r, all);
      const xml = pick(r, ['<domain/>', '</name><name>evil', ']]><x>', '<!ENTITY x SYSTEM "file:///etc/passwd">', '&x;', '<?xml version="1.0"?>']);
      const p = pick(r, paths(doc).filter((x) => x.length > 0));
      setIn(doc, p, `${xml}`);
      return { index, kind, text: text(all) };
    }
  }
}
