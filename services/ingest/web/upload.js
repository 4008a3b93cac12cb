// The upload card: drop or pick a recording, choose options, send it with a progress bar.

import { uploadRecording } from "./api.js";
import { $, h, say } from "./dom.js";
import { bytes, languageName } from "./format.js";
import { splitTerms, termsProblem } from "./glossary.js";
import { t } from "./i18n.js";

// Languages offered first; the transcription model knows many more (auto-detection finds them).
const LANGUAGE_CODES = ["fr", "en", "de", "es", "it", "nl", "pt", "ar", "zh", "ja"];

export function initUpload({ onUploaded }) {
  const form = $("#upload-form");
  const dropzone = $("#dropzone");
  const fileInput = $("#file-input");
  const chosen = $("#file-chosen");
  const languageSelect = $("#language-select");
  const speakersCount = $("#speakers-count");
  const vocabularyInput = $("#vocabulary-input");
  const start = $("#upload-start");
  const cancel = $("#upload-cancel");
  const state = $("#upload-state");
  const progress = $("#upload-progress");
  const status = $("#upload-status");
  const error = $("#upload-error");
  let file = null;
  let inFlight = null;

  function renderLanguages() {
    const selected = languageSelect.value;
    languageSelect.replaceChildren(
      h("option", { value: "" }, t("upload.language.auto")),
      ...LANGUAGE_CODES.map((code) => h("option", { value: code }, languageName(code))),
    );
    languageSelect.value = selected;
  }

  function renderChosen() {
    chosen.textContent = file ? t("upload.chosen", { name: file.name, size: bytes(file.size) }) : "";
    start.disabled = !file || inFlight !== null;
  }

  function choose(candidate) {
    file = candidate;
    say(error, "");
    renderChosen();
    if (file) start.focus();
  }

  function showProgress(sent, total) {
    const value = total ? Math.floor((sent / total) * 100) : 0;
    progress.value = value;
    progress.dataset.percent = String(value);
    status.textContent = t("upload.progress", { percent: value, sent: bytes(sent), total: bytes(total) });
  }

  async function send() {
    if (!file || inFlight) return;
    const vocabulary = splitTerms(vocabularyInput.value);
    const problem = termsProblem(vocabulary);
    say(error, problem, "error");
    if (problem) return;
    state.hidden = false;
    showProgress(0, file.size);
    const fields = { language: languageSelect.value, speakers: speakersCount.value.trim() };
    // The job's own names and terms; the server adds the key's glossary after them.
    if (vocabulary.length) fields.options = JSON.stringify({ vocabulary });
    inFlight = uploadRecording(file, fields, showProgress);
    start.disabled = true;
    cancel.hidden = false;
    try {
      const body = await inFlight.promise;
      progress.value = 100;
      progress.dataset.percent = "100";
      status.textContent = t("upload.done");
      fileInput.value = "";
      file = null;
      onUploaded(body.job_id);
    } catch (exc) {
      state.hidden = true;
      if (exc.status === -1) say(error, t("upload.cancelled"), "info");
      else if (exc.status === 0) say(error, t("upload.network"), "error");
      else say(error, t("upload.failed", { status: exc.status, detail: exc.detail }), "error");
    } finally {
      inFlight = null;
      cancel.hidden = true;
      renderChosen();
    }
  }

  fileInput.addEventListener("change", () => choose(fileInput.files[0] || null));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  cancel.addEventListener("click", () => inFlight?.abort());

  for (const name of ["dragenter", "dragover"]) {
    dropzone.addEventListener(name, (event) => {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  }
  for (const name of ["dragleave", "dragend"]) {
    dropzone.addEventListener(name, (event) => {
      if (!dropzone.contains(event.relatedTarget)) dropzone.classList.remove("dragging");
    });
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("dragging");
    const files = [...(event.dataTransfer?.files || [])];
    if (files.length > 1) say(error, t("upload.only_one"), "error");
    else if (files.length === 1) choose(files[0]);
  });
  // A file dropped beside the zone must not make the browser leave the page to open it.
  for (const name of ["dragover", "drop"]) window.addEventListener(name, (event) => event.preventDefault());

  renderLanguages();
  return {
    render() {
      renderLanguages();
      renderChosen();
    },
  };
}
