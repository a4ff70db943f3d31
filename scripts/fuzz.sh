#!/usr/bin/env bash
# The fuzz stage: Schemathesis (pinned in requirements-fuzz.txt, installed by scripts/setup.sh into
# .state/fuzz-venv) against a real API, worker and Temporal dev server of its own. Fails on any 5xx.
# WEFT_FUZZ_TEMPORAL_PORT (7399) and WEFT_FUZZ_DATABASE_URL (…/weft_fuzz) keep it apart from other stacks;
# WEFT_FUZZ_SECONDS (100) is Schemathesis's time budget.
set -euo pipefail
cd "$(dirname "$0")/.."
export WEFT_TEST_TEMPORAL_PORT=${WEFT_FUZZ_TEMPORAL_PORT:-7399}
export TEST_DATABASE_URL=${WEFT_FUZZ_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/weft_fuzz}
exec node --import tsx scripts/fuzz/run.ts
