// A small streaming XML reader: elements with their attributes and text, in document order, no
// tree built. Domain XML is read on every look at a domain (a resync reads them all), and a
// general parser building whole object trees was half of a resync's CPU; the domain reader
// (domain-xml-reader.ts) keeps only the few facts it needs. Comments, processing instructions
// and a DOCTYPE are skipped; CDATA is text; the five named entities and numeric character
// references are decoded. Malformed input (an unclosed tag, a mismatched end tag) throws.

export interface XmlVisitor {
  /** An element opens; `depth` is 1 for the root. */
  open(name: string, attributes: Record<string, string>, depth: number): void;
  /** The element at `depth` closes, with its own text (decoded, trimmed; '' when none). */
  close(name: string, text: string, depth: number): void;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return NAMED[ref] ?? whole;
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

export function scanXml(xml: string, visitor: XmlVisitor): void {
  const names: string[] = [];
  const texts: string[] = [];
  let i = 0;
  const end = (token: string, from: number): number => {
    const at = xml.indexOf(token, from);
    if (at < 0) throw new Error(`unterminated ${token === '>' ? 'tag' : token} in XML at offset ${from}`);
    return at;
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const stop = lt < 0 ? xml.length : lt;
    if (names.length && stop > i) texts[names.length - 1] += xml.slice(i, stop);
    if (lt < 0) break;
    if (xml.startsWith('<?', lt)) i = end('?>', lt) + 2;
    else if (xml.startsWith('<!--', lt)) i = end('-->', lt + 4) + 3;
    else if (xml.startsWith('<![CDATA[', lt)) {
      const close = end(']]>', lt);
      // CDATA is literal: escaped so that decoding at the element's close gives it back.
      if (names.length) texts[names.length - 1] += xml.slice(lt + 9, close).replace(/&/g, '&amp;');
      i = close + 3;
    } else if (xml.startsWith('<!', lt)) i = skipDeclaration(xml, lt);
    else if (xml[lt + 1] === '/') {
      const close = end('>', lt);
      const name = xml.slice(lt + 2, close).trim();
      const open = names.pop();
      if (open !== name) throw new Error(`XML end tag </${name}> does not close <${open ?? ''}>`);
      visitor.close(name, decodeEntities(texts.pop()!).trim(), names.length + 1);
      i = close + 1;
    } else {
      i = startTag(xml, lt, names, texts, visitor);
    }
  }
  if (names.length) throw new Error(`XML element <${names[names.length - 1]}> is not closed`);
}

/** `<name a="1" b='2'>` or `<name/>` at `lt`; returns the offset after it. */
function startTag(xml: string, lt: number, names: string[], texts: string[], visitor: XmlVisitor): number {
  let i = lt + 1;
  while (i < xml.length && !isSpace(xml.charCodeAt(i)) && xml[i] !== '/' && xml[i] !== '>') i++;
  const name = xml.slice(lt + 1, i);
  if (!name) throw new Error(`an XML tag without a name at offset ${lt}`);
  const attributes: Record<string, string> = {};
  for (;;) {
    while (i < xml.length && isSpace(xml.charCodeAt(i))) i++;
    if (i >= xml.length) throw new Error(`unterminated tag <${name}> in XML`);
    if (xml[i] === '>' || xml.startsWith('/>', i)) break;
    const eq = xml.indexOf('=', i);
    if (eq < 0) throw new Error(`an attribute without a value in <${name}>`);
    const attribute = xml.slice(i, eq).trim();
    let q = eq + 1;
    while (isSpace(xml.charCodeAt(q))) q++;
    const quote = xml[q];
    if (quote !== '"' && quote !== "'") throw new Error(`an unquoted attribute ${attribute} in <${name}>`);
    const close = xml.indexOf(quote, q + 1);
    if (close < 0) throw new Error(`unterminated attribute ${attribute} in <${name}>`);
    attributes[attribute] = decodeEntities(xml.slice(q + 1, close));
    i = close + 1;
  }
  names.push(name);
  texts.push('');
  visitor.open(name, attributes, names.length);
  if (xml[i] === '>') return i + 1;
  names.pop();
  texts.pop();
  visitor.close(name, '', names.length + 1);
  return i + 2;
}

/** XML's white space: space, tab, line feed, carriage return. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** `<!DOCTYPE ...>`, with an internal subset in brackets. */
function skipDeclaration(xml: string, lt: number): number {
  let depth = 0;
  for (let i = lt + 2; i < xml.length; i++) {
    const c = xml[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '>' && depth <= 0) return i + 1;
  }
  throw new Error('unterminated declaration in XML');
}
