#!/usr/bin/env bash
# The README's main job: installs what is missing, builds the default preset, runs the
# conformance suites on every built-in configuration into results/ (GoogleTest JSON + JUnit XML
# + devices.json), prints the suite x configuration matrix, and renders the HTML report when
# zbl-report was built. Also runs a short benchmark (bench.json, under a minute) and ingests the
# results into the results database, so the page has speed charts and, from the second run on,
# a history. Exits non-zero when any test failed.
#   ZBL_RESULTS_DIR=dir ci/main.sh     results elsewhere (default: results/)
#   ZBL_RESULTS_DB=URL ci/main.sh      the database (default: $ZBL_RESULTS_DIR/zbl.sqlite; a lab
#                                      gives postgresql://...), ZBL_RESULTS_DB=none: no database
#   ZBL_MAIN_BENCH=0 ci/main.sh        no benchmark
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
rm -f "$results/zbl-suites.json" "$results/zbl-suites.xml" "$results/devices.json" \
  "$results/bench.json"
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

# A short benchmark (about 20 s: three configurations, 0.05 s a benchmark) for the page's speed
# charts and, through the database, their trend over runs.
if [ "${ZBL_MAIN_BENCH:-1}" = 1 ] && [ -x "$build/bench/zbl-bench" ]; then
  echo "== zbl: short benchmark (bench/run.sh) -> $results/bench.json"
  if ! ZBL_BUILD_DIR=$build bench/run.sh \
      --benchmark_filter='/(emulated_hm_64m|emulated_zns_cap48m|file_tmpfs)/' \
      --benchmark_min_time=0.05 >"$results/bench.log" 2>&1; then
    echo "== zbl: benchmark failed, see $results/bench.log"
    suites_status=1
  fi
fi

echo "== zbl: matrix (suite x configuration)"
matrix_status=0
"$build/suites/zbl-matrix" "$results" || matrix_status=$?

if [ -x "$build/reports/zbl-report" ]; then
  # The results database: this run's folders are ingested (each one a run of its machine), and
  # the page comes from it: the same matrix and charts, plus trends and each machine against its
  # previous run. Without a database (or if the ingest fails) the page comes from the folders.
  db=${ZBL_RESULTS_DB:-$results/zbl.sqlite}
  source_args=("$results" "${vm_dirs[@]}")
  if [ "$db" != none ]; then
    if "$build/reports/zbl-report" ingest --db "$db" "$results" "${vm_dirs[@]}" >"$results/ingest.log" 2>&1; then
      echo "== zbl: results database: $db ($(tail -n 1 "$results/ingest.log"))"
      source_args=(--db "$db")
    else
      echo "== zbl: ingest into $db failed: $(tail -n 1 "$results/ingest.log"); the page comes from the folders"
      suites_status=1
    fi
  fi
  report_status=0
  page=$("$build/reports/zbl-report" --quiet --out "$results/report.html" "${source_args[@]}") || report_status=$?
  if [ "$report_status" -eq 0 ]; then
    echo "== zbl: report: $page"
  elif [ "$report_status" -eq 3 ]; then
    # Newly failing rules already fail this job; slower benchmarks on a shared machine are
    # shown, not fatal.
    echo "== zbl: report: $page (regressions against the previous run are listed at its top)"
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
