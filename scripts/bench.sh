#!/usr/bin/env bash
# make bench: the Go micro-benchmarks (-benchmem) of the media, vision, voice,
# metrics and loadgen packages, then the capacity runs: for every N a local
# server (fresh PostgreSQL schema, its own ports) is started twice, once with the
# full pipeline and once decode-only (LIVECHECK_ANALYSIS=decode, the floor), and
# `livecheck loadgen` simulates N interviews against it. One table comes out; it
# is also written with the date into docs/BENCH.md. See docs/BENCH.md.
#
# Environment (all optional):
#   BENCH_N="1 5 10 20 30 40"   interview counts
#   BENCH_DURATION=20s          measurement window per run (after connect + 3 s warm-up)
#   BENCH_CHALLENGE_EVERY=40s   a challenge per interview this often (0: none)
#   BENCH_VIEWERS=0             receive-only viewers per interview
#   BENCH_GO=1                  run the Go benchmarks (0: skip)
#   BENCH_FLOOR=1               also run the decode-only floor (0: skip)
#   BENCH_LAYERS=0              VP8 temporal layers of the senders: 2 (L1T2) or 3 (L1T3) (libvpx, with the
#                               descriptor's TID; the server then skips the top layer between challenges);
#                               0: the ffmpeg video without layers, as before. The floor stays the same
#                               measurement (LIVECHECK_ANALYSIS=decode: every frame the server decodes, no vision)
#   BENCH_PROFILE=0             1: save a 10 s CPU profile of every full run (go tool pprof)
#   BENCH_DOC=docs/BENCH.md     where the table goes ("" : nowhere)
#   BENCH_OUT=<temp dir>        run reports, logs and profiles
#   BENCH_DATABASE_URL          database for the schema (default: TEST_DATABASE_URL / livecheck_test)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BIN=${BIN:-bin/livecheck}
NS=${BENCH_N:-"1 5 10 20 30 40"}
DUR=${BENCH_DURATION:-20s}
LAYERS=${BENCH_LAYERS:-0}
EVERY=${BENCH_CHALLENGE_EVERY:-40s}
VIEWERS=${BENCH_VIEWERS:-0}
DOC=${BENCH_DOC-docs/BENCH.md}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/livecheck-bench.XXXXXX)}
DBURL=${BENCH_DATABASE_URL:-${TEST_DATABASE_URL:-postgres://livecheck:livecheck@127.0.0.1:5432/livecheck_test?sslmode=disable}}
mkdir -p "$OUT"
. scripts/lib/server.sh

[ -x "$BIN" ] || { log "build $BIN first (make build)"; exit 1; }
export OPENCV_FOR_THREADS_NUM=${OPENCV_FOR_THREADS_NUM:-1}

if [ "${BENCH_GO:-1}" = 1 ]; then
  log "Go benchmarks (media, vision, faceid, analysis, voice, metrics, loadgen)"
  # (libpng warns about a test image's sRGB profile in the middle of benchmark lines: cut out)
  $GO test -run '^$' -bench . -benchmem -count=1 ./internal/media ./internal/vision ./internal/faceid ./internal/analysis ./internal/voice ./internal/metrics ./internal/loadgen 2>&1 |
    sed -u 's/libpng warning: iCCP: known incorrect sRGB profile//' |
    awk '/^Benchmark[^ \t]*[ \t]*$/ { printf "%s", $0; next } /^[ \t]*$/ { next } { print; fflush() }' | tee "$OUT/gobench.txt"
fi

# A private schema for the servers of this run, dropped at the end.
server_init bench
PORT=$(free_port 18080)
MPORT=$(free_port 19090)
start_server() { # MODE
  server_start "$OUT/server-$1.log" LIVECHECK_ANALYSIS="$1" LIVECHECK_MAX_LIVE=1000 LIVECHECK_CHALLENGE_LOCK_AFTER=0
}

RUNS="$OUT/runs.jsonl"
: >"$RUNS"
modes="full"
[ "${BENCH_FLOOR:-1}" = 1 ] && modes="full decode"
log "capacity runs: N in [$NS], window $DUR, challenge every $EVERY, $VIEWERS viewer(s), $LAYERS temporal layer(s); reports in $OUT"
for n in $NS; do
  for mode in $modes; do
    log "N=$n $mode (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    start_server "$mode"
    if [ "${BENCH_PROFILE:-0}" = 1 ] && [ "$mode" = full ]; then
      # 10 s of CPU profile from the middle of the window (connect + warm-up take a few seconds).
      (sleep 8; curl -fs "http://127.0.0.1:$MPORT/debug/pprof/profile?seconds=10" -o "$OUT/cpu-$n.pprof") &
    fi
    if ! "$BIN" loadgen --server "http://127.0.0.1:$PORT" --token "$TOKEN" --interviews "$n" --duration "$DUR" \
        --challenge-every "$EVERY" --viewers "$VIEWERS" --layers "$LAYERS" --metrics "http://127.0.0.1:$MPORT/metrics" \
        --label "$mode" --json "$RUNS" >"$OUT/loadgen-$n-$mode.txt"; then
      log "loadgen N=$n $mode reported a failure (see $OUT/loadgen-$n-$mode.txt); continuing"
    fi
    sed -n '1,9p' "$OUT/loadgen-$n-$mode.txt" >&2
    server_stop
  done
done
wait

TABLE="$OUT/table.md"
"$BIN" loadgen table "$RUNS" >"$TABLE"
echo
echo "Capacity ($(date -u +%Y-%m-%d), $(nproc) cores, window $DUR, challenge every $EVERY per interview):"
cat "$TABLE"

if [ -n "$DOC" ] && [ -f "$DOC" ]; then
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
  {
    echo "<!-- bench:start (written by scripts/bench.sh) -->"
    echo "Latest run: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($cpu)."
    echo "Window $DUR per run after connect + 3 s warm-up, one challenge per interview every $EVERY (API), $VIEWERS viewer(s);"
    echo "640x480 VP8 at 15 fps in (temporal layers: ${LAYERS}); LIVECHECK_ANALYSIS_FPS=${LIVECHECK_ANALYSIS_FPS:-5.5} between challenges. Load average when the runs ended: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    cat "$TABLE"
    if [ -s "$OUT/gobench.txt" ]; then
      echo
      echo "Go benchmarks of the same run (wall time per op on the shared machine; \`-benchmem\`):"
      echo
      echo '```'
      grep '^Benchmark' "$OUT/gobench.txt" | sed 's/[[:space:]]\+/ /g'
      echo '```'
    fi
    echo "<!-- bench:end -->"
  } >"$OUT/doc-block.md"
  doc_block bench "$DOC" "$OUT/doc-block.md"
  log "table written to $DOC"
fi
