#!/usr/bin/env bash
# README command 1: set everything up and run Weft's main job on its embedded defaults — a Temporal dev
# server (state kept in .state/temporal/weft.db), PostgreSQL database `weft`, the API (Deno) and a worker
# (Node) — then execute the demo workflow through the API and keep the stack up until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export PORT=${PORT:-8000}
TEMPORAL_PORT=${TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-8233}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/weft}
export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}
# The dev server's HTTP API (scripts/temporal-dev.sh puts it at the gRPC port + 10), which the API calls.
export TEMPORAL_HTTP_ADDRESS=${TEMPORAL_HTTP_ADDRESS:-127.0.0.1:$((TEMPORAL_PORT + 10))}
# The API serves the dev UI under its own origin at /temporal/ (api/temporal-ui-proxy.ts): the UI's codec calls
# are then same-origin and carry the browser's Weft session, so runs show decoded with no UI setting.
export TEMPORAL_UI_PROXY_URL=${TEMPORAL_UI_PROXY_URL-http://127.0.0.1:$TEMPORAL_UI_PORT}
export TEMPORAL_UI_PUBLIC_PATH=${TEMPORAL_UI_PUBLIC_PATH-/temporal}
export TEMPORAL_UI_URL=${TEMPORAL_UI_URL:-http://localhost:$PORT/temporal}
export WORKFLOW_BUNDLE_PATH=.state/workflow-bundle.js
# Real models by default (scripts/models.sh installs them): all-MiniLM-L6-v2 embeds, SmolLM2-135M-Instruct writes.
export MODEL_DIR=${MODEL_DIR:-$PWD/.state/models}
export WEFT_EMBEDDING_MODEL=${WEFT_EMBEDDING_MODEL:-all-MiniLM-L6-v2}
export WEFT_LLM_MODEL=${WEFT_LLM_MODEL:-SmolLM2-135M-Instruct}
# The demo's weather service listens on loopback, which http_request nodes may not reach unless allowed.
export WEFT_EGRESS_ALLOW=${WEFT_EGRESS_ALLOW-127.0.0.1}
# Refused to nodes whatever WEFT_EGRESS_ALLOW says (Weft's own control plane, activities/http/control-plane.ts).
export WEFT_API_ADDRESS=${WEFT_API_ADDRESS:-127.0.0.1:$PORT} TEMPORAL_UI_ADDRESS=${TEMPORAL_UI_ADDRESS:-127.0.0.1:$TEMPORAL_UI_PORT}
LOGS=${WEFT_LOG_DIR:-.state/logs}
mkdir -p "$LOGS"
# A per-machine signing key, made once and kept in the git-ignored state folder.
if [ -z "${JWT_SECRET:-}" ]; then
  [ -s .state/jwt-secret ] || node -e 'console.log(require("crypto").randomBytes(48).toString("base64url"))' > .state/jwt-secret
  JWT_SECRET=$(cat .state/jwt-secret)
  export JWT_SECRET
fi

# Likewise the master key that encrypts secrets at rest (32 random bytes, base64).
if [ -z "${WEFT_SECRETS_KEY:-}" ]; then
  [ -s .state/secrets-key ] || node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))' > .state/secrets-key
  WEFT_SECRETS_KEY=$(cat .state/secrets-key)
  export WEFT_SECRETS_KEY
fi

# And the key that encrypts every payload Weft puts into Temporal (the UI decodes through /api/codec).
if [ -z "${WEFT_PAYLOAD_KEY:-}" ]; then
  [ -s .state/payload-key ] || node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))' > .state/payload-key
  WEFT_PAYLOAD_KEY=$(cat .state/payload-key)
  export WEFT_PAYLOAD_KEY
fi

if curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
  echo "run: something already answers on port $PORT (another Weft?). Stop it or set PORT." >&2
  exit 1
fi

pids=()
temporal_pid=""
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "run: stopping Weft"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  if [ -n "$temporal_pid" ]; then kill "$temporal_pid" 2>/dev/null || true; fi
}
# The first Ctrl-C or SIGTERM ends the script: the signal traps exit, and exiting runs cleanup once. (A trap
# that only cleaned up would return into the wait loop below and keep the script alive.)
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export TEMPORAL_UI_CODEC_ENDPOINT=${TEMPORAL_UI_CODEC_ENDPOINT:-http://localhost:$PORT/api/codec}
said=$(bash scripts/temporal-dev.sh "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "${TEMPORAL_DB_FILE:-.state/temporal/weft.db}")
echo "$said"
if [[ "$said" == *"dev server ready"* ]]; then temporal_pid=$(cat ".state/temporal/server-$TEMPORAL_PORT.pid"); fi

node_modules/.bin/tsx db/migrate-cli.ts "$DATABASE_URL"

node --import tsx worker/main.ts > "$LOGS/worker.log" 2>&1 &
pids+=($!)
# The binary itself, not the npm shim, so stopping it stops Deno.
node_modules/deno/deno run --allow-net --allow-env --allow-read --allow-ffi --allow-sys api/main.ts > "$LOGS/api.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
  if curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && grep -q '"worker started"' "$LOGS/worker.log"; then break; fi
  sleep 0.5
done
if ! curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null; then
  echo "run: the API did not become ready; see $LOGS/api.log" >&2
  tail -20 "$LOGS/api.log" >&2
  exit 1
fi
echo "run: API on http://localhost:$PORT (logs $LOGS/api.log), worker logs $LOGS/worker.log"

node --import tsx scripts/demo.ts &
pids+=($!)
wait "${pids[-1]}" || true
# The demo's weather service stays up with the stack; wait for Ctrl-C (or SIGTERM), which the trap handles.
while true; do
  sleep 3600 &
  pids+=($!)
  wait $!
done
