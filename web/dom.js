// Builds DOM nodes without ever parsing HTML: every string child becomes a text node, so data
// from the server or the user is always shown as text, never interpreted as markup.

/**
 * h('a', {href: '/orders', class: 'link'}, 'Orders', someNode)
 * Props: `class`, `dataset` (object), `on<event>` (listener), booleans and non-string values
 * are set as properties (disabled, hidden, checked), other strings as attributes.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      for (const [name, data] of Object.entries(value)) {
        if (data !== null && data !== undefined) el.dataset[name] = data;
      }
    } else if (typeof value === 'string' || typeof value === 'number') {
      el.setAttribute(key, String(value));
    } else if (value === true) {
      if (key in el) el[key] = true;
      else el.setAttribute(key, '');
    } else {
      el[key] = value;
    }
  }
  appendChildren(el, children);
  return el;
}

export function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

let idCounter = 0;
/** A document-unique id, for label/aria-describedby wiring. */
export function uniqueId(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
