#!/usr/bin/env bash
# README command 2: set everything up, then format, lint and type checks and every test against the real
# stack (PostgreSQL, a Temporal dev server, real worker and API processes). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/setup.sh; then echo "setup failed"; echo "0 passed, 1 failed"; exit 1; fi
mkdir -p .state/logs
deno=node_modules/.bin/deno
checks_passed=0
checks_failed=0
check() {
  local name=$1
  shift
  if "$@" > ".state/logs/check-$name.log" 2>&1; then
    echo "check $name: ok"
    checks_passed=$((checks_passed + 1))
  else
    echo "check $name: FAILED"
    cat ".state/logs/check-$name.log"
    checks_failed=$((checks_failed + 1))
  fi
}
check format "$deno" fmt --check
check lint "$deno" lint
check types bash scripts/check-types.sh

rm -f .state/vitest.json
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=.state/vitest.json
vitest_rc=$?
read -r passed failed < <(node -e '
  try {
    const r = JSON.parse(require("fs").readFileSync(".state/vitest.json", "utf8"));
    console.log(r.numPassedTests, r.numFailedTests + (r.numTotalTestSuites && !r.success && r.numFailedTests === 0 ? 1 : 0));
  } catch { console.log(0, 1); }')
# The fuzz stage: Schemathesis against a real API, worker and Temporal of its own (scripts/fuzz.sh); fails on a 5xx.
check fuzz bash scripts/fuzz.sh
passed=$((passed + checks_passed))
failed=$((failed + checks_failed))
if [ "$vitest_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
