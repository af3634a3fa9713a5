// Building DOM without markup: every string becomes a text node or an attribute value, so a
// name, label or message can never become HTML. (No innerHTML anywhere in the console.)
const SVG = 'http://www.w3.org/2000/svg';

/** el('span', {class: 'x', title: t}, 'text', child) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

export function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  setAttrs(node, attrs);
  return node;
}

function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
}

/** Sets a text node's value only when it changed (no layout work otherwise). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
