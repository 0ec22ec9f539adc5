#!/usr/bin/env bash
# Prints spire-agent's CPU time over a window with and without the clockshift supervisor:
# two labs side by side, one whose agents run under clockshift (the default) and one whose
# agents run spire-agent directly. A figure printer, not a pass/fail test.
#
#   scripts/bench-agent-cpu.sh [SECONDS]        (default 180)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
spirelab=${SPIRELAB:-$root/target/release/spirelab}
window=${1:-180}
work=$(mktemp -d)
labs=(cpu-on cpu-off)

cleanup() {
  for lab in "${labs[@]}"; do "$spirelab" --lab "$lab" down >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A scenario whose only purpose is its lab: agents without the supervisor.
cat >"$work/no-supervisor.yaml" <<'YAML'
name: no-supervisor
summary: the standard lab with agents started without clockshift (benchmark only)
lab: { clock_supervisor: false }
break: []
broken: { within: 1s, checks: [] }
solve: []
grade: [svid: { workload: workload-1 }]
YAML

# Total CPU nanoseconds a container has used, from its cgroup (v1 or v2).
cpu_ns() {
  local id
  id=$(docker inspect --format '{{.Id}}' "$1")
  if [ -r "/sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage" ]; then
    cat "/sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage"
  else
    awk '$1 == "usage_usec" { print $2 * 1000 }' "/sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat"
  fi
}

"$spirelab" --lab cpu-on up >/dev/null
"$spirelab" --lab cpu-off up --scenario "$work/no-supervisor.yaml" >/dev/null

declare -A before
for lab in "${labs[@]}"; do
  for agent in agent-1 agent-2; do before[$lab/$agent]=$(cpu_ns "spirelab-$lab-$agent"); done
done
echo "measuring agent CPU time over ${window}s (both labs run side by side)..." >&2
sleep "$window"

printf '%-28s %14s %14s\n' "agent" "CPU seconds" "CPU % of core"
for lab in "${labs[@]}"; do
  for agent in agent-1 agent-2; do
    used=$(( $(cpu_ns "spirelab-$lab-$agent") - ${before[$lab/$agent]} ))
    label="$agent ($([ "$lab" = cpu-on ] && echo "under clockshift" || echo "direct"))"
    awk -v l="$label" -v ns="$used" -v w="$window" \
      'BEGIN { printf "%-28s %14.2f %13.2f%%\n", l, ns / 1e9, 100 * ns / 1e9 / w }'
  done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; SPIRE 1.13.3; SVID TTL 60s"
