// The transcript's edits, newest first: what changed, who made it, when, and whether it was undone.

import { $, h, say } from "./dom.js";
import { dateTime } from "./format.js";
import { t } from "./i18n.js";

/** Draw GET /v1/jobs/{id}/revisions (a RevisionList) in its card; the undo button says if one can go. */
export function renderRevisions(box, log) {
  box.hidden = false;
  say($("#revisions-note", box), log.note || "", "warning");
  const entries = [...log.revisions].reverse();
  $("#revisions-list", box).replaceChildren(
    ...entries.map((entry) =>
      h(
        "li",
        { class: entry.undone ? "undone" : null, "data-testid": "revision", dataset: { number: String(entry.number) } },
        h("span", { class: "revision-number" }, `#${entry.number}`),
        " ",
        h("strong", {}, t(`editor.action.${entry.action}`)),
        ` ${entry.detail} · ${entry.author || t("editor.anonymous")} · ${dateTime(entry.at)}`,
        entry.undone ? h("em", {}, ` (${t("editor.undone")})`) : null,
      ),
    ),
  );
  if (!entries.length) $("#revisions-list", box).replaceChildren(h("li", { class: "hint" }, t("editor.no_edits")));
  $("#revisions-undo", box).disabled = !log.revisions.some((r) => r.action !== "undo" && !r.undone);
}
