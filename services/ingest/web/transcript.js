// The transcript: one colour per speaker, every word a seek target; the speaker-name form.

import { h } from "./dom.js";
import { clock } from "./format.js";
import { t } from "./i18n.js";

// Distinct on white and on the dark theme's cards; the 9th speaker reuses the 1st colour.
const PALETTE = ["#2f6fd6", "#c2410c", "#15803d", "#9333ea", "#be123c", "#0e7490", "#a16207", "#4d7c0f"];

/**
 * Speaker labels and colours. The transcript carries the names already applied, so the label of
 * a word's speaker is found back through the job's speaker_names (label -> name; names are unique).
 */
export function speakerTable(transcript, speakerNames) {
  const labelOfName = Object.fromEntries(Object.entries(speakerNames).map(([label, name]) => [name, label]));
  const labelOf = (speaker) => labelOfName[speaker] ?? speaker;
  const labels = [...new Set([...transcript.speakers.map(labelOf), ...Object.keys(speakerNames)])];
  const colour = new Map(
    labels.map((label, index) => {
      const number = /(\d+)$/.exec(label);
      return [label, PALETTE[(number ? Number(number[1]) - 1 : index) % PALETTE.length]];
    }),
  );
  return { labels, labelOf, colour: (label) => colour.get(label) ?? "var(--line)", nameOf: (label) => speakerNames[label] ?? label };
}

/** A word's text keeps Whisper's leading space; the space stays outside the clickable element. */
function wordNodes(words) {
  const nodes = [];
  for (const word of words) {
    const text = word.text.trimStart();
    if (!text) continue;
    if (text.length !== word.text.length && nodes.length) nodes.push(" ");
    nodes.push(
      h("span", { class: "word", dataset: { start: String(word.start), end: String(word.end) } }, text.trimEnd()),
    );
  }
  return nodes;
}

function seekButton(start) {
  return h(
    "button",
    { type: "button", class: "seek", dataset: { start: String(start) }, "aria-label": t("transcript.seek", { time: clock(start) }) },
    clock(start),
  );
}

export function renderTranscript(body, transcript, speakers) {
  body.lang = transcript.language || "";
  body.classList.remove("partial");
  if (!transcript.segments.length) {
    body.replaceChildren(h("p", { class: "hint" }, t("transcript.empty")));
    return;
  }
  body.replaceChildren(
    ...transcript.segments.map((segment) => {
      const label = segment.speaker ? speakers.labelOf(segment.speaker) : null;
      return h(
        "div",
        {
          class: "segment",
          dataset: { speaker: label || "" },
          "data-testid": "segment",
          style: label ? { "--spk": speakers.colour(label) } : null,
        },
        h(
          "div",
          { class: "segment-head" },
          label
            ? h(
                "button",
                {
                  type: "button",
                  class: "speaker-name",
                  dataset: { label },
                  "data-testid": "segment-speaker",
                  title: t("speakers.edit", { name: segment.speaker }),
                },
                segment.speaker,
              )
            : null,
          seekButton(segment.start),
        ),
        h("p", { class: "segment-text" }, wordNodes(segment.words)),
      );
    }),
  );
}

export function renderPartial(body, partial) {
  body.lang = partial.language || "";
  body.classList.add("partial");
  body.replaceChildren(
    h(
      "div",
      { class: "segment", "data-testid": "partial-segment" },
      h("p", { class: "segment-text" }, wordNodes(partial.words)),
    ),
  );
}

/** One input per speaker label, prefilled with its name; the caller saves the whole map. */
export function renderSpeakerFields(container, speakers) {
  container.replaceChildren(
    ...speakers.labels.map((label) =>
      h(
        "div",
        { class: "speaker-field", style: { "--spk": speakers.colour(label) } },
        h("label", { for: `speaker-${label}` }, t("speakers.name_for", { label })),
        h("input", {
          id: `speaker-${label}`,
          type: "text",
          maxlength: "80",
          autocomplete: "off",
          value: speakers.nameOf(label),
          placeholder: label,
          dataset: { label },
          "data-testid": `speaker-input-${label}`,
        }),
      ),
    ),
  );
}

/** The map to PUT: every label whose field holds a name other than the label itself. */
export function speakerMap(container) {
  const names = {};
  for (const input of container.querySelectorAll("input[data-label]")) {
    const name = input.value.trim().replace(/\s+/g, " ");
    if (name && name !== input.dataset.label) names[input.dataset.label] = name;
  }
  return names;
}
