#!/usr/bin/env bash
# Builds a statically linked clockshift (glibc, crt-static) for the host's
# x86_64/aarch64 *-linux-gnu target and prints the binary's path on stdout.
# Cargo's own output goes to stderr.
set -euo pipefail

crate_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$crate_dir/../../target}"
target="$(rustc -vV | sed -n 's/^host: //p')"

# An explicit --target keeps the static build apart from the normal one, and
# `cargo rustc -- ...` applies crt-static to the final binary only (not to
# proc-macro crates, which cannot be built static).
cargo rustc --manifest-path "$crate_dir/Cargo.toml" --release --bin clockshift \
    --target "$target" -- -C target-feature=+crt-static >&2

bin="$CARGO_TARGET_DIR/$target/release/clockshift"
if ! file "$bin" | grep -q 'statically linked\|static-pie linked'; then
    echo "build-static.sh: $bin is not statically linked:" >&2
    file "$bin" >&2
    exit 1
fi
echo "$bin"
