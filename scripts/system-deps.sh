#!/usr/bin/env bash
# Installs the Debian packages Aodio needs when they are missing: ffmpeg (always), espeak-ng (with --speech,
# to regenerate test audio and the bench recording), chromium (with --browser, for the web page's test;
# best effort: without it that test is skipped and says why), buildah and debootstrap (with --images,
# where no Docker engine or podman answers: `make images`). Idempotent and quiet when all is there.
set -euo pipefail
need=(ffmpeg)
[[ "${1:-}" == "--speech" ]] && need+=(espeak-ng)
if [[ "${1:-}" == "--images" ]] && ! docker info >/dev/null 2>&1 && ! podman info >/dev/null 2>&1; then
  need+=(buildah debootstrap)
fi
if [[ "${1:-}" == "--browser" ]] && ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser test" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
      || echo "could not install chromium: the browser test will be skipped" >&2
  else
    echo "chromium is missing (Debian/Ubuntu: sudo apt-get install chromium): the browser test will be skipped" >&2
  fi
fi
missing=()
for tool in "${need[@]}"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
command -v ffprobe >/dev/null 2>&1 || { [[ " ${missing[*]-} " == *" ffmpeg "* ]] || missing+=(ffmpeg); }
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing: ${missing[*]}. Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and retry." >&2
  exit 1
fi
