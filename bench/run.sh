#!/usr/bin/env bash
# Runs the microbenchmarks and writes Google Benchmark JSON to ${ZBL_RESULTS_DIR:-results}/bench.json;
# with --compare, also runs zbl-compare (fio, qemu-img bench, zbl on one target) into
# ${ZBL_RESULTS_DIR:-results}/compare.json. Other arguments go to zbl-bench, e.g.
#   bench/run.sh --benchmark_filter='^Append/' --benchmark_repetitions=5
#   ZBL_DEVICE=driver=host_device,filename=/dev/nullb0 ZBL_ALLOW_DESTRUCTIVE=1 bench/run.sh
# --compare (or --compare-only, without the microbenchmarks) runs zbl-compare on ZBL_DEVICE's filename= (a file or block device; destructive, so
# only with ZBL_ALLOW_DESTRUCTIVE=1), else on a scratch file; ZBL_COMPARE_ARGS adds its options
# (e.g. ZBL_COMPARE_ARGS="--reps 3 --qd 1,32").
# The binaries are looked up in $ZBL_BUILD_DIR (default: build/default, then build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results=${ZBL_RESULTS_DIR:-results}
compare=0
micro=1
args=()
for a in "$@"; do
  case "$a" in
    --compare) compare=1 ;;
    --compare-only) compare=1; micro=0 ;;  # zbl-compare without the microbenchmarks
    *) args+=("$a") ;;
  esac
done

find_bin() {
  local d
  for d in ${ZBL_BUILD_DIR:-} "$root/build/default" "$root/build"; do
    if [ -x "$d/bench/$1" ]; then echo "$d/bench/$1"; return 0; fi
  done
  echo "bench/run.sh: $1 not found; build it (cmake --build --preset default --target $1)" >&2
  return 1
}

mkdir -p "$results"
if [ "$micro" = 1 ]; then
  bench=$(find_bin zbl-bench)
  "$bench" --benchmark_out="$results/bench.json" --benchmark_out_format=json "${args[@]}"
  echo "bench/run.sh: wrote $results/bench.json"
fi
if [ "$compare" = 1 ]; then
  target=()
  if [ -n "${ZBL_DEVICE:-}" ]; then
    # The comparison writes the whole target with every tool: only with ZBL_ALLOW_DESTRUCTIVE=1.
    dev=$(printf '%s\n' "$ZBL_DEVICE" | tr ',' '\n' | sed -n 's/^filename=//p' | head -n 1)
    if [ -z "$dev" ]; then
      echo "bench/run.sh: --compare: ZBL_DEVICE has no filename=...; comparing on a scratch file" >&2
    elif [ "${ZBL_ALLOW_DESTRUCTIVE:-0}" != 1 ]; then
      echo "bench/run.sh: --compare on $dev overwrites it; set ZBL_ALLOW_DESTRUCTIVE=1" >&2
      exit 2
    else
      target=(--target "$dev")
    fi
  fi
  # shellcheck disable=SC2086  # ZBL_COMPARE_ARGS is a list of options
  "$root/bench/zbl-compare" --zbl-bench-io "$(find_bin zbl-bench-io)" --results-dir "$results" \
    ${target[@]+"${target[@]}"} ${ZBL_COMPARE_ARGS:-}
fi
