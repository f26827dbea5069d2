#!/usr/bin/env bash
# Runs every libFuzzer target longer than ctest does (ctest -L fuzz: 20 s each).
#   fuzz/run.sh [seconds per target, default 600]
# Builds the fuzz preset (clang-14, ASan + UBSan, coverage on the library), runs each target in
# turn on its seed corpus (fuzz/corpus/<target>/, kept as is) plus a work corpus in the build
# tree, prints executions per target and fails if any crash input was written.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs=${1:-600}
dir=build/fuzz/fuzz
mapfile -t names < <(ls fuzz/*_fuzz.cc | xargs -n1 basename | sed 's/_fuzz\.cc$//')
cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target "${names[@]/%/_fuzz}"
mkdir -p "$dir/artifacts"
total=0
status=0
for n in "${names[@]}"; do
  mkdir -p "$dir/work/$n"
  log="$dir/run-$n.log"
  echo "== fuzz: $n for ${secs}s"
  "$dir/${n}_fuzz" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/$n-" "$dir/work/$n" "fuzz/corpus/$n" >"$log" 2>&1 || status=1
  execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  rate=$(grep -a 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
  echo "$n: ${execs:-0} executions (${rate:-0}/s), log $log"
  total=$((total + ${execs:-0}))
done
crashes=$(find "$dir/artifacts" -type f \( -name '*crash-*' -o -name '*leak-*' -o -name '*timeout-*' -o -name '*oom-*' \) | wc -l)
echo "== fuzz: $total executions in total, $crashes crash inputs in $dir/artifacts"
[ "$crashes" -eq 0 ] || status=1
exit $status
