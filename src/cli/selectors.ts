// Label selectors in kubectl's syntax (-l/--selector): `a=b` (or `a==b`), `a!=b`, `a`, `!a`,
// `a in (x,y)`, `a notin (x)`, `a>1`, `a<9`; a comma means AND. As in Kubernetes, `a!=b` and
// `a notin (...)` also match objects without the label. Pure.
import { UsageError } from './usage.js';

type Operator = 'exists' | 'absent' | 'in' | 'notin' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

export type Selector = Requirement[];

/** A label name, optionally with a DNS-subdomain prefix (example.com/name), as Kubernetes checks it. */
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const OPERATORS = ['==', '!=', '=', '!', '(', ')', ',', '<', '>'];

/** Words and operators; whitespace separates and is dropped. */
function tokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i]!)) { i++; continue; }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) { out.push(op); i += op.length; continue; }
    let j = i;
    while (j < text.length && !/\s/.test(text[j]!) && !OPERATORS.some((o) => text.startsWith(o, j))) j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

function checkKey(key: string | undefined): string {
  if (key === undefined || OPERATORS.includes(key)) throw new Error(`expected a label key${key ? `, got ${JSON.stringify(key)}` : ''}`);
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if ((prefix !== undefined && !PREFIX.test(prefix)) || !NAME.test(name)) throw new Error(`invalid label key ${JSON.stringify(key)}`);
  return key;
}

function checkValue(value: string): string {
  if (!VALUE.test(value)) throw new Error(`invalid label value ${JSON.stringify(value)}`);
  return value;
}

/** Parses a selector; a UsageError (exit 2) that quotes it and says what is wrong. */
export function parseSelector(text: string): Selector {
  try {
    return parseTokens(tokens(text));
  } catch (err) {
    throw new UsageError(`-l: invalid selector ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
}

function parseTokens(t: string[]): Selector {
  const selector: Selector = [];
  let i = 0;
  const peek = () => t[i];
  const next = () => t[i++];
  const isEnd = () => i >= t.length || peek() === ',';
  while (i < t.length) {
    if (peek() === '!') {
      next();
      selector.push({ key: checkKey(next()), operator: 'absent', values: [] });
    } else {
      const key = checkKey(next());
      const op = isEnd() ? undefined : next();
      if (op === undefined) selector.push({ key, operator: 'exists', values: [] });
      else if (op === '=' || op === '==' || op === '!=') {
        const value = isEnd() ? '' : next()!;
        if (OPERATORS.includes(value)) throw new Error(`expected a value after ${key}${op}, got ${JSON.stringify(value)}`);
        selector.push({ key, operator: op === '!=' ? 'notin' : 'in', values: [checkValue(value)] });
      } else if (op === 'in' || op === 'notin') {
        if (next() !== '(') throw new Error(`expected ( after ${key} ${op}`);
        const values: string[] = [];
        for (;;) {
          const value = peek() === ',' || peek() === ')' ? '' : next();
          if (value === undefined) throw new Error(`missing ) after ${key} ${op} (`);
          values.push(checkValue(value));
          const sep = next();
          if (sep === ')') break;
          if (sep === undefined) throw new Error(`missing ) after ${key} ${op} (`);
          if (sep !== ',') throw new Error(`expected , or ) in ${key} ${op} (...), got ${JSON.stringify(sep)}`);
        }
        selector.push({ key, operator: op, values });
      } else if (op === '<' || op === '>') {
        const value = next();
        if (value === undefined || !/^-?\d+$/.test(value)) throw new Error(`${key}${op} needs a whole number`);
        selector.push({ key, operator: op === '>' ? 'gt' : 'lt', values: [value] });
      } else {
        throw new Error(`unexpected ${JSON.stringify(op)} after ${key}`);
      }
    }
    if (i < t.length) {
      if (next() !== ',') throw new Error(`expected , between requirements, got ${JSON.stringify(t[i - 1])}`);
      if (i >= t.length) throw new Error('a requirement is missing after the last ,');
    }
  }
  return selector;
}

export function matches(selector: Selector, labels: Record<string, string> | undefined): boolean {
  return selector.every(({ key, operator, values }) => {
    const value = labels?.[key];
    switch (operator) {
      case 'exists': return value !== undefined;
      case 'absent': return value === undefined;
      case 'in': return value !== undefined && values.includes(value);
      case 'notin': return value === undefined || !values.includes(value);
      case 'gt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) > Number(values[0]);
      case 'lt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) < Number(values[0]);
    }
  });
}
