// labelSelector and fieldSelector query parameters, parsed and matched as
// k8s.io/apimachinery/pkg/labels and pkg/fields do. A selector the real server would reject is
// a 400 here too, so a typo in a controller's selector fails its tests.
import { badRequest } from './status.js';

export type Predicate = (obj: { metadata: { labels?: Record<string, string> } }) => boolean;

const KEY = '(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?';
const VALUE = '(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?';
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const ORDER = new RegExp(`^(${KEY})\\s*(>|<)\\s*(\\d+)$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);
const VALUE_ONLY = new RegExp(`^${VALUE}$`);

type Labels = Record<string, string>;

/** Splits on the commas between requirements, not those inside `in (a,b)`. */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  parts.push(current.trim());
  return parts;
}

function parseRequirement(text: string): (labels: Labels) => boolean {
  let m = EQUALITY.exec(text);
  if (m) {
    const [, key, op, value] = m as unknown as [string, string, string, string];
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = SET.exec(text);
  if (m) {
    const [, key, op, list] = m as unknown as [string, string, string, string];
    const values = list.split(',').map((v) => v.trim());
    if (values.some((v) => !VALUE_ONLY.test(v))) throw badRequest(`unable to parse requirement: invalid label value in ${JSON.stringify(text)}`);
    return op === 'in' ? (l) => key in l && values.includes(l[key]!) : (l) => !(key in l) || !values.includes(l[key]!);
  }
  m = ORDER.exec(text);
  if (m) {
    const [, key, op, bound] = m as unknown as [string, string, string, string];
    const limit = Number(bound);
    // Like labels.Requirement.Matches: a label that is not an integer never matches.
    return (l) => key in l && /^-?\d+$/.test(l[key]!) && (op === '>' ? Number(l[key]) > limit : Number(l[key]) < limit);
  }
  m = EXISTS.exec(text);
  if (m) {
    const [, not, key] = m as unknown as [string, string, string];
    return not ? (l) => !(key in l) : (l) => key in l;
  }
  throw badRequest(`unable to parse requirement: ${JSON.stringify(text)} is not a valid label selector requirement`);
}

export function parseLabelSelector(selector: string | undefined): Predicate {
  if (!selector?.trim()) return () => true;
  const requirements = splitRequirements(selector).map(parseRequirement);
  return (obj) => requirements.every((r) => r(obj.metadata.labels ?? {}));
}

/** The fields a resource type can be selected by, as getters on its stored object. */
export type SelectableFields = Record<string, (obj: any) => string | undefined>;

export function parseFieldSelector(selector: string | undefined, fields: SelectableFields): (obj: unknown) => boolean {
  if (!selector?.trim()) return () => true;
  const tests = selector.split(',').map((part) => {
    const m = /^\s*([A-Za-z.]+)\s*(==|=|!=)\s*([^,]*?)\s*$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const get = fields[field];
    if (!get) {
      throw badRequest(`field label not supported: ${field} (the fake API server selects by ${Object.keys(fields).map((f) => JSON.stringify(f)).join(', ')})`);
    }
    return op === '!=' ? (obj: unknown) => (get(obj) ?? '') !== value : (obj: unknown) => (get(obj) ?? '') === value;
  });
  return (obj) => tests.every((t) => t(obj));
}
