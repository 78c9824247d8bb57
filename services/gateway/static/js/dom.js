// Building the page's nodes. Record data only ever reaches the page through textContent and
// setAttribute (never innerHTML): `h` and `svg` are the only ways the modules make nodes.

export const $ = (id) => document.getElementById(id);

export function h(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content != null) node.textContent = content;
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs, content) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  if (content != null) node.textContent = content;
  return node;
}
