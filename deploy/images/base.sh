#!/usr/bin/env bash
# A stand-in for python:3.11-slim-bookworm where that image cannot be pulled (no registry access):
# Debian bookworm (debootstrap, minbase) with Python 3.11, venv and the CA bundle, committed as an
# OCI image with buildah. Usage: deploy/images/base.sh [IMAGE_NAME]   (needs root and debootstrap)
set -euo pipefail
name="${1:-localhost/aodio-python:3.11-bookworm}"
mirror="${AODIO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if buildah inspect --type image "$name" >/dev/null 2>&1; then
  echo "base: $name exists"; exit 0
fi
command -v debootstrap >/dev/null || { echo "base: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

root="$(mktemp -d /var/tmp/aodio-base.XXXXXX)"
ctr=""
cleanup() { [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1; rm -rf "$root"; }
trap cleanup EXIT

echo "base: debootstrap bookworm into $root"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$root/rootfs" "$mirror" >"$root/debootstrap.log" 2>&1 \
  || { tail -20 "$root/debootstrap.log" >&2; exit 1; }
r="$root/rootfs"
# what python:3.11-slim has: `python` on PATH; what it lacks: docs, man pages, apt lists, caches
ln -sf /usr/bin/python3 "$r/usr/local/bin/python"
rm -rf "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/var/lib/apt/lists/* \
  "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/var/log/*.log
find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +

ctr="$(buildah from scratch)"
buildah copy --quiet "$ctr" "$r" / >/dev/null
buildah config --env LANG=C.UTF-8 \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --cmd python3 --label org.opencontainers.image.description="aodio stand-in for python:3.11-slim-bookworm" \
  "$ctr"
buildah commit --quiet --format docker "$ctr" "$name" >/dev/null
echo "base: $name ($(buildah images --format '{{.Size}}' "$name" 2>/dev/null | head -1))"
