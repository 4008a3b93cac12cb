// The open job: live state from its event stream, then the player, transcript, summary, downloads.

import { getJson, keyedUrl, request } from "./api.js";
import { $, h, say } from "./dom.js";
import { initEditor } from "./editor.js";
import { bytes, dateTime, duration, languageName, percent } from "./format.js";
import { t } from "./i18n.js";
import { renderSpeakerPeople } from "./people.js";
import { initPlayer } from "./player.js";
import { pipelineProgress, renderStages } from "./stages.js";
import { renderSummary } from "./summary.js";
import { renderPartial, renderSpeakerFields, renderTranscript, speakerMap, speakerTable } from "./transcript.js";

const FINAL = ["completed", "failed"];
const TRANSCRIPT_FORMATS = [["srt", "SRT"], ["vtt", "VTT"], ["txt", "TXT"], ["md", "Markdown"], ["json", "JSON"]];
const SUMMARY_FORMATS = [["md", "Markdown"], ["json", "JSON"]];
const PARTIAL_EVERY_MS = 2000;

const stageDone = (state, name) => ["done", "skipped"].includes(state.stages?.[name]?.status);

export function initJob({ onState, onPeople = () => {} }) {
  const view = $("#job-view");
  const placeholder = $("#job-placeholder");
  const stages = $("#stages");
  const transcriptBody = $("#transcript-body");
  const summaryBody = $("#summary-body");
  const speakersFields = $("#speakers-fields");
  const speakersStatus = $("#speakers-status");
  const player = initPlayer($("#player"), $("#follow"));
  let job = null;

  const path = (suffix = "") => `/v1/jobs/${encodeURIComponent(job.id)}${suffix}`;
  // The transcript is a draft a person corrects: editor.js makes the drawn transcript editable.
  const editor = initEditor({
    body: transcriptBody,
    player,
    audio: $("#player"),
    path: (suffix = "") => (job ? path(suffix) : null),
    onEdited: (transcript) => {
      job.transcript = transcript;
      render();
    },
  });

  function renderHead() {
    const state = job.state;
    $("#job-title").textContent = state.original_name || state.job_id;
    const status = $("#job-status");
    status.textContent = t(`status.${state.status}`);
    status.dataset.status = state.status;
    const meta = [t("job.created", { when: dateTime(state.created_at) })];
    if (state.duration_s) meta.push(t("job.duration", { duration: duration(state.duration_s) }));
    if (state.language) meta.push(t("job.language", { language: languageName(state.language) }));
    $("#job-meta").textContent = meta.join(" · ");
    const failure =
      state.status !== "failed"
        ? ""
        : state.failed_stage
          ? t("job.failed", { stage: t(`stage.${state.failed_stage}`), error: state.error || "" })
          : t("job.failed_nostage", { error: state.error || "" });
    say($("#job-error"), failure, "error");
    renderWarnings(state);
  }

  /** What the decode guards did, and every warning: content left out is never silent. */
  function renderWarnings(state) {
    const total = (state.transcription || {}).total || {};
    const warnings = state.warnings || [];
    const touched = total.redecoded || total.collapsed || total.dropped;
    $("#job-speech").textContent = touched
      ? t("job.speech", {
          windows: total.windows || 0,
          words: total.words || 0,
          redecoded: total.redecoded || 0,
          collapsed: total.collapsed || 0,
          dropped: total.dropped || 0,
          seconds: (total.dropped_s || 0).toFixed(1),
        })
      : "";
    const removed = state.removed || [];
    const list = $("#job-warning-list");
    list.replaceChildren(
      ...warnings.map((w) =>
        h("li", { "data-code": w.code }, h("strong", {}, t(`warning.${w.code}`)), ` ${w.message}`),
      ),
      ...removed.map((r) =>
        h(
          "li",
          { "data-code": "removed" },
          h("strong", {}, t("warning.removed")),
          ` ${removalText(r)}`,
        ),
      ),
    );
    $("#job-warnings").hidden = !touched && warnings.length === 0 && removed.length === 0;
  }

  /** "the chunks' audio: 2 files, 3 MB, <date> (AODIO_RETENTION_CHUNK_AUDIO=7d)" */
  function removalText(removal) {
    const params = {
      kind: t(`kind.${removal.kind}`),
      objects: removal.objects,
      size: bytes(removal.size_bytes),
      when: dateTime(removal.at),
    };
    return `${t(removal.objects === 1 ? "job.removed_one" : "job.removed", params)} (${removal.rule})`;
  }

  function links(group, what, formats) {
    group.querySelectorAll("a").forEach((a) => a.remove());
    for (const [format, label] of formats) {
      group.append(
        h(
          "a",
          {
            class: "button secondary small",
            href: keyedUrl(path(`/${what}`), { format, download: 1 }),
            download: "",
            "data-testid": `download-${what}-${format}`,
          },
          label,
        ),
      );
    }
  }

  function renderDownloads() {
    $("#downloads").hidden = !job.transcript;
    links($("#downloads-transcript"), "transcript", TRANSCRIPT_FORMATS);
    $("#downloads-summary").hidden = !job.summary || job.summary.method === "none";
    links($("#downloads-summary"), "summary", SUMMARY_FORMATS);
    // The document holds the summary when there is one, else says why not: offered with the transcript.
    links($("#downloads-document"), "document", [["docx", t("downloads.docx")]]);
  }

  function renderText() {
    const note = $("#transcript-note");
    $("#speakers").hidden = true;
    if (job.transcript) {
      const speakers = speakerTable(job.transcript, job.state.speaker_names || {});
      $("#transcript-title").textContent = t("transcript.title");
      note.textContent = "";
      renderTranscript(transcriptBody, job.transcript, speakers);
      editor.attach(job.transcript, speakers);
      if (speakers.labels.length) {
        renderSpeakerFields(speakersFields, speakers);
        renderSpeakerPeople(speakersFields, job.state, peopleChanged);
        $("#speakers").hidden = false;
      }
    } else if (job.partial?.words.length) {
      editor.detach();
      $("#transcript-title").textContent = t("transcript.partial");
      note.textContent = t("transcript.partial_count", {
        done: job.partial.chunks_done,
        total: job.partial.chunks_total ?? "?",
      });
      renderPartial(transcriptBody, job.partial);
    } else {
      editor.detach();
      $("#transcript-title").textContent = t("transcript.title");
      note.textContent = job.transcriptError || t("transcript.none");
      transcriptBody.replaceChildren();
    }
    player.index(transcriptBody);
  }

  function renderSummaryPart() {
    if (job.summary) renderSummary(summaryBody, job.summary);
    else summaryBody.replaceChildren(h("p", { class: "hint" }, job.summaryError || t("summary.none")));
  }

  /** True when the values differ from the ones the part was last drawn with (redraws are not free). */
  function changed(part, ...values) {
    const previous = job.drawn[part];
    if (previous && previous.every((value, index) => value === values[index])) return false;
    job.drawn[part] = values;
    return true;
  }

  function render() {
    if (!job?.state) return;
    renderHead();
    renderStages(stages, job.state);
    $("#stages-overall").textContent = `${percent(pipelineProgress(job.state))} %`;
    // A failed job shows no "will appear here" promises for what it will never produce.
    const failed = job.state.status === "failed";
    $("#summary").hidden = failed && !job.summary;
    $("#transcript").hidden = failed && !job.transcript && !job.partial?.words.length;
    if (changed("downloads", job.transcript, job.summary)) renderDownloads();
    if (changed("text", job.transcript, job.partial, job.transcriptError)) renderText();
    if (changed("summary", job.summary, job.summaryError)) renderSummaryPart();
  }

  async function load(what, url, onLoaded) {
    const opened = job;
    opened.loading.add(what);
    try {
      const body = await getJson(url);
      if (job === opened) {
        onLoaded(body);
        opened[`${what}Error`] = null;
      }
    } catch (exc) {
      if (job !== opened || what === "partial") return;
      if (exc.status !== 409) opened[`${what}Error`] = t(`${what}.failed`, { detail: exc.detail });
      // 409: not visible yet; the next state event asks again, or, once the stream has ended, a timer
      else if (FINAL.includes(opened.state?.status)) setTimeout(() => job === opened && loadResults(job.state), 3000);
    } finally {
      opened.loading.delete(what);
    }
    if (job === opened) render();
  }

  function loadResults(state) {
    const names = JSON.stringify(state.speaker_names || {});
    const renamed = names !== job.names; // the exports now carry other names: fetch them again
    job.names = names;
    const hasTranscript = stageDone(state, "assemble") || "transcript_json" in (state.outputs || {});
    if (hasTranscript && (!job.transcript || renamed) && !job.loading.has("transcript")) {
      load("transcript", path("/transcript?format=json"), (body) => (job.transcript = body));
    } else if (!hasTranscript && (state.chunks_done?.length || 0) > job.partialChunks) {
      const now = Date.now();
      if (!job.loading.has("partial") && now - job.partialAt > PARTIAL_EVERY_MS) {
        job.partialAt = now;
        load("partial", path("/partial-transcript"), (body) => {
          job.partial = body;
          job.partialChunks = body.chunks_done;
        });
      }
    }
    const hasSummary = stageDone(state, "summarize") || "summary_json" in (state.outputs || {});
    if (hasSummary && (!job.summary || renamed) && !job.loading.has("summary")) {
      load("summary", path("/summary?format=json"), (body) => (job.summary = body));
    }
  }

  function apply(state) {
    if (!job || state.job_id !== job.id) return;
    if (job.state?.status !== state.status) {
      // While it runs, the stages are what matters; once completed, the results are.
      $("#stages-box").open = state.status !== "completed";
    }
    job.state = state;
    // Retention may have removed this run's normalized audio: no player then (the removal is listed).
    const audioGone = (state.removed || []).some(
      (r) => r.kind === "normalized_audio" && r.generation === state.generation,
    );
    const made = stageDone(state, "transcode") || "normalized_audio" in (state.outputs || {});
    const hasAudio = made && !audioGone;
    $("#player-box").hidden = !hasAudio;
    if (hasAudio) player.setSource(keyedUrl(path("/audio")));
    loadResults(state);
    render();
    onState(state);
  }

  function poll() {
    const opened = job;
    getJson(path())
      .then((state) => {
        apply(state);
        if (job === opened && !FINAL.includes(state.status)) opened.timer = setTimeout(poll, 3000);
      })
      .catch((exc) => {
        if (job !== opened) return;
        if (exc.status === 404) say($("#job-error"), t("job.not_found"), "error");
        else if (exc.status !== 401) opened.timer = setTimeout(poll, 5000);
      });
  }

  function listen() {
    const source = new EventSource(keyedUrl(path("/events")));
    job.source = source;
    source.addEventListener("state", (event) => apply(JSON.parse(event.data)));
    source.addEventListener("end", (event) => {
      source.close();
      if (event.data === "deleted") say($("#job-error"), t("job.not_found"), "error");
    });
    source.addEventListener("error", () => {
      // CONNECTING: the browser reconnects by itself. CLOSED: refused (401, 404); poll instead.
      if (source.readyState !== EventSource.CLOSED || job?.source !== source) return;
      say($("#job-notice"), t("job.live_lost"));
      poll();
    });
  }

  function close() {
    if (!job) return;
    job.source?.close();
    clearTimeout(job.timer);
    job = null;
    player.setSource(null);
    view.hidden = true;
    placeholder.hidden = false;
    placeholder.textContent = t("job.none");
  }

  async function open(id) {
    close();
    job = { id, state: null, names: "{}", loading: new Set(), partialChunks: 0, partialAt: 0, drawn: {} };
    const opened = job;
    placeholder.hidden = true;
    view.hidden = false;
    say($("#job-notice"), "");
    say(speakersStatus, "");
    stages.replaceChildren();
    $("#player-box").hidden = true;
    try {
      apply(await getJson(path()));
    } catch (exc) {
      if (job !== opened) return;
      view.hidden = true;
      placeholder.hidden = false;
      placeholder.textContent = exc.status === 404 ? t("job.not_found") : exc.detail;
      return;
    }
    if (job === opened && !FINAL.includes(job.state.status)) listen();
  }

  /** A speaker said to be (or not be) a person: the names and identities the API answered, drawn. */
  function peopleChanged(reply) {
    if (!job || reply.job_id !== job.id) return;
    job.state = { ...job.state, speaker_names: reply.speaker_names, speaker_identities: reply.speaker_identities };
    job.drawn.text = null;
    loadResults(job.state);
    render();
    onPeople();
  }

  async function saveSpeakers(event) {
    event.preventDefault();
    const opened = job;
    const save = $("#speakers-save");
    save.disabled = true;
    say(speakersStatus, t("speakers.saving"));
    try {
      const reply = await request("PUT", path("/speakers"), speakerMap(speakersFields));
      if (job !== opened) return;
      job.state = { ...job.state, speaker_names: reply.speaker_names };
      loadResults(job.state);
      say(speakersStatus, t("speakers.saved"));
    } catch (exc) {
      say(speakersStatus, t("speakers.failed", { detail: exc.detail }), "error");
    } finally {
      save.disabled = false;
    }
  }

  view.addEventListener("click", (event) => {
    const target = event.target.closest(".word, .seek, .chapter-seek");
    if (target) return player.seek(Number(target.dataset.start));
    const name = event.target.closest(".speaker-name");
    if (name) {
      const input = document.getElementById(`speaker-${name.dataset.label}`);
      input?.scrollIntoView({ block: "center" });
      input?.focus();
      input?.select();
    }
  });
  $("#speakers-form").addEventListener("submit", saveSpeakers);

  return {
    open,
    close,
    /** Draw everything again (the language or the key changed). */
    render() {
      if (job) job.drawn = {};
      render();
    },
    current: () => job?.id ?? null,
  };
}
