#!/usr/bin/env bash
# The README's main job: installs what is missing, builds the default preset, runs the
# conformance suites on every built-in configuration into results/ (GoogleTest JSON + JUnit XML
# + devices.json), prints the suite x configuration matrix, and renders the HTML report when
# zbl-report was built. Exits non-zero when any test failed.
#   ZBL_RESULTS_DIR=dir ci/main.sh     results elsewhere (default: results/)
#   ZBL_DEVICE='driver=host_device,filename=/dev/sdX' ci/main.sh   also your device
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ci/deps.sh
# Builds of several clones share ccache entries (paths are rewritten relative to the clone).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
# ZBL_CMAKE_ARGS: extra configure options (e.g. -DZBL_BUILD_BENCH=OFF).
# shellcheck disable=SC2086
cmake --preset default ${ZBL_CMAKE_ARGS:-} >/dev/null
cmake --build --preset default -j"$(nproc)"

build=build/default
results=${ZBL_RESULTS_DIR:-results}
mkdir -p "$results"
rm -f "$results/zbl-suites.json" "$results/zbl-suites.xml" "$results/devices.json"
export ZBL_RESULTS_DIR=$results
unset ZBL_NO_RESULTS
echo "== zbl: conformance suites -> $results/"
suites_status=0
"$build/suites/zbl-suites" --gtest_brief=1 --gtest_output="xml:$results/zbl-suites.xml" \
  >"$results/zbl-suites.log" 2>&1 || suites_status=$?
# The log holds every skip reason; show only what failed.
grep -E '^\[  FAILED  \]' "$results/zbl-suites.log" | sort -u || true
echo "== zbl: full log: $results/zbl-suites.log"

# The same suites on real kernel devices (null_blk, NVMe ZNS, scsi_debug ZBC) in a throwaway
# guest, once per kernel (Debian 12's Linux 6.12 and 6.1, one after the other), one results
# folder per kernel and device: results-vm/<kernel>/<device>/, the report's (device, kernel)
# columns and its kernel-differences view.
# ZBL_MAIN_VM=0 skips it; ZBL_MAIN_VM_KERNELS="6.12" runs one kernel; a machine where
# qemu-system cannot run skips it (said, not silent).
vm_dirs=()
if [ "${ZBL_MAIN_VM:-1}" = 1 ]; then
  if ci/vm/can-run.sh >/dev/null 2>&1; then
    # Beside results/, not in it: zbl-report merges a folder's subfolders into one machine.
    vm_results=${results%/}-vm
    rm -rf "$vm_results"
    for kernel in ${ZBL_MAIN_VM_KERNELS:-6.12 6.1}; do
      kdir=$vm_results/$kernel
      mkdir -p "$kdir"
      echo "== zbl: conformance suites on real kernel devices, Linux $kernel (ci/vm/suites.sh --kernel $kernel) -> $kdir/"
      t0=$SECONDS
      if ci/vm/suites.sh --kernel "$kernel" --zbl-suites "$build/suites/zbl-suites" \
          --results "$(cd "$kdir" && pwd)" >"$kdir/vm-suites.log" 2>&1; then
        echo "== zbl: Linux $kernel: every kernel device passed in $((SECONDS - t0)) s (log: $kdir/vm-suites.log)"
      else
        echo "== zbl: Linux $kernel: kernel devices: failures, see $kdir/vm-suites.log"
        grep -E '^\[  FAILED  \]|^### |^zbl-vm: ' "$kdir/vm-suites.log" | sort -u || true
        suites_status=1
      fi
      for d in "$kdir"/*/; do [ -f "$d/devices.json" ] && vm_dirs+=("$d"); done
    done
  else
    echo "== zbl: SKIP real kernel devices: qemu-system cannot run here ($(ci/vm/can-run.sh 2>&1 | tail -n 1))"
  fi
fi

echo "== zbl: matrix (suite x configuration)"
matrix_status=0
"$build/suites/zbl-matrix" "$results" || matrix_status=$?

if [ -x "$build/reports/zbl-report" ]; then
  if page=$("$build/reports/zbl-report" --quiet --out "$results/report.html" "$results" "${vm_dirs[@]}"); then
    echo "== zbl: report: $page"
  else
    echo "== zbl: zbl-report failed"
    suites_status=1
  fi
else
  echo "== zbl: zbl-report was not built ($build/reports/zbl-report): no HTML report"
fi
if [ "$suites_status" -ne 0 ] || [ "$matrix_status" -ne 0 ]; then
  exit 1
fi
