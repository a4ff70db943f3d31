# syntax=docker/dockerfile:1.7
# Weft's images, one target each (commands in docs/deploy.md):
#   api         the HTTP API on Deno (the binary from the npm package `deno`), dependencies cached at build time
#   worker      the Temporal worker on Node 20, workflow code bundled ahead of time
#   worker-gpu  the same worker on a CUDA runtime, onnxruntime-node with its CUDA execution provider and
#               node-llama-cpp's prebuilt CUDA binaries (npm @node-llama-cpp/linux-x64-cuda, in the lockfile)
#   migrations  applies db/migrations and exits (the k8s Job / Helm hook)
# Every target runs as the unprivileged user 10001 and writes nowhere but /tmp.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=debian:bookworm-slim
# onnxruntime-node 1.2x/1.30's CUDA provider is built for CUDA 12 and cuDNN 9.
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04

# ---- every npm package at its locked version. `npm ci` refuses this lockfile (it omits other platforms'
# optional binaries), so `npm install` as in scripts/setup.sh; no install scripts: the native binaries
# used (deno, bcrypt, Temporal's core bridge, esbuild) ship inside their packages.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --ignore-scripts --no-audit --no-fund --loglevel=error && npm cache clean --force

# ---- the source (.dockerignore keeps state, tests, benchmarks and models out)
FROM deps AS source
COPY . .

# ---- api: Deno's own binary (not the npm shim, which would sit between the kernel's SIGTERM and Deno),
# and its module cache filled now so the read-only container never writes one.
FROM source AS api-build
ENV DENO_DIR=/app/.deno DENO_NO_UPDATE_CHECK=1
RUN cp node_modules/@deno/linux-*-glibc/deno /usr/local/bin/deno \
  && rm -rf node_modules/@deno node_modules/deno \
  && deno cache api/main.ts

FROM ${RUNTIME_IMAGE} AS api
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 10001 weft \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin weft
WORKDIR /app
COPY --from=api-build /usr/local/bin/deno /usr/local/bin/deno
COPY --from=api-build /app /app
ENV DENO_DIR=/app/.deno DENO_NO_UPDATE_CHECK=1 PORT=8000
USER 10001:10001
EXPOSE 8000
CMD ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "--allow-ffi", "--allow-sys", "api/main.ts"]

# ---- worker: workflow code bundled ahead of time, so a pod starts polling in about a second; faiss-node's
# addon compiled against Debian's faiss (scripts/faiss-node/build.sh, the same build as on a developer's machine;
# cmake-js takes Node's headers from the image instead of downloading them).
FROM source AS worker-build
RUN apt-get update \
  && apt-get install -y --no-install-recommends cmake g++ make libfaiss-dev libopenblas-dev \
  && rm -rf /var/lib/apt/lists/*
RUN if [ -d node_modules/faiss-node ] && [ -f scripts/faiss-node/build.sh ]; then \
      npm_config_nodedir=/usr/local bash scripts/faiss-node/build.sh; \
    fi \
  && node_modules/.bin/tsx worker/build-bundle.ts /app/workflow-bundle.js \
  && rm -rf .state node_modules/@deno node_modules/deno \
    node_modules/@node-llama-cpp/linux-arm64 node_modules/@node-llama-cpp/linux-armv7l \
    node_modules/@node-llama-cpp/linux-x64-vulkan

# The CPU worker runs llama.cpp's CPU binary (@node-llama-cpp/linux-x64): the CUDA ones (~540 MB) stay out.
FROM worker-build AS worker-cpu-build
RUN rm -rf node_modules/@node-llama-cpp/linux-x64-cuda node_modules/@node-llama-cpp/linux-x64-cuda-ext

FROM ${NODE_IMAGE} AS worker
# Run-time libraries of the faiss addon (faiss itself is linked in statically).
RUN apt-get update \
  && apt-get install -y --no-install-recommends libgomp1 libblas3 liblapack3 \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 10001 weft \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin weft
WORKDIR /app
COPY --from=worker-cpu-build /app /app
ENV WORKFLOW_BUNDLE_PATH=/app/workflow-bundle.js WORKER_METRICS_PORT=9464
USER 10001:10001
EXPOSE 9464
# SIGTERM drains the worker (running activities get WORKER_SHUTDOWN_GRACE_SECONDS) before it exits.
CMD ["node", "--import", "tsx", "worker/main.ts"]

# ---- migrations: the worker's files, another command.
FROM worker AS migrations
CMD ["node", "--import", "tsx", "db/migrate-cli.ts"]

# ---- worker-gpu: onnxruntime-node ships CPU binaries only; its install script (skipped above by
# --ignore-scripts) fetches the CUDA 12 execution provider when asked, so it is run here with that flag.
# linux/amd64 only: the CUDA provider is published for linux x64.
FROM worker-build AS worker-gpu-build
ARG ONNXRUNTIME_NODE_VERSION=1.30.0
RUN if [ ! -d node_modules/onnxruntime-node ]; then \
      npm install --no-save --ignore-scripts --no-audit --no-fund "onnxruntime-node@${ONNXRUNTIME_NODE_VERSION}"; \
    fi \
  && cd node_modules/onnxruntime-node \
  && ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node script/install.js \
  && test -f bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
  && npm cache clean --force

# The CUDA runtime and cuBLAS that llama.cpp's CUDA binary and onnxruntime's provider load come from the base
# image (NVIDIA's CUDA 12 runtime; or PyPI's nvidia-cuda-runtime-cu12 / nvidia-cublas-cu12 wheels on
# LD_LIBRARY_PATH, see docs/deploy.md). WEFT_MODEL_DEVICE=auto picks CUDA; each model logs the device it loaded on.
FROM ${CUDA_IMAGE} AS worker-gpu
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates libgomp1 libblas3 liblapack3 \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 10001 weft \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin weft
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=worker-gpu-build /app /app
ENV WORKFLOW_BUNDLE_PATH=/app/workflow-bundle.js WORKER_METRICS_PORT=9464 \
  NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 10001:10001
EXPOSE 9464
CMD ["node", "--import", "tsx", "worker/main.ts"]
