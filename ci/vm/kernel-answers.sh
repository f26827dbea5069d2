#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh --env in the guest
# The suites accept only the running kernel's answers. On the scsi_debug ZBC disk, the
# write-pointer rules run twice in one VM:
#   1. judged by the running kernel: they must pass;
#   2. held to the other kernel's answers (ZBL_KERNEL_VERSION=6.12 on 6.1, 6.1 on 6.12): they
#      must fail, on the write_plug_errno cell only, naming that kernel and the running one's
#      answer (6.12's zone write plug gives EIO; 6.1 has none and passes the device's
#      EREMOTEIO: families.cc, measured with ci/vm/suites.sh --kernel 6.1).
#   ci/vm/kernel-answers.sh --zbl-suites BIN [--kernel 6.1|6.12] [--results DIR]
# Exit 0 as described, 1 otherwise, 77 SKIP (qemu cannot run), 123-125 harness codes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

guest() {
  local failed=0 rc out
  local filter='*WritePointer*/user_device'
  local other=6.1
  case $(uname -r) in 6.1.*) other=6.12 ;; esac
  for judge in running "$other"; do
    out=$ZBL_VM_RESULTS/$judge
    mkdir -p "$out"
    echo "### zbc on $(uname -r), judged by: $judge"
    rc=0
    local kv=()
    [ "$judge" = running ] || kv=(ZBL_KERNEL_VERSION="$judge")
    env "${kv[@]}" ZBL_DEVICE="driver=host_device,cache.direct=on,filename=$ZBL_VM_ZBC" \
      ZBL_PROFILE=zbc ZBL_ALLOW_DESTRUCTIVE=1 ZBL_RESULTS_DIR="$out" "$ZBL_SUITES" --gtest_brief=1 \
      --gtest_filter="$filter" --gtest_output="json:$out/zbl-suites.json" || rc=$?
    echo "### judged by $judge: exit $rc"
    python3 - "$out/zbl-suites.json" "$judge" "$rc" <<'PY' || failed=1
import json, sys
path, judge, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Linux 6.1 (no zone write plug): the device's EREMOTEIO; 6.12: the plug's EIO.
want_allowed, shown = ("eremoteio", "eio") if judge == "6.1" else ("eio", "eremoteio")
doc = json.load(open(path))
ran, fails = 0, []
for suite in doc["testsuites"]:
    for t in suite["testsuite"]:
        if t.get("result") == "SKIPPED":
            continue
        ran += 1
        fails += [f["failure"] for f in t.get("failures", [])]
if ran < 3:
    sys.exit(f"FAIL: judged by {judge}: only {ran} write-pointer rules ran")
if judge == "running":
    if rc != 0 or fails:
        sys.exit(f"FAIL: judged by the running kernel, {len(fails)} failures (exit {rc}): {fails[:2]}")
    print(f"ok: {ran} rules pass on the running kernel's answers")
else:
    want = [f for f in fails if "write_plug_errno" in f and f"on Linux {judge}" in f
            and f"allows {want_allowed}" in f and f"showed '{shown}'" in f]
    other = [f for f in fails if f not in want]
    if rc == 0 or not want or other:
        sys.exit(f"FAIL: held to Linux {judge}'s answers: exit {rc}, {len(want)} expected failures, "
                 f"{len(other)} others: {(other or fails)[:2]}")
    print(f"ok: held to Linux {judge}'s answers, {len(want)} checks refuse the running kernel's {shown}")
PY
  done
  return "$failed"
}

if [ "${1:-}" = --guest ]; then
  shift
  guest "$@"
  exit
fi

suites="" results="" kernel=6.1
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-suites) suites=$2; shift ;;
    --results) results=$2; shift ;;
    --kernel) kernel=$2; shift ;;
    *) echo "kernel-answers.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
[ -x "$suites" ] || { echo "usage: kernel-answers.sh --zbl-suites BIN [--kernel 6.1|6.12] [--results DIR]" >&2; exit 125; }
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-kernel-answers}
exec "$here/run.sh" --kernel "$kernel" --results "$results" --timeout 900 --boot-timeout 240 \
  --zbc zone_nr_conv=4,zone_max_open=8 --env ZBL_SUITES="$suites" -- "$here/kernel-answers.sh" --guest
