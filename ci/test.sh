#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every ctest test in the
# default build (unit, suites, tools, reports, the real-kernel VM), then the AddressSanitizer +
# UBSan build on every test and the ThreadSanitizer build on the concurrency tests.
#   ci/test.sh            everything
#   ZBL_TEST_PRESETS="default" ci/test.sh   only the given presets
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ci/deps.sh
jobs=$(nproc)
presets=${ZBL_TEST_PRESETS:-"default asan tsan"}
status=0
summary=()

run_preset() {
  local preset=$1; shift
  echo "== zbl: building preset '$preset'"
  cmake --preset "$preset" "$@" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== zbl: testing preset '$preset'"
  local log; log=$(mktemp)
  local args=(--preset "$preset" -j "$jobs" --timeout 900)
  case $preset in
    asan) args+=(-LE 'vm|browser|bench') ;;          # every test but the VM and the browser
    tsan) args+=(-L 'concurrency') ;;                # the concurrency tests
  esac
  if ctest "${args[@]}" 2>&1 | tee "$log"; then :; else status=1; fi
  summary+=("$preset: $(grep -E 'tests passed|tests failed' "$log" | tail -n 1)")
  rm -f "$log"
}

for p in $presets; do
  case $p in
    default) run_preset default ;;
    asan) run_preset asan -DZBL_BUILD_BENCH=OFF -DZBL_BUILD_REPORTS=OFF ;;
    tsan) run_preset tsan -DZBL_BUILD_BENCH=OFF -DZBL_BUILD_REPORTS=OFF -DZBL_BUILD_TOOLS=OFF ;;
  esac
done
echo "== zbl: summary"
printf '%s\n' "${summary[@]}"
exit $status
