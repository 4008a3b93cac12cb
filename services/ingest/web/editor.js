// The transcript editor: correct a passage's text, pick its speaker, split, merge, undo; the audio follows.
//
// Keys in a passage being edited: Enter saves, Esc cancels, Ctrl+Enter splits at the cursor,
// Ctrl+Backspace at its very start merges it into the passage before, Ctrl+Z (text unchanged) undoes
// the last edit on the server. Outside a field, Ctrl+Z undoes too. Every edit names the revision it
// was made on; a 409 (someone else edited first) says so and reloads the transcript.

import { getJson, request } from "./api.js";
import { $, h, say } from "./dom.js";
import { clock } from "./format.js";
import { t } from "./i18n.js";
import { renderRevisions } from "./revisions.js";

const NEW_SPEAKER = "new";
const squash = (text) => text.trim().replace(/\s+/g, " ");
const atStart = (area) => area.selectionStart === 0 && area.selectionEnd === 0;
const typing = (element) => element?.closest?.("input, textarea, select, [contenteditable=true]");

/** Where each word starts and ends in the segment's text (its words joined, Whisper's spaces kept). */
function wordOffsets(words) {
  let joined = "";
  const spans = words.map((word) => {
    const lead = word.text.length - word.text.trimStart().length;
    const start = joined.length + lead;
    joined += word.text;
    return [start, joined.length - (word.text.length - word.text.trimEnd().length)];
  });
  const cut = joined.length - joined.trimStart().length; // the text is stripped at its start
  return spans.map(([start, end]) => [Math.max(0, start - cut), Math.max(0, end - cut)]);
}

/** The word a split at this offset starts the second passage with: the words ending before it stay. */
function splitWordAt(words, offset) {
  return wordOffsets(words).filter(([, end]) => end <= offset).length;
}

function wordAt(words, offset) {
  const spans = wordOffsets(words);
  const index = spans.findIndex(([, end]) => offset <= end);
  return index < 0 ? words.length - 1 : index;
}

export function initEditor({ body, player, audio, path, onEdited }) {
  const status = $("#editor-status");
  const box = $("#revisions");
  const undoButton = $("#revisions-undo");
  let transcript = null;
  let speakers = null;
  let revision = 0;
  let editing = null; // {index, area, original}
  let busy = false;
  let focusNext = null; // {index, offset}: where the cursor goes once the edited transcript is drawn
  let listed = null; // "job revision" of the revision list drawn
  let lastLog = null;
  let playing = null;
  let quiet = false; // focus the editor moves itself does not move the audio

  const segmentElement = (index) => body.querySelector(`.segment[data-index="${index}"]`);

  // --- drawing -----------------------------------------------------------------------------------

  function speakerPicker(index, label) {
    const options = speakers.labels.map((known) =>
      h("option", { value: known, selected: known === label }, speakers.nameOf(known)),
    );
    if (!label) options.unshift(h("option", { value: "", selected: true, disabled: true }, t("editor.no_speaker")));
    options.push(h("option", { value: NEW_SPEAKER }, t("editor.new_speaker")));
    return h(
      "select",
      {
        class: "speaker-pick",
        "data-testid": "speaker-pick",
        "aria-label": t("editor.speaker_of", { time: clock(transcript.segments[index].start) }),
        onchange: async (event) => {
          const picker = event.target;
          const speaker = picker.value;
          if (!speaker || speaker === label) return;
          if (!(await send({ op: "speaker", segment: index, speaker }, { index }))) picker.value = label || "";
        },
      },
      options,
    );
  }

  function decorate() {
    body.querySelectorAll(".segment").forEach((element, index) => {
      const segment = transcript.segments[index];
      element.dataset.index = String(index);
      const text = element.querySelector(".segment-text");
      text.tabIndex = 0;
      text.dataset.testid = "segment-text";
      text.title = t("editor.click_to_edit");
      // the .word elements, in order, are the segment's words that have text (transcript.js)
      const numbered = segment.words.map((word, i) => [word, i]).filter(([word]) => word.text.trim());
      text.querySelectorAll(".word").forEach((node, i) => (node.dataset.word = String(numbered[i]?.[1] ?? 0)));
      element.querySelector(".segment-head")?.append(speakerPicker(index, element.dataset.speaker || ""));
    });
  }

  async function loadRevisions() {
    if (!path()) return;
    const key = `${path()} ${revision}`;
    if (listed === key) {
      if (lastLog) renderRevisions(box, lastLog); // drawn again: the language may have changed
      return;
    }
    listed = key;
    lastLog = null;
    try {
      const log = await getJson(path("/revisions"));
      if (listed !== key) return;
      lastLog = log;
      renderRevisions(box, log);
    } catch (exc) {
      listed = null;
      say($("#revisions-note"), t("editor.list_failed", { detail: exc.detail }), "error");
    }
  }

  // --- editing a passage -------------------------------------------------------------------------

  function open(index, offset = null) {
    if (busy || !transcript) return;
    if (editing?.index === index) return;
    close();
    const element = segmentElement(index);
    const text = element?.querySelector(".segment-text");
    if (!text) return;
    const segment = transcript.segments[index];
    const area = h("textarea", {
      class: "segment-edit",
      "data-testid": "segment-edit",
      rows: "2",
      spellcheck: "true",
      "aria-label": t("editor.edit_label", { time: clock(segment.start) }),
      "aria-describedby": "editor-help",
    });
    area.value = segment.text;
    const tools = h(
      "div",
      { class: "segment-tools", role: "group", "aria-label": t("editor.tools") },
      h("button", { type: "button", class: "small", "data-testid": "edit-save", onclick: save }, t("editor.save")),
      h("button", { type: "button", class: "ghost small", onclick: cancel }, t("editor.cancel")),
      h(
        "button",
        { type: "button", class: "ghost small", "data-testid": "edit-split", onclick: split },
        t("editor.split"),
      ),
      h(
        "button",
        {
          type: "button",
          class: "ghost small",
          "data-testid": "edit-merge",
          disabled: index + 1 >= transcript.segments.length,
          onclick: () => send({ op: "merge", segment: index }, { index }),
        },
        t("editor.merge"),
      ),
    );
    text.hidden = true;
    text.after(area, tools);
    element.classList.add("editing");
    editing = { index, area, tools, text, original: segment.text, word: null };
    area.addEventListener("keydown", keys);
    area.addEventListener("input", grow);
    for (const kind of ["keyup", "click"]) area.addEventListener(kind, follow);
    area.focus();
    const at = offset ?? area.value.length;
    area.setSelectionRange(at, at);
    grow();
  }

  function grow() {
    const area = editing?.area;
    if (!area) return;
    area.style.height = "auto";
    area.style.height = `${area.scrollHeight + 2}px`;
  }

  /** The audio follows the cursor: the word under it is where the player goes (without starting it). */
  function follow() {
    if (!editing || squash(editing.area.value) !== squash(editing.original)) return;
    const words = transcript.segments[editing.index].words;
    const word = wordAt(words, editing.area.selectionStart);
    if (word === editing.word || !words[word]) return;
    editing.word = word;
    if (audio.paused) player.cue(words[word].start);
  }

  function close() {
    if (!editing) return;
    const { area, tools, text } = editing;
    area.remove();
    tools.remove();
    text.hidden = false;
    text.closest(".segment")?.classList.remove("editing");
    editing = null;
  }

  function cancel() {
    const index = editing?.index;
    close();
    if (index !== undefined) segmentElement(index)?.querySelector(".segment-text")?.focus({ preventScroll: true });
    say(status, "");
  }

  function keys(event) {
    const modified = event.ctrlKey || event.metaKey;
    if (event.key === "Enter" && modified) {
      event.preventDefault();
      split();
    } else if (event.key === "Enter" && !event.shiftKey && !event.altKey) {
      event.preventDefault();
      save();
    } else if (event.key === "Enter") {
      event.preventDefault(); // a passage is one paragraph: no line breaks
    } else if (event.key === "Escape") {
      event.preventDefault();
      cancel();
    } else if (event.key === "Backspace" && modified && atStart(event.target)) {
      event.preventDefault();
      if (editing.index > 0) send({ op: "merge", segment: editing.index - 1 }, { index: editing.index - 1 });
    } else if (event.key.toLowerCase() === "z" && modified && !event.shiftKey) {
      if (squash(editing.area.value) !== squash(editing.original)) return; // the field's own undo
      event.preventDefault();
      undo();
    }
  }

  async function save() {
    if (!editing) return false;
    const text = squash(editing.area.value);
    if (text === squash(editing.original)) {
      cancel();
      return true;
    }
    if (!text) {
      say(status, t("editor.empty"), "error");
      return false;
    }
    return send({ op: "text", segment: editing.index, text }, { index: editing.index });
  }

  async function split() {
    if (!editing || busy) return;
    const { index, area } = editing;
    const offset = area.selectionStart;
    if (squash(area.value) !== squash(editing.original) && !(await save())) return;
    const words = transcript.segments[index].words;
    const word = splitWordAt(words, offset);
    if (word < 1 || word >= words.length) {
      say(status, t("editor.split_where"), "error");
      if (!editing) open(index, offset);
      return;
    }
    await send({ op: "split", segment: index, word }, { index: index + 1, offset: 0 });
  }

  // --- talking to the API ------------------------------------------------------------------------

  async function send(edit, focus) {
    return change(() => request("PATCH", path("/segments"), { revision, edits: [edit] }), focus);
  }

  async function undo() {
    if (!transcript) return;
    const index = editing?.index ?? null;
    await change(() => request("POST", path("/revisions/undo"), { revision }), index === null ? null : { index });
  }

  /** One request at a time; the answer's transcript is drawn (job.js) and the cursor put back. */
  async function change(call, focus) {
    if (busy) return false;
    busy = true;
    say(status, t("editor.saving"));
    const job = path();
    if (!job) return false;
    try {
      const reply = await call();
      if (path() !== job) return false;
      revision = reply.revision;
      focusNext = focus;
      busy = false; // drawing the answer may open the next passage for editing
      close();
      onEdited(reply.transcript);
      say(status, t("editor.saved", { revision }));
      return true;
    } catch (exc) {
      if (path() !== job) return false;
      if (exc.status === 409) {
        say(status, t("editor.conflict", { detail: exc.detail }), "error");
        close();
        await reload();
      } else say(status, t("editor.failed", { detail: exc.detail }), "error");
      return false;
    } finally {
      busy = false;
      loadRevisions();
    }
  }

  async function reload() {
    const job = path();
    if (!job) return;
    try {
      const fresh = await getJson(path("/transcript?format=json"));
      if (path() === job) onEdited(fresh);
    } catch (exc) {
      say(status, t("editor.failed", { detail: exc.detail }), "error");
    }
  }

  // --- the player follows, and shows where it is -------------------------------------------------

  function showPlaying() {
    if (!transcript) return;
    const now = audio.currentTime;
    const segments = transcript.segments;
    let low = 0;
    let high = segments.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (segments[middle].start <= now) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    const element = found >= 0 && now <= segments[found].end + 0.5 ? segmentElement(found) : null;
    if (element === playing) return;
    playing?.classList.remove("playing");
    playing = element;
    element?.classList.add("playing");
  }

  for (const kind of ["timeupdate", "seeked", "play"]) audio.addEventListener(kind, showPlaying);

  body.addEventListener("click", (event) => {
    const text = event.target.closest(".segment-text");
    if (!text || !transcript) return;
    const index = Number(text.closest(".segment").dataset.index);
    const word = event.target.closest(".word");
    const offset = word ? wordOffsets(transcript.segments[index].words)[Number(word.dataset.word)]?.[0] : null;
    open(index, offset ?? null);
  });
  body.addEventListener("keydown", (event) => {
    const text = event.target.closest?.(".segment-text");
    if (text && (event.key === "Enter" || event.key === "F2")) {
      event.preventDefault();
      open(Number(text.closest(".segment").dataset.index));
    }
  });
  body.addEventListener("focusin", (event) => {
    const text = event.target.closest?.(".segment-text");
    if (!text || !transcript || quiet) return;
    const segment = transcript.segments[Number(text.closest(".segment").dataset.index)];
    if (segment && audio.paused) player.cue(segment.start);
  });
  document.addEventListener("keydown", (event) => {
    if (!transcript || typing(event.target) || event.shiftKey) return;
    if (event.key.toLowerCase() === "z" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      undo();
    }
  });
  undoButton.addEventListener("click", undo);

  return {
    /** The transcript was drawn in body: make it editable (speakers: transcript.js speakerTable). */
    attach(drawn, table) {
      transcript = drawn;
      speakers = table;
      revision = drawn.model?.revision ?? 0; // absent as assemble wrote it
      editing = null;
      playing = null;
      decorate();
      showPlaying();
      $("#editor-help").hidden = false;
      loadRevisions();
      const focus = focusNext;
      focusNext = null;
      if (focus && transcript.segments.length) {
        const index = Math.min(focus.index, transcript.segments.length - 1);
        if (focus.offset !== undefined) open(index, focus.offset);
        else {
          quiet = true;
          segmentElement(index)?.querySelector(".segment-text")?.focus({ preventScroll: true });
          quiet = false;
        }
      }
    },
    /** No transcript (yet): nothing to edit. */
    detach() {
      transcript = null;
      editing = null;
      listed = null;
      box.hidden = true;
      $("#editor-help").hidden = true;
      say(status, "");
    },
  };
}
