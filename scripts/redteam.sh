#!/usr/bin/env bash
# make redteam: starts a local server (its own schema of the test database), runs
# `livecheck redteam` against it and writes the table into docs/REDTEAM.md.
# Knobs: REDTEAM_SCENARIOS (all), REDTEAM_RUNS (20), REDTEAM_CHALLENGES (4 "challenge now"
# presses per interview), REDTEAM_PARALLEL (1), REDTEAM_DOC (docs/REDTEAM.md; empty: none),
# REDTEAM_OUT (a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/livecheck}
SCEN=${REDTEAM_SCENARIOS:-all}
RUNS=${REDTEAM_RUNS:-20}
CHAL=${REDTEAM_CHALLENGES:-4}
PAR=${REDTEAM_PARALLEL:-1}
DOC=${REDTEAM_DOC-docs/REDTEAM.md}
OUT=${REDTEAM_OUT:-$(mktemp -d /tmp/livecheck-redteam.XXXXXX)}
DBURL=${REDTEAM_DATABASE_URL:-${TEST_DATABASE_URL:-postgres://livecheck:livecheck@127.0.0.1:5432/livecheck_test?sslmode=disable}}
mkdir -p "$OUT"
log() { printf '==> %s\n' "$*" >&2; }

[ -x "$BIN" ] || { log "build $BIN first (make build)"; exit 1; }
export OPENCV_FOR_THREADS_NUM=${OPENCV_FOR_THREADS_NUM:-1}

schema="redteam_$(date +%s)_$$"
psql "$DBURL" -qc "CREATE SCHEMA $schema" >/dev/null
sep='?'; case "$DBURL" in *\?*) sep='&';; esac
SERVER_DB="${DBURL}${sep}search_path=${schema}"

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 500))); do
    (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}
PORT=$(free_port 18180)
TOKEN="redteam-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  psql "$DBURL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The planned challenges never come due (warm-up 1 h): the tool presses "challenge now",
# which issues the plan's items in order (no kind twice in a row), then random ones.
env LIVECHECK_DATABASE_URL="$SERVER_DB" LIVECHECK_LISTEN="127.0.0.1:$PORT" LIVECHECK_BASE_URL="http://127.0.0.1:$PORT" \
  LIVECHECK_API_TOKEN="$TOKEN" LIVECHECK_LIMIT_JOIN=1000000 LIVECHECK_LIMIT_WS=1000000 LIVECHECK_ICE_LOOPBACK=true \
  LIVECHECK_CHALLENGES=10 LIVECHECK_INTERVIEW_LENGTH=2h LIVECHECK_CHALLENGE_WARMUP=1h LIVECHECK_LOG_LEVEL=warn \
  "$BIN" serve >>"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited; see $OUT/server.log"; tail -20 "$OUT/server.log" >&2; exit 1; }
  sleep 0.2
done

log "red team: scenarios $SCEN, $RUNS run(s) each, $CHAL challenges per interview, $PAR at once; output in $OUT"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
"$BIN" redteam --server "http://127.0.0.1:$PORT" --token "$TOKEN" --scenarios "$SCEN" --runs "$RUNS" \
  --challenges "$CHAL" --parallel "$PAR" --json "$OUT/redteam.json" | tee "$OUT/table.md"
load1=$(cut -d' ' -f1-3 /proc/loadavg)

if [ -n "$DOC" ] && [ -f "$DOC" ]; then
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  {
    echo "<!-- redteam:start (written by scripts/redteam.sh) -->"
    echo "Latest run: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, $(nproc) cores; $RUNS interview(s) per row,"
    echo "$CHAL \"challenge now\" presses per interview (plus automatic reissues of inconclusive ones)."
    echo "Load average at the start / end: $load0 / $load1 (the machine is shared: a loaded machine starves the analysis)."
    echo
    cat "$OUT/table.md"
    echo "<!-- redteam:end -->"
  } >"$OUT/doc-block.md"
  awk -v block="$OUT/doc-block.md" '
    /<!-- redteam:start/ { while ((getline line < block) > 0) print line; skip = 1; next }
    /<!-- redteam:end -->/ { skip = 0; next }
    !skip { print }' "$DOC" >"$OUT/doc.md" && cp "$OUT/doc.md" "$DOC"
  log "table written to $DOC"
fi
