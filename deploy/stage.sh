#!/usr/bin/env bash
# Stages the image's build context in deploy/.context (or the folder given: compose:up stages into a
# folder of its own, so that runs side by side do not remove each other's): the built workspace's runtime files (each
# package's package.json, dist without tests and type declarations, bin shims, the proto files, the
# kubelet's images, the generated schemas) and node_modules of production dependencies only,
# installed by pnpm from its store (offline, from the lockfile). Run `pnpm build` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$root/deploy/.context"}
stage="$out/k8ts"

if [[ ! -f "$root/services/store/dist/main.js" ]]; then
  echo "stage: the workspace is not built (run pnpm build first)" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$stage"
cd "$root"
cp package.json pnpm-lock.yaml pnpm-workspace.yaml "$stage/"
cp -r proto "$stage/proto"
# The projects the lockfile knows (a package just added but not yet locked is left out, so the
# frozen install below still matches the lockfile).
mapfile -t projects < <(sed -n '/^importers:/,/^[a-z]/p' pnpm-lock.yaml | sed -nE 's/^  ([a-z][^:]*):( \{\})?$/\1/p')
for project in "${projects[@]}"; do
  mkdir -p "$stage/$project"
  cp "$project/package.json" "$stage/$project/"
  for part in dist bin images generated; do
    [[ -e "$project/$part" ]] && cp -r "$project/$part" "$stage/$project/$part"
  done
done
find "$stage" \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.d.ts' -o -name '*.d.ts.map' -o -name '*.tsbuildinfo' \) -delete
# Production dependencies only, from pnpm's store; no network when the store has them all.
(cd "$stage" && pnpm install --prod --frozen-lockfile --ignore-scripts --prefer-offline --config.confirmModulesPurge=false --reporter=silent)
# The commands on the image's PATH: each service's bin shim, and the health check.
mkdir -p "$stage/bin"
for shim in "$stage"/services/*/bin/*.js; do
  [[ -e $shim ]] || continue
  name=$(basename "$shim" .js)
  ln -s "../${shim#"$stage"/}" "$stage/bin/$name"
done
cp "$root/deploy/healthcheck.sh" "$stage/bin/k8ts-healthcheck"
cp "$root/deploy/node-entrypoint.sh" "$stage/bin/k8ts-node-entrypoint"
chmod +x "$stage"/bin/* "$stage"/services/*/bin/*.js
cp "$root/deploy/Dockerfile" "$out/Dockerfile"
echo "stage: $(du -sh "$stage" | cut -f1) in $stage"
