#!/usr/bin/env bash
# The container image's build steps (the root Dockerfile RUNs this in its builder stage; the test
# cli/test/image.test.ts runs it from a clean copy of the tracked tree). Usage:
#
#   scripts/build-image.sh <srcdir> <outdir>
#
# <srcdir> is a source tree (a clone, or the Docker build context); it is only read: the build
# happens in a temporary copy, so running this in a working tree leaves its node_modules alone.
# <outdir> (must not exist, or be empty) receives the runtime tree that the image copies to /app:
#
#   package.json, package-lock.json   the root, its workspaces cut to the ones `replicant` runs
#   <workspace>/package.json, dist/   cli and the packages it depends on, compiled (no tests)
#   cli/bin/replicant.js              the CLI's entry point
#   node_modules/                     production dependencies only (workspaces are symlinks)
#   bin/replicant                     -> ../cli/bin/replicant.js: put <outdir>/bin on PATH
#
# Invariants: the install is `npm ci` from the committed lock (it fails when the lock is out of
# sync); no dependency's install script runs (none is needed: esbuild and protobufjs work without
# theirs); dev-only packages (typescript, eslint, esbuild, playwright-core, @types/*) are not in
# the output; uWebSockets.js keeps its native binaries for this platform and architecture (it ships
# them for every platform; the others are dropped). Nothing in the output is written at run time:
# `replicant dev` writes only under DATA_DIR.
#
# NPM_CI_FLAGS adds flags to `npm ci` (the test passes --prefer-offline to use npm's local cache).
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 <srcdir> <outdir>" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
out=$2
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  echo "build-image: $out exists and is not empty" >&2
  exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

stage=$(mktemp -d "${TMPDIR:-/tmp}/replicant-image-build.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# 1. A copy of the sources without build output or installed modules (a working tree may have them).
tar -C "$src" --exclude=./.git --exclude=node_modules --exclude=dist --exclude='*.tsbuildinfo' \
  --exclude=./data --exclude=./.tmp -cf - . | tar -C "$stage" -xf -
cd "$stage"

# 2. Install exactly the lock, then build every workspace (the CLI's tests type-check against the
#    test kit, so the whole tree builds; only the runtime part is kept below).
# shellcheck disable=SC2086 # NPM_CI_FLAGS is a list of flags
npm ci --ignore-scripts --no-audit --no-fund ${NPM_CI_FLAGS:-}
npm run build

# 3. Cut the root to the workspaces `replicant` needs at run time (cli and the @replicant/*
#    packages in the "dependencies" of those, transitively) and prune to production dependencies:
#    npm removes the other workspaces' links and every package only they or devDependencies need.
# shellcheck disable=SC2016 # JavaScript, not shell
runtime=$(node --input-type=module -e '
import { readFileSync, writeFileSync } from "node:fs";
const read = (p) => JSON.parse(readFileSync(p, "utf8"));
const root = read("package.json");
const dirOf = new Map(root.workspaces.map((w) => [read(`${w}/package.json`).name, w]));
const keep = new Set();
const visit = (w) => {
  if (keep.has(w)) return;
  keep.add(w);
  for (const dep of Object.keys(read(`${w}/package.json`).dependencies ?? {})) if (dirOf.has(dep)) visit(dirOf.get(dep));
};
visit("cli");
root.workspaces = root.workspaces.filter((w) => keep.has(w));
delete root.devDependencies;
delete root.scripts;
writeFileSync("package.json", JSON.stringify(root, null, 2) + "\n");
console.log(root.workspaces.join(" "));
')
npm prune --omit=dev --ignore-scripts --no-audit --no-fund
# protobufjs lists @types/node (and so undici-types) as a dependency for its declarations; they are
# type declarations only, nothing loads them at run time.
rm -rf node_modules/@types node_modules/undici-types
find node_modules -mindepth 1 -maxdepth 1 -type d -name '@*' -empty -delete

# 4. uWebSockets.js: keep the binaries of this platform and architecture (every Node ABI).
uws=node_modules/uWebSockets.js/dist/bin
target=$(node -p 'process.platform + "_" + process.arch')
find "$uws" -name 'uws_*.node' ! -name "uws_${target}_*.node" -delete
if [ ! -f "$uws/uws_${target}_$(node -p process.versions.modules).node" ]; then
  echo "build-image: uWebSockets.js has no binary for ${target}, Node ABI $(node -p process.versions.modules)" >&2
  exit 1
fi

# 5. Lay out the runtime tree.
cp package.json package-lock.json "$out/"
cp -a node_modules "$out/"
for w in $runtime; do
  mkdir -p "$out/$w"
  cp "$w/package.json" "$out/$w/"
  [ -d "$w/bin" ] && cp -a "$w/bin" "$out/$w/"
  tar -C "$w" --exclude=dist/test --exclude='*.tsbuildinfo' -cf - dist | tar -C "$out/$w" -xf -
done
mkdir -p "$out/bin"
ln -s ../cli/bin/replicant.js "$out/bin/replicant"
chmod -R a+rX,go-w "$out"

# 6. The tree loads on its own: the CLI answers --help and uWebSockets.js's binary loads.
cd "$out"
bin/replicant --help >/dev/null
node --input-type=module -e 'const u = await import("uWebSockets.js"); if (typeof u.App !== "function") process.exit(1);'
echo "build-image: runtime tree in $out ($(du -sh "$out" | cut -f1); workspaces: $runtime)"
