// One progress bar per pipeline stage, updated in place from each job state.

import { h } from "./dom.js";
import { duration, percent } from "./format.js";
import { lang, t } from "./i18n.js";

// services.registry.PIPELINE, in order; other entries of `stages` (notify) are not shown.
export const PIPELINE = ["ingest", "transcode", "diarize", "transcribe", "assemble", "summarize"];

export function stageFraction(stage) {
  if (!stage) return 0;
  if (stage.status === "done" || stage.status === "skipped") return 1;
  return stage.total > 0 ? Math.min(1, stage.done / stage.total) : 0;
}

function count(value) {
  return value.toLocaleString(lang(), { maximumFractionDigits: 1 });
}

function detailOf(stage) {
  const parts = [];
  if (stage.message) parts.push(stage.message);
  if (stage.status === "running" && stage.total > 0 && stage.unit) {
    parts.push(t("stage.count", { done: count(stage.done), total: count(stage.total), unit: stage.unit }));
  }
  if (stage.status === "running" && stage.eta_s !== null && stage.eta_s !== undefined) {
    parts.push(t("stage.eta", { eta: duration(stage.eta_s) }));
  }
  if (stage.status === "done" && stage.wall_s >= 1) parts.push(duration(stage.wall_s));
  return parts.join(" · ");
}

/** The whole pipeline's progress, 0..1 (what GET /v1/jobs reports as `progress`). */
export function pipelineProgress(state) {
  if (state.status === "completed") return 1;
  return PIPELINE.reduce((sum, name) => sum + stageFraction(state.stages?.[name]), 0) / PIPELINE.length;
}

function row(name) {
  return h(
    "li",
    { class: "stage", dataset: { stage: name, status: "pending" }, "data-testid": `stage-${name}` },
    h(
      "span",
      { class: "stage-label" },
      h("span", { class: "stage-name", id: `stage-name-${name}` }),
      h("span", { class: "badge stage-status" }),
    ),
    h("progress", { max: 100, value: 0, "aria-labelledby": `stage-name-${name}`, "data-testid": `stage-bar-${name}` }),
    h("span", { class: "stage-percent" }),
    h("p", { class: "stage-detail", "data-testid": `stage-detail-${name}` }),
    h("p", { class: "stage-error", hidden: true }),
  );
}

/** Render every pipeline stage of state into the <ol>, reusing the rows it already has. */
export function renderStages(container, state) {
  if (container.children.length !== PIPELINE.length) container.replaceChildren(...PIPELINE.map(row));
  PIPELINE.forEach((name, index) => {
    const stage = state.stages?.[name] || { status: "pending", done: 0, total: 0 };
    const element = container.children[index];
    const value = percent(stageFraction(stage));
    element.dataset.status = stage.status;
    element.querySelector(".stage-name").textContent = t(`stage.${name}`);
    const badge = element.querySelector(".stage-status");
    badge.textContent = t(`status.${stage.status}`);
    badge.dataset.status = stage.status;
    element.querySelector(".stage-percent").textContent = `${value} %`;
    const bar = element.querySelector("progress");
    bar.value = value;
    bar.dataset.percent = String(value);
    element.querySelector(".stage-detail").textContent = detailOf(stage);
    const error = element.querySelector(".stage-error");
    error.textContent = stage.error || "";
    error.hidden = !stage.error;
  });
}
