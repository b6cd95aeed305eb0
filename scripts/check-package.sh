#!/usr/bin/env bash
# Packs Kiln with its prebuilt binaries and installs the tarball offline into a clean project
# whose PATH holds only node and npm (no compiler, make or python), then trains a model there
# and runs the CLI. Run from the repository root after `npm run build` (and build:cuda).
set -euo pipefail
root=$(pwd)
export npm_config_nodedir=/usr

rm -rf prebuilds
npm run prebuild --silent
if [ -f build-cuda/Release/kiln_cuda.node ]; then
  mkdir -p prebuilds/linux-x64/cuda
  cp build-cuda/Release/kiln_cuda.node prebuilds/linux-x64/cuda/
fi
if ls native/dist/build/Release/*.node >/dev/null 2>&1; then  # the communication addons (npm run build:dist)
  mkdir -p prebuilds/linux-x64/dist
  cp native/dist/build/Release/*.node prebuilds/linux-x64/dist/
fi
tarball="$root/$(npm pack --silent | tail -n 1)"
echo "tarball: $(basename "$tarball") $(du -k "$tarball" | cut -f1) KiB"
tar -tzf "$tarball" | grep '\.node$' | sed 's/^/  /'

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/app"
# npm runs install scripts through sh; everything else a build would need stays off PATH
for tool in node npm npx sh; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
cd "$work/app"
echo '{ "name": "kiln-install-check", "version": "1.0.0", "private": true }' > package.json
PATH="$work/bin" npm install --offline --no-audit --no-fund "$tarball"
for tool in g++ cc make python3; do
  if PATH="$work/bin" command -v "$tool" >/dev/null; then echo "unexpected: $tool on PATH"; exit 1; fi
done

PATH="$work/bin" npx kiln info
cp "$root/scripts/install-smoke.mjs" smoke.mjs
PATH="$work/bin" node smoke.mjs
PATH="$work/bin" node -e "const k = require('kiln'); if (k.tensor([1, 2]).sum().item() !== 3) process.exit(1); console.log('require(kiln) works')"
PATH="$work/bin" npx kiln bench --quick --json "$work/bench.json"
test -s "$work/bench.json"
echo "package check passed"
