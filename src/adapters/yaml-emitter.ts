// Block YAML for status files, several times faster than a general YAML library for the plain
// JSON-like objects status holds. Strings that are not unmistakably plain are written in double
// quotes (JSON's quoting is valid YAML), so whatever is written reads back the same.

/** Plain scalars YAML would read back as this very string (not a number, bool, null, date...). */
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

function scalar(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = String(value);
  return PLAIN.test(text) && !RESERVED.test(text) ? text : JSON.stringify(text);
}

function key(name: string): string {
  return PLAIN.test(name) && !RESERVED.test(name) ? name : JSON.stringify(name);
}

function isEmpty(value: unknown): boolean {
  return Array.isArray(value) ? value.length === 0 : Object.keys(value as object).length === 0;
}

function block(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item !== null && typeof item === 'object' && !isEmpty(item)) {
        const lines: string[] = [];
        block(item, `${indent}  `, lines);
        out.push(`${indent}- ${lines[0]!.slice(indent.length + 2)}`, ...lines.slice(1));
      } else {
        out.push(`${indent}- ${item !== null && typeof item === 'object' ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`);
      }
    }
    return;
  }
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue;
    if (item !== null && typeof item === 'object') {
      if (isEmpty(item)) out.push(`${indent}${key(name)}: ${Array.isArray(item) ? '[]' : '{}'}`);
      else {
        out.push(`${indent}${key(name)}:`);
        block(item, Array.isArray(item) ? indent : `${indent}  `, out);
      }
    } else {
      out.push(`${indent}${key(name)}: ${scalar(item)}`);
    }
  }
}

/** `value` (an object) as a block YAML document. */
export function toYaml(value: Record<string, unknown>): string {
  const out: string[] = [];
  block(value, '', out);
  return out.join('\n') + '\n';
}
