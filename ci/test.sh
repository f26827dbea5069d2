#!/usr/bin/env bash
# The README's test command: installs what is missing, then builds and runs
#   default  every ctest test: unit, suites, tools, reports in headless Chromium, benchmark
#            smoke runs, and the real-kernel VM tests (label vm: Linux 6.12 null_blk, NVMe ZNS
#            and scsi_debug ZBC inside a throwaway QEMU 10 guest)
#   asan     AddressSanitizer + UBSan on every test but the VM, browser and benchmark ones
#   tsan     ThreadSanitizer on the concurrency tests (label concurrency)
#   fuzz     each libFuzzer target for a bounded time (clang-14, label fuzz)
# ZBL_TEST_PRESETS="default asan" ci/test.sh runs a subset. ci/test.sh --full also registers the
# long VM judges (-DZBL_VM_FULL=ON, label vm-full: fio's t/zbd on zbl-ublk on one and on every
# geometry, zbl-diff through zbl-ublk, the errno cell table, generated qemu-io scripts on the
# kernel devices, the zbl-ublk speed run, zbl-diff and parity on Linux 6.1: hours under TCG).
set -euo pipefail
full=OFF
[ "${1:-}" != --full ] || full=ON
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ci/deps.sh
jobs=$(nproc)
presets=${ZBL_TEST_PRESETS:-"default asan tsan fuzz"}
# Builds of several clones share ccache entries (paths are rewritten relative to the clone).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
status=0
summary=()

run_preset() {
  local preset=$1 targets=$2; shift 2
  echo "== zbl: building preset '$preset'"
  cmake --preset "$preset" "$@" >/dev/null
  if [ -n "$targets" ]; then
    # shellcheck disable=SC2086
    cmake --build --preset "$preset" -j "$jobs" --target $targets
  else
    cmake --build --preset "$preset" -j "$jobs"
  fi
  echo "== zbl: testing preset '$preset'"
  local log; log=$(mktemp)
  local args=(--preset "$preset" -j "$jobs" --timeout 900)
  case $preset in
    default) ;;
    # The sanitizers judge zbl's code; tests that mostly run other programs (qemu-io, clang-tidy,
    # a PostgreSQL server) stay in the default preset.
    asan) args+=(-LE "vm|browser|bench|qemu-io-diff|lint|postgres") ;;
    tsan) args+=(-L 'concurrency') ;;
    fuzz) args+=(-L 'fuzz') ;;
  esac
  if ctest "${args[@]}" 2>&1 | tee "$log"; then :; else status=1; fi
  summary+=("$preset: $(grep -E 'tests passed|tests failed' "$log" | tail -n 1)")
  rm -f "$log"
}

for p in $presets; do
  case $p in
    default) run_preset default "" -DZBL_VM_FULL=$full ;;
    asan) run_preset asan "" -DZBL_BUILD_BENCH=OFF -DZBL_BUILD_REPORTS=OFF ;;
    tsan) run_preset tsan "" -DZBL_BUILD_BENCH=OFF -DZBL_BUILD_REPORTS=OFF -DZBL_BUILD_TOOLS=OFF ;;
    fuzz) run_preset fuzz "options_fuzz device_fuzz zblio_fuzz reports_fuzz" ;;
    *) echo "zbl: unknown preset '$p'" >&2; exit 2 ;;
  esac
done
echo "== zbl: summary"
printf '%s\n' "${summary[@]}"
exit $status
