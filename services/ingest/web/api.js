// The HTTP API: the key, JSON calls, links that carry the key, and the upload with progress.

const KEY_STORAGE = "aodio.apiKey";

export class ApiError extends Error {
  /** status 0 means the server could not be reached; a 401 also tells the page to ask for a key. */
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
    if (status === 401) window.dispatchEvent(new CustomEvent("aodio:unauthorized", { detail }));
  }
}

export function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** A URL for places that cannot send headers (EventSource, <audio>, download links). */
export function keyedUrl(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const key = apiKey();
  if (key) url.searchParams.set("access_token", key);
  return url.pathname + url.search;
}

/** The API's {"detail"} as one sentence (FastAPI's validation errors come as a list). */
export function detailOf(body, status) {
  const detail = body && typeof body === "object" ? body.detail : null;
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail)) {
    return detail.map((item) => [(item.loc || []).slice(1).join("."), item.msg].filter(Boolean).join(": ")).join("; ");
  }
  return `HTTP ${status}`;
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status alone says it
  }
  return new ApiError(response.status, detailOf(body, response.status));
}

/** fetch with the key; JSON in and out; throws ApiError with the server's detail. */
export async function request(method, path, body) {
  const init = { method, headers: { Accept: "application/json", ...authHeaders() } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (exc) {
    throw new ApiError(0, exc.message);
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  return response.json();
}

export const getJson = (path) => request("GET", path);

/**
 * POST /v1/jobs with a progress callback; returns {promise, abort}.
 * The promise resolves with the 202 body, or rejects with ApiError (status 0: network, -1: aborted).
 */
export function uploadRecording(file, fields, onProgress) {
  const xhr = new XMLHttpRequest();
  const form = new FormData();
  form.append("file", file, file.name);
  for (const [name, value] of Object.entries(fields)) {
    if (value !== "" && value !== null && value !== undefined) form.append(name, value);
  }
  const promise = new Promise((resolve, reject) => {
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.upload.onload = () => onProgress(file.size, file.size);
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, detailOf(body, xhr.status)));
    };
    xhr.onerror = () => reject(new ApiError(0, "network"));
    xhr.onabort = () => reject(new ApiError(-1, "aborted"));
  });
  xhr.open("POST", "/v1/jobs");
  for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.send(form);
  return { promise, abort: () => xhr.abort() };
}
