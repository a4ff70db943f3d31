#!/usr/bin/env bash
# Starts the Temporal dev server (persistent SQLite file under .state/) unless one already answers.
# Usage: scripts/temporal-dev.sh PORT UI_PORT DB_FILE|"" [HTTP_PORT] — an empty DB_FILE keeps state in memory.
# The HTTP API, which the Weft API calls, listens on HTTP_PORT: by default PORT + 10 (7233 → 7243), the port the
# API's TEMPORAL_HTTP_ADDRESS defaults to.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-7233}; ui_port=${2-8233}; db_file=${3-.state/temporal/weft.db}; http_port=${4:-$((port + 10))}
temporal=.state/venv/bin/temporal
# Weft's search attributes (core/search-attributes.ts): the start flags register them in a new database
# only, so an existing database file gets them here (creating one that exists is refused; that is fine).
ensure_search_attributes() {
  for name in WeftWorkflowId WeftOwnerId WeftStatus WeftWorkspaceId; do
    "$temporal" operator search-attribute create --address "127.0.0.1:$port" --name "$name" --type Keyword \
      >/dev/null 2>&1 || true
  done
}
http_ready() { curl -fs "http://127.0.0.1:$http_port/api/v1/system-info" >/dev/null 2>&1; }
if "$temporal" operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1; then
  ensure_search_attributes
  if ! http_ready; then
    echo "temporal: the server on 127.0.0.1:$port has no HTTP API on :$http_port (started without --http-port?);" \
      "the Weft API needs it: stop that server or set TEMPORAL_HTTP_ADDRESS" >&2
  fi
  echo "temporal: already serving on 127.0.0.1:$port"
  exit 0
fi
mkdir -p .state/temporal
# Weft's search attributes (core/search-attributes.ts), so runs can be filtered in the UI.
args=(server start-dev --ip 127.0.0.1 --port "$port" --http-port "$http_port" --log-level warn
  --dynamic-config-value frontend.enableUpdateWorkflowExecution=true
  --search-attribute WeftWorkflowId=Keyword --search-attribute WeftOwnerId=Keyword
  --search-attribute WeftStatus=Keyword --search-attribute WeftWorkspaceId=Keyword)
if [ -n "$ui_port" ]; then args+=(--ui-port "$ui_port"); else args+=(--headless --ui-port "$((port + 1000))"); fi
if [ -n "$db_file" ]; then args+=(--db-filename "$db_file"); fi
# The UI decodes Weft's encrypted payloads through the API's codec server when it is given one.
if [ -n "${TEMPORAL_UI_CODEC_ENDPOINT:-}" ]; then args+=(--ui-codec-endpoint "$TEMPORAL_UI_CODEC_ENDPOINT"); fi
# Served under this path so the API can put it on its own origin (TEMPORAL_UI_PROXY_URL, api/temporal-ui-proxy.ts).
if [ -n "${TEMPORAL_UI_PUBLIC_PATH:-}" ]; then args+=(--ui-public-path "$TEMPORAL_UI_PUBLIC_PATH"); fi
nohup "$temporal" "${args[@]}" > ".state/temporal/server-$port.log" 2>&1 &
echo $! > ".state/temporal/server-$port.pid"
for _ in $(seq 1 120); do
  if "$temporal" operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1 && http_ready; then
    ensure_search_attributes
    echo "temporal: dev server ready on 127.0.0.1:$port, HTTP API on :$http_port${ui_port:+ (UI http://localhost:$ui_port)}"
    exit 0
  fi
  sleep 0.5
done
echo "temporal: dev server did not start; see .state/temporal/server-$port.log" >&2
exit 1
