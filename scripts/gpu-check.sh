#!/usr/bin/env bash
# Loads the real models (scripts/models.sh) on this machine's GPU, if it has one, and prints tokens/s (SmolLM2
# on node-llama-cpp's CUDA binary) and sentences/s (all-MiniLM-L6-v2 on onnxruntime's CUDA provider, when it is
# installed) beside the CPU figures from the same benches. Says "no GPU" and exits 0 where there is none.
# Usage: scripts/gpu-check.sh [TOKENS=128] [DOCS=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
TOKENS=${1:-128}
DOCS=${2:-2000}
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no GPU (nvidia-smi finds no device); CPU figures: bench/llm.ts and bench/embeddings.ts"
  exit 0
fi
nvidia-smi -L
bash scripts/models.sh
# CUDA runtime libraries from PyPI wheels, when they were installed into the setup venv (docs/deploy.md).
for lib in .state/venv/lib/python3*/site-packages/nvidia/*/lib; do
  [ -d "$lib" ] && LD_LIBRARY_PATH="$PWD/$lib:${LD_LIBRARY_PATH:-}"
done
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
export MODEL_DIR=$PWD/.state/models WEFT_EMBEDDING_MODEL=all-MiniLM-L6-v2
export BENCH_AI_DATABASE_URL=${BENCH_AI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/weft_bench_gpu_check}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for device in cuda cpu; do
  WEFT_MODEL_DEVICE=$device node --import tsx bench/llm.ts SmolLM2-135M-Instruct "$TOKENS" 3 > "$out/llm-$device.json"
  WEFT_MODEL_DEVICE=$device node --import tsx bench/embeddings.ts "$DOCS" > "$out/emb-$device.json"
done
node -e '
const fs = require("fs");
const read = (f) => { const t = fs.readFileSync(f, "utf8"); return JSON.parse(t.slice(t.indexOf("{"))); };
const dir = process.argv[1];
console.log("device  llm device  tokens/s (llm_call / raw)  TTFT ms  embedding device  sentences/s (b1 / b32)  ingest docs/s");
for (const d of ["cuda", "cpu"]) {
  const l = read(`${dir}/llm-${d}.json`), e = read(`${dir}/emb-${d}.json`);
  console.log([d.padEnd(7), String(l.device).padEnd(11), `${l.llm_call_tokens_per_s.toFixed(1)} / ${l.raw_library_tokens_per_s.toFixed(1)}`.padEnd(26),
    String(Math.round(l.ttft_ms.weft)).padEnd(8), String(e.device).padEnd(17),
    `${e.batch1_sentences_per_s.toFixed(0)} / ${e.batch32_sentences_per_s.toFixed(0)}`.padEnd(23), e.ingest.documents_per_s].join(" "));
}' "$out"
