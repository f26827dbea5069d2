#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh in the guest
# fio's own zoned test suite (t/zbd/test-zbd-support, fio 3.33: 58 tests) judges zbl-ublk: per
# geometry of fio's t/zbd/run-tests-against-nullb, one guest runs the suite on a kernel null_blk
# and on zbl-ublk serving driver=emulated,profile=null_blk with the same geometry; the tests that
# pass must be the same set on both. Each suite runs from a writable copy (it writes its logs
# beside itself) with the installed fio.
#
#   ci/vm/ublk-fio.sh --zbl-ublk BIN [--geometries LIST|ci|full] [--tests "N N ..."] [--results DIR]
#                     [--report-only]   (only the table and verdict from the results already there)
#
# Geometries are run-tests-against-nullb's section numbers: 1 (no zones), 2-7 (conventional 0 %,
# 10 %, 66 %; 1 MiB zones, or 4 MiB zones of 3 MiB capacity), 8-13 (the same with fio's
# max_open 8). ci = 11 (10 % conventional, 4 MiB zones, 3 MiB capacity, max open 8), full = 1-13.
# Writes fio-table.tsv (test, geometry, null_blk, ublk) and fio-summary.json into the results;
# exit 0 same pass sets everywhere, 1 a difference or a suite that did not run its tests, 77 SKIP
# (qemu cannot run), 123-125 harness codes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# section -> "conv_pcnt zone_size_MB zone_capacity_MB max_open dev_size_MB"
geometry() {
  case $1 in
    1) echo "100 0 0 0 1024" ;;
    2) echo "0 1 1 0 1024" ;;
    3) echo "0 4 3 0 1024" ;;
    4) echo "10 1 1 0 1024" ;;
    5) echo "10 4 3 0 1024" ;;
    6) echo "66 1 1 0 1024" ;;
    7) echo "66 4 3 0 2048" ;;
    8) echo "0 1 1 8 1024" ;;
    9) echo "0 4 3 8 1024" ;;
    10) echo "10 1 1 8 1024" ;;
    11) echo "10 4 3 8 1024" ;;
    12) echo "66 1 1 8 1024" ;;
    13) echo "66 4 3 8 2048" ;;
    *) return 1 ;;
  esac
}

# Guest: runs the suite on DEV from a fresh writable copy; the per-test lines go to OUT.
run_suite() {
  local name=$1 dev=$2 out=$3 max_open=$4
  shift 4
  local w=/tmp/fio-zbd-$name
  rm -rf "$w"
  mkdir -p "$w/t"
  cp -r "$ZBL_FIO_SRC/t/zbd" "$w/t/zbd"
  ln -s "$(command -v fio)" "$w/fio"
  local args=()
  [ "$max_open" -eq 0 ] || args+=(-o "$max_open")
  local t
  for t in ${ZBL_FIO_TESTS:-}; do args+=(-t "$t"); done
  echo "### $name: $dev (test-zbd-support ${args[*]})"
  local t0=$SECONDS rc=0
  (cd "$w/t/zbd" && ./test-zbd-support "${args[@]}" "$dev") >"$out" 2>&1 || rc=$?
  echo "### $name: exit $rc in $((SECONDS - t0)) s: $(grep -E 'tests (passed|skipped|failed)' "$out" | tr -s ' \n' ' ')"
  mkdir -p "$ZBL_VM_RESULTS/logs-$name"
  cp "$w"/t/zbd/test-zbd-support.log.* "$ZBL_VM_RESULTS/logs-$name/" 2>/dev/null || true
}

guest() {
  local sec=$1 conv zs cap open size
  read -r conv zs cap open size <<<"$(geometry "$sec")"
  [ -b "${ZBL_VM_NULLB_FZ:-}" ] || { echo "FAIL: no null_blk device"; return 1; }
  [ -b "${ZBL_VM_UBLK_FZ:-}" ] || { echo "FAIL: no zbl-ublk device"; return 1; }
  run_suite nullb "$ZBL_VM_NULLB_FZ" "$ZBL_VM_RESULTS/fio-nullb.out" "$open"
  run_suite ublk "$ZBL_VM_UBLK_FZ" "$ZBL_VM_RESULTS/fio-ublk.out" "$open"
}

if [ "${1:-}" = --guest ]; then
  shift
  guest "$@"
  exit
fi

ublk="" results="" geoms=ci tests="" report_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-ublk) ublk=$2; shift ;;
    --geometries) geoms=$2; shift ;;
    --tests) tests=$2; shift ;;
    --results) results=$2; shift ;;
    --report-only) report_only=1 ;;
    *) echo "ublk-fio.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
[ -x "$ublk" ] || { echo "usage: ublk-fio.sh --zbl-ublk BIN [--geometries LIST|ci|full] [--tests \"N ...\"] [--results DIR]" >&2; exit 125; }
case $geoms in
  ci) geoms=11 ;;
  full) geoms="1 2 3 4 5 6 7 8 9 10 11 12 13" ;;
esac
geoms=${geoms//,/ }
for g in $geoms; do geometry "$g" >/dev/null || { echo "ublk-fio.sh: no geometry '$g' (1-13)" >&2; exit 125; }; done
results=${results:-$repo/results/vm-ublk-fio}
if [ "$report_only" -eq 0 ]; then
  "$here/can-run.sh" || exit 77
  fio_src=$("$here/fio-src.sh") || { echo "ublk-fio.sh: fio's source (t/zbd) is not available: run ci/deps.sh" >&2; exit 125; }
  mkdir -p "$results"
fi
results=$(cd "$results" && pwd -P)

failed=0
[ "$report_only" -eq 1 ] || for g in $geoms; do
  read -r conv zs cap open size <<<"$(geometry "$g")"
  gdir=$results/section$g
  mkdir -p "$gdir"
  if [ "$conv" -eq 100 ]; then
    nb="zoned=0,size=$size,blocksize=4096,memory_backed=1,completion_nsec=0"
    em="driver=emulated,model=none,size=${size}M,zone-size=1M,block-size=4096"
  else
    # shellcheck disable=SC2017 # run-tests-against-nullb rounds the same way
    nconv=$((size / zs * conv / 100))
    nb="zoned=1,size=$size,zone_size=$zs,zone_capacity=$cap,zone_nr_conv=$nconv,blocksize=4096,memory_backed=1,completion_nsec=0"
    em="driver=emulated,profile=null_blk,size=${size}M,zone-size=${zs}M,zone-capacity=${cap}M,conventional-zones=$nconv,block-size=4096"
  fi
  echo "=== section $g: conventional $conv %, zone ${zs} MiB, capacity ${cap} MiB, max open $open, $size MiB"
  rc=0
  "$here/run.sh" --results "$gdir" --timeout 5000 --boot-timeout 240 --mem 5G \
    --nullb "fz:$nb" --ublk "fz:$em" --zbl-ublk "$ublk" \
    --env ZBL_FIO_SRC="$fio_src" --env ZBL_FIO_TESTS="$tests" \
    -- "$here/ublk-fio.sh" --guest "$g" || rc=$?
  [ "$rc" -eq 0 ] || { echo "FAIL: section $g: the guest run exited $rc"; failed=1; }
done

# The table and the verdict, from the per-test lines of every run.
# shellcheck disable=SC2086 # one argument per geometry
python3 - "$results" "$tests" $geoms <<'PY' || failed=1
import json, os, re, sys
results, tests, geoms = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
line = re.compile(r"Running test (\d+) \.\.\. (PASS|SKIP|FAIL)")
rows, summary, bad = {}, {}, []
for g in geoms:
    summary[g] = {}
    for dev in ("nullb", "ublk"):
        path = os.path.join(results, f"section{g}", f"fio-{dev}.out")
        got = {}
        if os.path.exists(path):
            for m in line.finditer(open(path, errors="replace").read()):
                got[int(m.group(1))] = m.group(2)
        want = len(tests) if tests else 58
        counts = {s: sum(1 for v in got.values() if v == s) for s in ("PASS", "SKIP", "FAIL")}
        summary[g][dev] = {"ran": len(got), "passed": counts["PASS"], "skipped": counts["SKIP"],
                           "failed": counts["FAIL"]}
        if len(got) != want:
            bad.append(f"section {g} {dev}: {len(got)} tests ran, expected {want}")
        for t, s in got.items():
            rows.setdefault((t, g), {})[dev] = s
    p = {t for (t, gg), r in rows.items() if gg == g and r.get("nullb") == "PASS"}
    q = {t for (t, gg), r in rows.items() if gg == g and r.get("ublk") == "PASS"}
    summary[g]["only_nullb_passes"] = sorted(p - q)
    summary[g]["only_ublk_passes"] = sorted(q - p)
    if p != q:
        bad.append(f"section {g}: pass sets differ: only null_blk {sorted(p - q)}, only zbl-ublk {sorted(q - p)}")
with open(os.path.join(results, "fio-table.tsv"), "w") as f:
    f.write("test\tsection\tnull_blk\tzbl-ublk\n")
    for (t, g) in sorted(rows, key=lambda k: (int(k[1]), k[0])):
        r = rows[(t, g)]
        f.write(f"{t}\t{g}\t{r.get('nullb', '-')}\t{r.get('ublk', '-')}\n")
json.dump({"sections": summary, "problems": bad}, open(os.path.join(results, "fio-summary.json"), "w"), indent=2)
for g in geoms:
    s = summary[g]
    print(f"section {g}: null_blk {s['nullb']}, zbl-ublk {s['ublk']}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
exit "$failed"
