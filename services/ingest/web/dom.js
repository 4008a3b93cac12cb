// A small element builder: text always goes in as text, never as HTML.

/**
 * h("button", {class: "x", dataset: {start: 1}, onclick: fn}, "label", child, ...)
 * Attributes set to null, undefined or false are left out; true sets an empty attribute.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "style" && typeof value === "object") {
      for (const [property, v] of Object.entries(value)) element.style.setProperty(property, v);
    } else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Show a message in a status element; kind "error" makes it an alert. */
export function say(element, text, kind = "info") {
  element.textContent = text || "";
  element.dataset.kind = kind;
  element.hidden = !text;
}
