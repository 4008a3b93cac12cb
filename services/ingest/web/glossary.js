// The key's glossary: names, products and jargon every recording it sends spells as written here.
// The upload form's own names and terms come first; the server adds the glossary when a job is sent.

import { request } from "./api.js";
import { $, say } from "./dom.js";
import { t } from "./i18n.js";

export const MAX_TERMS = 200; // JobOptions.vocabulary's limits: the server refuses more, saying so
export const MAX_TERM_CHARS = 64;

/** Terms from text separated by commas or new lines: trimmed, blanks and repeats (any case) left out. */
export function splitTerms(text) {
  const seen = new Set();
  const terms = [];
  for (const part of text.split(/[,\n]/)) {
    const term = part.trim().replace(/\s+/g, " ");
    const key = term.toLocaleLowerCase();
    if (term && !seen.has(key)) {
      seen.add(key);
      terms.push(term);
    }
  }
  return terms;
}

/** Why the server would refuse these terms, in the page's language; "" when it will take them. */
export function termsProblem(terms) {
  if (terms.length > MAX_TERMS) return t("upload.vocabulary.too_many", { max: MAX_TERMS, count: terms.length });
  const long = terms.find((term) => term.length > MAX_TERM_CHARS);
  return long ? t("upload.vocabulary.too_long", { max: MAX_TERM_CHARS, term: long }) : "";
}

export function initGlossary() {
  const box = $("#glossary-box");
  const form = $("#glossary-form");
  const input = $("#glossary-input");
  const save = $("#glossary-save");
  const count = $("#glossary-count");
  const status = $("#glossary-status");
  let loaded = false;

  function renderCount() {
    count.textContent = t("glossary.count", { count: splitTerms(input.value).length, max: MAX_TERMS });
  }

  async function load() {
    say(status, "");
    input.disabled = save.disabled = true; // what is typed before the answer would be overwritten
    try {
      const glossary = await request("GET", "/v1/glossary");
      input.value = glossary.terms.join("\n");
      loaded = true;
    } catch (exc) {
      say(status, t("glossary.load_failed", { detail: exc.detail }), "error");
    } finally {
      input.disabled = save.disabled = false;
    }
    renderCount();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const terms = splitTerms(input.value);
    const problem = termsProblem(terms);
    if (problem) {
      say(status, problem, "error");
      return;
    }
    save.disabled = true;
    try {
      const glossary = await request("PUT", "/v1/glossary", { terms });
      input.value = glossary.terms.join("\n");
      loaded = true;
      say(status, t("glossary.saved", { count: glossary.terms.length }));
    } catch (exc) {
      say(status, t("glossary.save_failed", { status: exc.status, detail: exc.detail }), "error");
    } finally {
      save.disabled = false;
      renderCount();
    }
  });
  input.addEventListener("input", renderCount);
  // Loaded when first opened: a page without a key yet asks for one once, for the job list.
  box.addEventListener("toggle", () => {
    if (box.open && !loaded) load();
  });

  renderCount();
  return {
    render: renderCount,
    /** Another key: its own glossary. */
    refresh() {
      loaded = false;
      input.value = "";
      say(status, "");
      if (box.open) load();
      else renderCount();
    },
  };
}
