#!/usr/bin/env bash
# `deno check` of every tracked TypeScript file: sources, tests, bench/ and deploy-tests/ (Node files included:
# deno.json resolves their npm imports from node_modules). lint/fixtures/ is deliberately bad code for the lint tests.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.ts' ':!:lint/fixtures/**' | xargs -0 node_modules/.bin/deno check --quiet
