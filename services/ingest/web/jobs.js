// The job list: newest first, status and progress, open one, delete one.

import { getJson, request } from "./api.js";
import { $, h, say } from "./dom.js";
import { dateTime, percent } from "./format.js";
import { t } from "./i18n.js";
import { pipelineProgress } from "./stages.js";

const PAGE = 30;
const ACTIVE = ["uploading", "queued", "running"];

export function initJobs({ onOpen, onDeleted }) {
  const list = $("#jobs-list");
  const empty = $("#jobs-empty");
  const error = $("#jobs-error");
  const more = $("#jobs-more");
  let jobs = [];
  let nextBefore = null;
  let activeId = null;
  let timer = null;

  function item(job) {
    const name = job.original_name || job.job_id;
    const value = percent(job.status === "completed" ? 1 : job.progress);
    return h(
      "li",
      { class: "job-item", dataset: { jobId: job.job_id, status: job.status }, "data-testid": "job-item" },
      h(
        "button",
        {
          type: "button",
          class: "job-open",
          "aria-current": job.job_id === activeId ? "true" : null,
          "aria-label": t("jobs.open", { name }),
          onclick: () => onOpen(job.job_id),
        },
        h(
          "span",
          { class: "job-open-top" },
          h("span", { class: "job-name", title: name }, name),
          h("span", { class: "badge", dataset: { status: job.status } }, t(`status.${job.status}`)),
        ),
        h("progress", { max: 100, value, "aria-hidden": "true" }),
        h("span", { class: "job-when" }, dateTime(job.created_at)),
      ),
      h(
        "button",
        {
          type: "button",
          class: "danger small",
          "data-testid": "job-delete",
          "aria-label": t("jobs.delete_label", { name }),
          onclick: () => remove(job),
        },
        t("jobs.delete"),
      ),
    );
  }

  function render() {
    // Rebuilding the list must not take the keyboard focus away from the row that had it.
    const focused = document.activeElement;
    const focusedRow = list.contains(focused) ? focused.closest(".job-item")?.dataset.jobId : null;
    const focusedClass = focused?.classList?.[0];
    list.replaceChildren(...jobs.map(item));
    if (focusedRow) {
      const row = [...list.children].find((li) => li.dataset.jobId === focusedRow);
      row?.querySelector(`.${focusedClass}`)?.focus();
    }
    empty.hidden = jobs.length > 0 || !error.hidden;
    more.hidden = !nextBefore;
  }

  function schedule() {
    clearTimeout(timer);
    const busy = jobs.some((job) => ACTIVE.includes(job.status));
    timer = setTimeout(() => (document.hidden ? schedule() : refresh()), busy ? 5000 : 30000);
  }

  let pending = null;

  function refresh() {
    pending ??= load().finally(() => (pending = null));
    return pending;
  }

  async function load() {
    try {
      const page = await getJson(`/v1/jobs?limit=${Math.max(PAGE, jobs.length)}`);
      jobs = page.jobs;
      nextBefore = page.next_before;
      say(error, "");
    } catch (exc) {
      say(error, t("jobs.load_failed", { detail: exc.status === 0 ? t("error.network") : exc.detail }), "error");
    }
    render();
    schedule();
  }

  async function loadMore() {
    if (!nextBefore) return;
    try {
      const page = await getJson(`/v1/jobs?limit=${PAGE}&before=${encodeURIComponent(nextBefore)}`);
      jobs = jobs.concat(page.jobs);
      nextBefore = page.next_before;
    } catch (exc) {
      say(error, t("jobs.load_failed", { detail: exc.detail }), "error");
    }
    render();
  }

  async function remove(job) {
    if (!confirm(t("jobs.confirm_delete", { name: job.original_name || job.job_id }))) return;
    try {
      await request("DELETE", `/v1/jobs/${encodeURIComponent(job.job_id)}`);
      jobs = jobs.filter((other) => other.job_id !== job.job_id);
      render();
      onDeleted(job.job_id);
    } catch (exc) {
      say(error, exc.detail, "error");
    }
  }

  $("#jobs-refresh").addEventListener("click", refresh);
  more.addEventListener("click", loadMore);

  return {
    refresh,
    render,
    setActive(id) {
      activeId = id;
      render();
    },
    /** Keep the open job's row live from its event stream without asking the server. */
    update(state) {
      const job = jobs.find((other) => other.job_id === state.job_id);
      if (!job) return refresh();
      Object.assign(job, { status: state.status, progress: pipelineProgress(state), error: state.error });
      render();
    },
  };
}
