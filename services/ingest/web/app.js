// The page: language, API key, and the three parts (upload, job list, open job) wired together.

import { apiKey, setApiKey } from "./api.js";
import { $, say } from "./dom.js";
import { initGlossary } from "./glossary.js";
import { lang, setLang, t, translatePage } from "./i18n.js";
import { initJob } from "./job.js";
import { initJobs } from "./jobs.js";
import { initPeople } from "./people.js";
import { initUpload } from "./upload.js";

const jobFromHash = () => new URLSearchParams(location.hash.slice(1)).get("job");

function showJob(id) {
  if (jobFromHash() !== id) location.hash = id ? `job=${encodeURIComponent(id)}` : "";
}

const people = initPeople();
const job = initJob({ onState: (state) => jobs.update(state), onPeople: () => people.refresh() });
const jobs = initJobs({
  onOpen: showJob,
  onDeleted: (id) => {
    if (job.current() === id) showJob(null);
  },
});
const upload = initUpload({ onUploaded: (id) => (jobs.refresh(), showJob(id)) });
const glossary = initGlossary();

function route() {
  const id = jobFromHash();
  jobs.setActive(id);
  if (!id) job.close();
  else if (id !== job.current()) {
    job.open(id);
    // Keyboard and screen-reader users land on the job; on a phone it sits below the list.
    $("#job").focus({ preventScroll: true });
    if (matchMedia("(max-width: 900px)").matches) $("#job").scrollIntoView();
  }
}

// Language: FR / EN buttons; everything drawn by script is drawn again.

function applyLanguage() {
  translatePage();
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang()));
  }
}

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => {
    setLang(button.dataset.lang);
    applyLanguage();
    upload.render();
    glossary.render();
    jobs.render();
    people.render();
    job.render();
  });
}

// API key: asked for when the server answers 401, kept in localStorage.

const keyPanel = $("#key-panel");
const keyToggle = $("#key-toggle");
const keyInput = $("#key-input");
const keyMessage = $("#key-message");

function showKeyPanel(message, kind = "info") {
  keyPanel.hidden = false;
  keyToggle.setAttribute("aria-expanded", "true");
  keyInput.value = apiKey();
  say(keyMessage, message, kind);
  keyInput.focus();
}

function hideKeyPanel() {
  keyPanel.hidden = true;
  keyToggle.setAttribute("aria-expanded", "false");
}

function keyChanged() {
  jobs.refresh();
  glossary.refresh();
  people.refresh();
  const id = job.current();
  if (id) job.open(id); // the event stream and the audio need the new key in their URLs
}

window.addEventListener("aodio:unauthorized", () => {
  if (!keyPanel.hidden && document.activeElement === keyInput) return;
  showKeyPanel(apiKey() ? t("key.refused") : t("key.needed"), "error");
});

keyToggle.addEventListener("click", () => (keyPanel.hidden ? showKeyPanel("") : hideKeyPanel()));
$("#key-close").addEventListener("click", hideKeyPanel);
$("#key-forget").addEventListener("click", () => {
  setApiKey("");
  keyInput.value = "";
  say(keyMessage, t("key.forgotten"));
  keyChanged();
});
$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  say(keyMessage, t("key.saved"));
  hideKeyPanel();
  keyChanged();
});

window.addEventListener("hashchange", route);
applyLanguage();
jobs.refresh();
people.refresh();
route();
