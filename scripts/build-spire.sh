#!/usr/bin/env bash
# Builds the pinned SPIRE server and agent from the tools module in tools/spire and caches
# the binaries. Prints the directory that holds them. A second run with the same go.sum is
# a no-op.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
module="$root/tools/spire"
version=$(awk '$1 == "github.com/spiffe/spire" { print $2; exit }' "$module/go.mod")
version=${version#v}
cache=${SPIRELAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spirelab}
out="$cache/spire-$version/bin"
stamp="$out/.inputs.sha256"
flags=(-trimpath -ldflags "-s -w")
want=$( (cat "$module/go.sum"; echo "${flags[*]}") | sha256sum | cut -d' ' -f1)

if [ -x "$out/spire-server" ] && [ -x "$out/spire-agent" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-spire: Go is not installed; install Go 1.25 or newer" >&2; exit 1; }
mkdir -p "$out"
echo "build-spire: building SPIRE $version server and agent (a few minutes the first time)" >&2
cd "$module"
for component in spire-server spire-agent; do
  go build "${flags[@]}" -o "$out/$component.tmp" "github.com/spiffe/spire/cmd/$component"
  mv "$out/$component.tmp" "$out/$component"
done
echo "$want" > "$stamp"
echo "$out"
