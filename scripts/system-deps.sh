#!/usr/bin/env bash
# Installs the Debian packages Aodio needs when they are missing: ffmpeg (always), espeak-ng (with --speech,
# to regenerate test audio and the bench recording). Idempotent and quiet when everything is there.
set -euo pipefail
need=(ffmpeg)
[[ "${1:-}" == "--speech" ]] && need+=(espeak-ng)
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
