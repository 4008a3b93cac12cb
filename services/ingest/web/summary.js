// The summary: title, overview, key points, decisions, actions, chapters, contributions, method.

import { h } from "./dom.js";
import { clock, percent } from "./format.js";
import { t } from "./i18n.js";

function at(seconds, testid = "summary-seek") {
  if (seconds === null || seconds === undefined) return null;
  return h(
    "button",
    {
      type: "button",
      class: "chapter-seek",
      dataset: { start: String(seconds) },
      "data-testid": testid,
      "aria-label": t("transcript.seek", { time: clock(seconds) }),
    },
    clock(seconds),
  );
}

function part(key, testid, list) {
  if (!list) return null;
  return h("section", { class: "summary-part", "data-testid": testid }, h("h4", {}, t(key)), list);
}

function items(values, render, tag = "ul") {
  return values?.length ? h(tag, {}, values.map((value) => h("li", {}, render(value)))) : null;
}

function method(summary) {
  const name = t(`summary.method.${summary.method}`);
  return h(
    "p",
    { class: "summary-method", "data-testid": "summary-method" },
    t("summary.method", { method: name, model: summary.model ? ` (${summary.model})` : "" }),
  );
}

export function renderSummary(body, summary) {
  body.lang = summary.language || "";
  const actions = items(summary.action_items, (item) => [
    at(item.at_s),
    " ",
    item.text,
    item.owner ? h("span", { class: "item-meta" }, t("summary.owner", { owner: item.owner })) : null,
    item.due ? h("span", { class: "item-meta" }, t("summary.due", { due: item.due })) : null,
  ]);
  const speakers = items(summary.speakers, (note) => [
    h("strong", {}, note.speaker),
    note.share !== null && note.share !== undefined
      ? h("span", { class: "share" }, ` (${t("summary.share", { share: percent(note.share) })})`)
      : null,
    note.contribution ? `${t("colon")}${note.contribution}` : null,
  ]);
  body.replaceChildren(
    ...[
      summary.title ? h("p", { class: "summary-title", "data-testid": "summary-title" }, summary.title) : null,
      summary.overview
        ? part("summary.overview", "summary-overview", h("p", {}, summary.overview))
        : null,
      part("summary.key_points", "summary-key-points", items(summary.key_points, (point) => point)),
      part("summary.decisions", "summary-decisions", items(summary.decisions, (d) => [at(d.at_s), " ", d.text])),
      part("summary.action_items", "summary-actions", actions),
      part(
        "summary.chapters",
        "summary-chapters",
        items(summary.chapters, (chapter) => [at(chapter.start_s, "chapter-seek"), " ", chapter.title], "ol"),
      ),
      part("summary.speakers", "summary-speakers", speakers),
      summary.note ? h("p", { class: "hint" }, summary.note) : null,
      method(summary),
    ].filter(Boolean),
  );
}
