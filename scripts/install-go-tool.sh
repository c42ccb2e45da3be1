#!/usr/bin/env bash
# Installs a pinned Go tool from the Go module proxy into the cache, only when the cached binary is
# missing or was built from another module version; prints the binary's path on stdout.
#
#   scripts/install-go-tool.sh <name>                 # a pin from scripts/go-tools.txt (e.g. centrifugo)
#   scripts/install-go-tool.sh <package>@<version>    # any package, e.g. helm.sh/helm/v3/cmd/helm@v3.22.0
#   scripts/install-go-tool.sh ./tools/lincheck       # a Go module in this repo (its go.mod/go.sum pin
#                                                     # the dependencies), e.g. the pin `lincheck`
#
# Cache: ${REPLICANT_CACHE:-$HOME/.cache/replicant}/bin. The version check reads the binary's build
# info (`go version -m`: its `path` and `mod` lines), because `go install` leaves the tools' own
# --version strings unset. Concurrent callers serialize on a lock file; a first build can take
# minutes, later calls return at once. Exit 1 with one clear line when Go is missing or too old.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
arg="${1:?usage: install-go-tool.sh <name from go-tools.txt | package@version>}"

if [[ "$arg" == *@* || "$arg" == ./* ]]; then
  spec="$arg"
else
  spec="$(awk -v n="$arg" '$1 == n { print $2 }' "$here/go-tools.txt")"
  [ -n "$spec" ] || { echo "install-go-tool: no pin named '$arg' in $here/go-tools.txt" >&2; exit 1; }
fi
cache="${REPLICANT_CACHE:-$HOME/.cache/replicant}"

# the machine image's Go, when PATH lacks it
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi

# --- a module directory of this repo: built with `go build` (dependencies pinned by its go.sum),
# rebuilt only when its sources change (their sha256 is kept next to the binary)
if [[ "$spec" == ./* ]]; then
  dir="$(cd "$here/.." && cd "$spec" && pwd)"
  [ -f "$dir/go.mod" ] || { echo "install-go-tool: $spec has no go.mod" >&2; exit 1; }
  bin="$cache/bin/$(basename "$dir")"
  sum="$(cd "$dir" && cat go.mod go.sum $(ls ./*.go | sort) | sha256sum | cut -d' ' -f1)"
  if [ -x "$bin" ] && [ "$(cat "$bin.src-sha256" 2>/dev/null)" = "$sum" ]; then echo "$bin"; exit 0; fi
  command -v go >/dev/null 2>&1 || { echo "install-go-tool: 'go' is not on PATH: install Go to build $spec" >&2; exit 1; }
  mkdir -p "$cache/bin"
  exec 9>"$cache/bin/.install-$(basename "$dir").lock"
  flock 9
  if ! [ -x "$bin" ] || [ "$(cat "$bin.src-sha256" 2>/dev/null)" != "$sum" ]; then
    echo "install-go-tool: building $spec into $cache/bin" >&2
    (cd "$dir" && GOFLAGS=-mod=readonly go build -trimpath -o "$bin.tmp" .) >&2 || {
      echo "install-go-tool: 'go build' of $spec failed with $(go version)" >&2
      exit 1
    }
    mv "$bin.tmp" "$bin"
    echo "$sum" >"$bin.src-sha256"
  fi
  echo "$bin"
  exit 0
fi

pkg="${spec%@*}"
version="${spec##*@}"
# the binary is named after the package's last path element, a major-version suffix (/v6) skipped
name="$(basename "$pkg")"
if [[ "$name" =~ ^v[0-9]+$ ]]; then name="$(basename "$(dirname "$pkg")")"; fi
bin="$cache/bin/$name"

command -v go >/dev/null 2>&1 || {
  echo "install-go-tool: 'go' is not on PATH: install Go (e.g. apt-get install golang-go, or .ci/run) to build $spec" >&2
  exit 1
}

# true when $bin was built from $pkg at $version
is_current() {
  [ -x "$bin" ] || return 1
  local info
  info="$(go version -m "$bin" 2>/dev/null)" || return 1
  grep -qE "^[[:space:]]+path[[:space:]]+$pkg\$" <<<"$info" || return 1
  grep -qE "^[[:space:]]+mod[[:space:]]+[^[:space:]]+[[:space:]]+$version([[:space:]]|\$)" <<<"$info"
}

if is_current; then echo "$bin"; exit 0; fi

mkdir -p "$cache/bin"
exec 9>"$cache/bin/.install-$name.lock"
flock 9
if ! is_current; then # another caller may have built it while we waited
  echo "install-go-tool: building $spec into $cache/bin (first time only; can take minutes)" >&2
  if ! GOBIN="$cache/bin" go install "$spec" >&2; then
    echo "install-go-tool: 'go install $spec' failed with $(go version): the module may need a newer Go" >&2
    exit 1
  fi
  is_current || { echo "install-go-tool: $bin does not report $pkg $version after the build" >&2; exit 1; }
fi
echo "$bin"
