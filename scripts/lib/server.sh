# Sourced by scripts/bench.sh and scripts/redteam.sh: a local livecheck server
# for a measurement run, on a PostgreSQL schema of its own (dropped at exit)
# and free local ports. The caller sets BIN, DBURL and OUT first.

log() { printf '==> %s\n' "$*" >&2; }

# free_port FROM: the first local TCP port from FROM on that nobody listens on.
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 500))); do
    (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

# server_init NAME: a fresh schema NAME_<time>_<pid> (SERVER_DB points the
# server at it), an API token (TOKEN), and the exit trap that stops the
# server and drops the schema.
server_init() {
  SERVER_SCHEMA="$1_$(date +%s)_$$"
  SERVER_PID=""
  TOKEN="$1-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  psql "$DBURL" -qc "CREATE SCHEMA $SERVER_SCHEMA" >/dev/null
  trap server_cleanup EXIT
  trap 'exit 130' INT TERM
  local sep='?'
  case "$DBURL" in *\?*) sep='&' ;; esac
  SERVER_DB="${DBURL}${sep}search_path=${SERVER_SCHEMA}"
}

# server_start LOG [NAME=VALUE ...]: `$BIN serve` on 127.0.0.1:$PORT (and its
# metrics on $MPORT when MPORT is set) with the API token, no join or
# WebSocket rate limits, loopback ICE and warnings-only logging, plus the
# settings given (later ones win); returns once it answers /readyz (and
# /metrics), exits the script when the server dies or is not ready in 60 s.
server_start() {
  local logf=$1
  shift
  local metrics=()
  [ -n "${MPORT:-}" ] && metrics=(LIVECHECK_METRICS_LISTEN="127.0.0.1:$MPORT")
  env LIVECHECK_DATABASE_URL="$SERVER_DB" LIVECHECK_LISTEN="127.0.0.1:$PORT" LIVECHECK_BASE_URL="http://127.0.0.1:$PORT" \
    LIVECHECK_API_TOKEN="$TOKEN" LIVECHECK_LIMIT_JOIN=1000000 LIVECHECK_LIMIT_WS=1000000 LIVECHECK_ICE_LOOPBACK=true \
    LIVECHECK_LOG_LEVEL=warn "${metrics[@]}" "$@" "$BIN" serve >>"$logf" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 &&
      { [ -z "${MPORT:-}" ] || curl -fs "http://127.0.0.1:$MPORT/metrics" >/dev/null 2>&1; }; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited; see $logf"; tail -20 "$logf" >&2; exit 1; }
    sleep 0.2
  done
  log "server did not become ready in 60 s; see $logf"
  exit 1
}

# server_stop: SIGINT (a graceful shutdown), SIGKILL after 20 s.
server_stop() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

server_cleanup() {
  server_stop
  psql "$DBURL" -qc "DROP SCHEMA IF EXISTS $SERVER_SCHEMA CASCADE" >/dev/null 2>&1 || true
}

# doc_block NAME DOC BLOCK: replaces the lines from `<!-- NAME:start` to
# `<!-- NAME:end -->` in DOC with the file BLOCK (which holds both markers).
doc_block() {
  awk -v block="$3" -v start="<!-- $1:start" -v end="<!-- $1:end -->" '
    index($0, start) { while ((getline line < block) > 0) print line; skip = 1; next }
    index($0, end) { skip = 0; next }
    !skip { print }' "$2" >"$3.doc" && cp "$3.doc" "$2"
}
