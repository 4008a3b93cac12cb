// Voice profiles: the People panel (add, rename, merge, delete) and, in the open job, who each
// speaker is: the person a voice matched (with its similarity), "This is…" and "Not them".

import { request } from "./api.js";
import { $, h, say } from "./dom.js";
import { duration } from "./format.js";
import { t } from "./i18n.js";

let people = []; // the key's profiles, by name (GET /v1/people)
const personPath = (id, suffix = "") => `/v1/people/${encodeURIComponent(id)}${suffix}`;

function fillNames() {
  $("#people-names")?.replaceChildren(...people.map((person) => h("option", { value: person.name })));
}

export function initPeople() {
  const list = $("#people-list");
  const empty = $("#people-empty");
  const error = $("#people-error");
  const addName = $("#people-add-name");

  async function refresh() {
    try {
      people = (await request("GET", "/v1/people")).people;
      say(error, "");
    } catch (exc) {
      if (exc.status !== 401) say(error, t("people.load_failed", { detail: exc.detail }), "error");
    }
    render();
  }

  async function act(method, path, body) {
    try {
      await request(method, path, body);
      say(error, "");
    } catch (exc) {
      say(error, exc.detail, "error");
    }
    await refresh();
  }

  function renameForm(person) {
    const input = h("input", {
      type: "text",
      maxlength: "80",
      value: person.name,
      "aria-label": t("people.new_name", { name: person.name }),
      "data-testid": "person-name-input",
    });
    return h(
      "form",
      {
        class: "person-form",
        hidden: true,
        onsubmit: (event) => {
          event.preventDefault();
          act("PATCH", personPath(person.person_id), { name: input.value });
        },
      },
      input,
      h("button", { type: "submit", class: "small", "data-testid": "person-rename-save" }, t("people.save")),
    );
  }

  function mergeForm(person) {
    const others = people.filter((other) => other.person_id !== person.person_id);
    const select = h(
      "select",
      { "aria-label": t("people.merge_from", { name: person.name }), "data-testid": "person-merge-from" },
      ...others.map((other) => h("option", { value: other.person_id }, other.name)),
    );
    return h(
      "form",
      {
        class: "person-form",
        hidden: true,
        onsubmit: (event) => {
          event.preventDefault();
          const from = others.find((other) => other.person_id === select.value);
          if (!from || !confirm(t("people.confirm_merge", { from: from.name, into: person.name }))) return;
          act("POST", personPath(person.person_id, "/merge"), { from: from.person_id });
        },
      },
      select,
      h("button", { type: "submit", class: "small", "data-testid": "person-merge-save" }, t("people.merge_into")),
    );
  }

  function item(person) {
    const rename = renameForm(person);
    const merge = mergeForm(person);
    const toggle = (form) => () => {
      const opening = form.hidden;
      rename.hidden = merge.hidden = true;
      form.hidden = !opening;
      if (opening) form.querySelector("input, select")?.focus();
    };
    const meta = t(person.samples === 1 ? "people.samples_one" : "people.samples", {
      count: person.samples,
      speech: duration(person.speech_s),
    });
    return h(
      "li",
      { class: "person-item", dataset: { personId: person.person_id }, "data-testid": "person-item" },
      h("span", { class: "person-name", "data-testid": "person-name" }, person.name),
      h("span", { class: "hint", "data-testid": "person-meta" }, meta),
      h(
        "span",
        { class: "person-actions" },
        h("button", { type: "button", class: "ghost small", "data-testid": "person-rename", onclick: toggle(rename) }, t("people.rename")),
        people.length > 1
          ? h("button", { type: "button", class: "ghost small", "data-testid": "person-merge", onclick: toggle(merge) }, t("people.merge"))
          : null,
        h(
          "button",
          {
            type: "button",
            class: "danger small",
            "data-testid": "person-delete",
            "aria-label": t("people.delete_label", { name: person.name }),
            onclick: () => {
              if (confirm(t("people.confirm_delete", { name: person.name }))) act("DELETE", personPath(person.person_id));
            },
          },
          t("people.delete"),
        ),
      ),
      rename,
      merge,
    );
  }

  function render() {
    list.replaceChildren(...people.map(item));
    empty.hidden = people.length > 0 || !error.hidden;
    addName.placeholder = t("people.add_placeholder");
    fillNames();
  }

  $("#people-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!addName.value.trim()) return;
    await act("POST", "/v1/people", { name: addName.value });
    if (error.hidden) addName.value = "";
  });
  $("#people-refresh").addEventListener("click", refresh);

  return { refresh, render };
}

/** "Alice Martin · 0.82" for a label whose name is its identity's; "" for a name given by hand. */
function identityText(state, label) {
  const identity = (state.speaker_identities || {})[label];
  if (!identity || (state.speaker_names || {})[label] !== identity.name) return "";
  const mark = identity.confirmed ? ` · ${t("people.confirmed")}` : "";
  return `${identity.name} · ${identity.confidence.toFixed(2)}${mark}`;
}

/**
 * In each speaker field of the open job (transcript.js renderSpeakerFields): who the speaker is, a
 * "This is…" control (a known person, or a new name) and "Not them". onChanged gets the API's answer.
 */
export function renderSpeakerPeople(container, state, onChanged) {
  const speakerPath = (label) =>
    `/v1/jobs/${encodeURIComponent(state.job_id)}/speakers/${encodeURIComponent(label)}/person`;
  for (const field of container.querySelectorAll(".speaker-field")) {
    const label = field.querySelector("input[data-label]")?.dataset.label;
    if (!label) continue;
    const identity = (state.speaker_identities || {})[label];
    const shown = identityText(state, label);
    const status = h("p", { class: "message", role: "status", "data-testid": `person-status-${label}`, hidden: true });
    const who = h("input", {
      type: "text",
      maxlength: "80",
      autocomplete: "off",
      list: "people-names",
      placeholder: t("people.this_is_placeholder"),
      "aria-label": t("people.this_is_label", { label }),
      "data-testid": `person-input-${label}`,
    });
    const call = async (method, path, body) => {
      say(status, t("speakers.saving"));
      try {
        const reply = await request(method, path, body);
        say(status, "");
        onChanged(reply);
      } catch (exc) {
        say(status, t("people.failed", { detail: exc.detail }), "error");
      }
    };
    const setPerson = () => {
      const name = who.value.trim().replace(/\s+/g, " ");
      if (!name) return who.focus();
      const known = people.find((person) => person.name.toLowerCase() === name.toLowerCase());
      call("PUT", speakerPath(label), known ? { person_id: known.person_id } : { name });
    };
    who.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault(); // not the names form's submit
        setPerson();
      }
    });
    field.querySelector(".speaker-person")?.remove();
    field.append(
      h(
        "div",
        { class: "speaker-person", "data-testid": `speaker-person-${label}` },
        h("p", { class: "speaker-identity", "data-testid": `speaker-identity-${label}`, hidden: !shown }, shown),
        h(
          "div",
          { class: "speaker-person-row" },
          who,
          h("button", { type: "button", class: "small secondary", "data-testid": `person-set-${label}`, onclick: setPerson }, t("people.this_is")),
          identity
            ? h(
                "button",
                {
                  type: "button",
                  class: "ghost small",
                  "data-testid": `person-not-${label}`,
                  title: t("people.not_them_title", { name: identity.name }),
                  onclick: () => call("DELETE", `${speakerPath(label)}?person_id=${encodeURIComponent(identity.person_id)}`),
                },
                t("people.not_them"),
              )
            : null,
        ),
        status,
      ),
    );
  }
}
