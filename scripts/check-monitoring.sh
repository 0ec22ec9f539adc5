#!/usr/bin/env bash
# Checks the Prometheus alert rules and runs their unit tests with promtool (also the rule
# files of the monitoring exercise in scenarios/monitoring/ and the test of its reference
# solution), then checks that every SPIRE and probe metric name used by the rules and the
# Grafana dashboard appears in the scrapes recorded from a live SPIRE and probe
# (fixtures/metrics/*.prom), and that the dashboard is valid JSON. Prints promtool's output; exits non-zero when any step fails or
# promtool is missing.
#
# Usage: scripts/check-monitoring.sh   (PROMTOOL=/path/to/promtool to pick another binary)
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
rules="$root/monitoring/prometheus/alerts.yml"
tests="$root/monitoring/prometheus/alerts_test.yml"
exercise="$root/scenarios/monitoring"
dashboard="$root/monitoring/grafana/dashboards/spire.json"
scrapes="$root/fixtures/metrics"
promtool=${PROMTOOL:-promtool}

if ! command -v "$promtool" >/dev/null; then
  echo "check-monitoring: promtool not found; install Debian's 'prometheus' package" >&2
  exit 1
fi
"$promtool" --version 2>&1 | head -n 1

status=0
echo "== promtool check rules"
"$promtool" check rules "$rules" || status=1
echo "== promtool test rules"
# promtool resolves rule_files relative to the test file's directory.
(cd "$(dirname "$tests")" && "$promtool" test rules "$(basename "$tests")") || status=1
echo "== promtool on the monitoring exercise's rule files"
for file in "$exercise"/*.yml; do
  case "$file" in
    *_test.yml) (cd "$exercise" && "$promtool" test rules "$(basename "$file")") || status=1 ;;
    *) "$promtool" check rules "$file" || status=1 ;;
  esac
done

echo "== SPIRE and probe metric names in rules and dashboard, against $scrapes/*.prom"
# Recording-rule names (level:metric:operation) contain SPIRE-like parts; drop them first.
names=$(sed -E 's/[a-z_]+:[a-z0-9_]+:[a-z0-9_]+//g' "$rules" "$dashboard" \
  | grep -oE '(spire_(agent|server)|spirelab_probe)_[a-z0-9_]+' | sort -u)
for name in $names; do
  if grep -qE "^$name[{ ]" "$scrapes"/*.prom; then
    echo "  ok      $name"
  else
    echo "  MISSING $name (not in any recorded scrape)"
    status=1
  fi
done

echo "== dashboard JSON"
if python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$dashboard"; then
  echo "  ok      $(basename "$dashboard")"
else
  status=1
fi

if [ "$status" -eq 0 ]; then
  echo "check-monitoring: rules valid, unit tests passed, metric names recorded"
else
  echo "check-monitoring: FAILED" >&2
fi
exit "$status"
