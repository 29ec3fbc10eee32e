#!/usr/bin/env bash
# make redteam: starts a local server (its own schema of the test database), runs
# `livecheck redteam` against it and writes the table into docs/REDTEAM.md.
# Knobs: REDTEAM_SCENARIOS (all), REDTEAM_RUNS (20), REDTEAM_CHALLENGES (5 "challenge now"
# presses per interview), REDTEAM_PARALLEL (1), REDTEAM_DOC (docs/REDTEAM.md; empty: none),
# REDTEAM_OUT (a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/livecheck}
SCEN=${REDTEAM_SCENARIOS:-all}
RUNS=${REDTEAM_RUNS:-20}
CHAL=${REDTEAM_CHALLENGES:-5}
PAR=${REDTEAM_PARALLEL:-1}
DOC=${REDTEAM_DOC-docs/REDTEAM.md}
OUT=${REDTEAM_OUT:-$(mktemp -d /tmp/livecheck-redteam.XXXXXX)}
DBURL=${REDTEAM_DATABASE_URL:-${TEST_DATABASE_URL:-postgres://livecheck:livecheck@127.0.0.1:5432/livecheck_test?sslmode=disable}}
mkdir -p "$OUT"
. scripts/lib/server.sh

[ -x "$BIN" ] || { log "build $BIN first (make build)"; exit 1; }
export OPENCV_FOR_THREADS_NUM=${OPENCV_FOR_THREADS_NUM:-1}

server_init redteam
PORT=$(free_port 18180)
# The planned challenges never come due (warm-up 1 h): the tool presses "challenge now",
# which issues the plan's items in order (no kind twice in a row), then random ones.
server_start "$OUT/server.log" LIVECHECK_CHALLENGES=10 LIVECHECK_INTERVIEW_LENGTH=2h LIVECHECK_CHALLENGE_WARMUP=1h

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
  doc_block redteam "$DOC" "$OUT/doc-block.md"
  log "table written to $DOC"
fi
