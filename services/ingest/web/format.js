// Numbers a person reads: sizes, clock times, durations, dates, language names.

import { lang } from "./i18n.js";

export function bytes(count) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = count;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toLocaleString(lang(), { maximumFractionDigits: digits })} ${units[unit]}`;
}

/** 3725.4 -> "1:02:05", 65 -> "1:05": a position in the recording. */
export function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** 3725 -> "1 h 02 min", 95 -> "1 min 35 s", 12 -> "12 s": a length of time. */
export function duration(seconds) {
  const total = Math.max(0, Math.round(seconds || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m) return s ? `${m} min ${s} s` : `${m} min`;
  return `${s} s`;
}

export function dateTime(epochSeconds) {
  if (!epochSeconds) return "";
  return new Intl.DateTimeFormat(lang(), { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(epochSeconds * 1000),
  );
}

export function languageName(code) {
  if (!code) return "";
  try {
    const name = new Intl.DisplayNames([lang()], { type: "language" }).of(code);
    return name ? name.charAt(0).toLocaleUpperCase(lang()) + name.slice(1) : code;
  } catch {
    return code;
  }
}

export function percent(fraction) {
  return Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100);
}
