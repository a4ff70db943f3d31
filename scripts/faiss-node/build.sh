#!/usr/bin/env bash
# Builds faiss-node's native addon against Debian's libfaiss-dev (npm installs faiss-node with
# --ignore-scripts: its own install script downloads from GitHub). Skipped when the addon exists and its
# inputs (these files, faiss-node's version, the installed faiss) are unchanged.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=scripts/faiss-node
pkg=node_modules/faiss-node
addon=$pkg/build/Release/faiss-node.node
sum=$(cat "$here/CMakeLists.txt" "$here/faiss-idx-t.h" "$here/build.sh" "$pkg/package.json" \
  <(dpkg-query -W -f='${Version}' libfaiss-dev 2>/dev/null) | sha256sum | cut -d' ' -f1)
if [ -f "$addon" ] && [ "$(cat .state/faiss-node.sum 2>/dev/null)" = "$sum" ]; then exit 0; fi
echo "setup: building faiss-node against libfaiss-dev"
mkdir -p "$pkg/deps/faiss" .state
cp "$here/CMakeLists.txt" "$here/faiss-idx-t.h" "$pkg/deps/faiss/"
log=.state/logs/faiss-node-build.log
mkdir -p .state/logs
# The post-build step that copies libopenblas next to the addon fails on Debian; the addon is built by then
# and links the system libraries, so only the addon's existence decides success.
(cd "$pkg" && ../.bin/cmake-js compile --CDCMAKE_BUILD_TYPE=Release) > "$log" 2>&1 || true
if [ ! -f "$addon" ] || ! node -e "require('./$pkg').IndexFlatIP" > /dev/null 2>>"$log"; then
  echo "setup: faiss-node build failed; see $log" >&2
  exit 1
fi
echo "$sum" > .state/faiss-node.sum
