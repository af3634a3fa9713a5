// Bounds a manifest file must keep before a YAML parser sees it: the parsers take seconds and
// gigabytes on deep nesting or large documents (and overflow their stack on the first), so these
// are checked by one linear scan of the text, each with the line that breaks it.

/** Larger manifest files are refused before they are parsed. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * A document may be at most this large: room for Kubernetes' 256 KiB of annotations and more (a
 * VM takes ~200 bytes), small enough that the YAML parser's slow cases stay under a few seconds.
 */
export const MAX_DOCUMENT_BYTES = 512 * 1024;

/** Documents per file at most: more would take seconds to read (about 75 µs each). */
export const MAX_DOCUMENTS = 10_000;

/** Collections nested deeper than this are refused (a resource needs 5; JSON blobs in annotations are strings). */
export const MAX_NESTING = 64;

export interface LimitError {
  line: number;
  message: string;
}

const MiB = (n: number) => (n >= 1024 * 1024 ? `${n / 1024 / 1024} MiB` : `${n / 1024} KiB`);

/** Also what a reader says of a file whose size alone breaks the limit, without reading it. */
export const FILE_TOO_LARGE: LimitError = { line: 1, message: `the file is larger than ${MiB(MAX_MANIFEST_BYTES)}; split it (nothing in it is applied)` };
const DOCUMENT_MARKER = /^(---|\.\.\.)(\s|$)/;
/** A block scalar indicator (| or >, with chomping/indentation indicators) ending a line's value. */
const BLOCK_SCALAR = /^[|>][-+0-9]*\s*(#.*)?$/;

/** The first limit `text` breaks, or undefined. Linear in the size of the text. */
export function checkManifestLimits(text: string): LimitError | undefined {
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) return FILE_TOO_LARGE;
  return documentTooLarge(text) ?? nestedTooDeep(text);
}

function documentTooLarge(text: string): LimitError | undefined {
  let start = 0;
  let startLine = 1;
  let line = 1;
  let markers = 0;
  // Only a document of more characters than the limit in bytes can be larger than it.
  const check = (end: number): LimitError | undefined =>
    end - start > MAX_DOCUMENT_BYTES / 3 && Buffer.byteLength(text.slice(start, end)) > MAX_DOCUMENT_BYTES
      ? { line: startLine, message: `the document starting here is larger than ${MiB(MAX_DOCUMENT_BYTES)} (Kubernetes stores no object that large); nothing in this file is applied` }
      : undefined;
  for (let pos = 0; pos < text.length; line++) {
    const eol = text.indexOf('\n', pos);
    const next = eol < 0 ? text.length : eol + 1;
    if (DOCUMENT_MARKER.test(text.slice(pos, Math.min(next, pos + 4)))) {
      if (++markers > MAX_DOCUMENTS) return { line, message: `more than ${MAX_DOCUMENTS} documents in one file; split it (nothing in it is applied)` };
      const tooLarge = check(pos);
      if (tooLarge) return tooLarge;
      start = pos;
      startLine = line;
    }
    pos = next;
  }
  return check(text.length);
}

/**
 * Depth of block nesting (indentation levels, `- ` entries) plus flow nesting (`[`, `{`) outside
 * quoted and block scalars and comments. It can overcount odd but valid text (a plain scalar
 * continued on ever deeper lines), never undercount real nesting below the limit.
 */
function nestedTooDeep(text: string): LimitError | undefined {
  const indents: number[] = [];
  let flow = 0;
  let quote: string | undefined;
  let blockScalarParent: number | undefined;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const indent = line.length - line.trimStart().length;
    if (blockScalarParent !== undefined) {
      if (line.trim() === '' || indent > blockScalarParent) continue;
      blockScalarParent = undefined;
    }
    let pos = 0;
    if (!quote && flow === 0) {
      const rest = line.slice(indent);
      if (rest === '' || rest.startsWith('#')) continue;
      if (indent === 0 && DOCUMENT_MARKER.test(line)) {
        indents.length = 0;
        continue;
      }
      while (indents.length && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      pos = indent;
      // Each "- " or "? " opens one more level on the same line.
      while (/^[-?](\s|$)/.test(line.slice(pos))) {
        pos += 1;
        while (line[pos] === ' ') pos++;
        indents.push(pos);
      }
      if (indents.length > MAX_NESTING) return tooDeep(n + 1);
    }
    let valueStart = true;
    for (let i = pos; i < line.length; i++) {
      const c = line[i]!;
      if (quote) {
        if (quote === '"' && c === '\\') i++;
        else if (c === quote && !(quote === "'" && line[i + 1] === "'")) quote = undefined;
        else if (c === "'" && quote === "'") i++;
        continue;
      }
      const prev = i > 0 ? line[i - 1]! : ' ';
      if (c === '#' && (prev === ' ' || prev === '\t')) break;
      if ((c === '"' || c === "'") && (valueStart || /[\s[{,:]/.test(prev))) {
        quote = c;
      } else if ((c === '[' || c === '{') && (flow > 0 || valueStart)) {
        flow++;
        if (indents.length + flow > MAX_NESTING) return tooDeep(n + 1);
      } else if ((c === ']' || c === '}') && flow > 0) {
        flow--;
      } else if (flow === 0 && c === ':' && /\s/.test(line[i + 1] ?? ' ')) {
        if (BLOCK_SCALAR.test(line.slice(i + 1).trim())) {
          blockScalarParent = indent;
          break;
        }
        valueStart = true;
        continue;
      }
      if (c !== ' ' && c !== '\t') valueStart = false;
    }
    if (blockScalarParent === undefined && flow === 0 && !quote && BLOCK_SCALAR.test(line.slice(pos).trim())) blockScalarParent = indent;
  }
  return undefined;
}

function tooDeep(line: number): LimitError {
  return { line, message: `collections are nested more than ${MAX_NESTING} deep here; nothing in this file is applied` };
}
