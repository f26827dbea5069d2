#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh in the guest
# zbl-ublk's speed against kernel null_blk in one guest run (TCG: read the ratios, not the
# figures): fio 4 KiB sequential writes (zonemode=zbd, libaio, direct) and 4 KiB random reads, at
# QD1 and QD32, on a memory-backed null_blk and on zbl-ublk serving an in-memory
# driver=emulated,profile=null_blk of the same geometry (1 GiB, 4 MiB zones). Jobs alternate
# between the two devices so that a load change on the host hits both.
#   ci/vm/ublk-bench.sh --zbl-ublk BIN [--runtime SEC] [--ublk-args "ARGS"] [--results DIR]
# Writes ublk-bench.json (per job: IOPS of each, ratio zbl-ublk / null_blk) and prints the table.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

guest() {
  local rt=$ZBL_BENCH_RUNTIME out=$ZBL_VM_RESULTS dev name job
  local common=(--direct=1 --bs=4k --time_based=1 --runtime="$rt" --ramp_time=2 --group_reporting=1
    --output-format=json)
  for dev in "$ZBL_VM_NULLB_B" "$ZBL_VM_UBLK_B"; do
    echo mq-deadline >"/sys/block/${dev#/dev/}/queue/scheduler" 2>/dev/null || true
    blkzone reset "$dev"
    # Data for the reads: the first 64 zones written once.
    fio --name=fill --filename="$dev" --direct=1 --bs=1M --rw=write --zonemode=zbd --size=256M \
      --ioengine=psync --output=/dev/null
  done
  for job in write-qd1 write-qd32 randread-qd1 randread-qd32; do
    for name in nullb ublk; do
      [ "$name" = nullb ] && dev=$ZBL_VM_NULLB_B || dev=$ZBL_VM_UBLK_B
      local a=()
      case $job in
        write-qd1) a=(--rw=write --zonemode=zbd --offset=256M --size=512M --ioengine=psync --iodepth=1) ;;
        write-qd32) a=(--rw=write --zonemode=zbd --offset=256M --size=512M --ioengine=libaio --iodepth=32) ;;
        randread-qd1) a=(--rw=randread --size=256M --ioengine=psync --iodepth=1) ;;
        randread-qd32) a=(--rw=randread --size=256M --ioengine=libaio --iodepth=32) ;;
      esac
      [[ $job != write-* ]] || blkzone reset -o $((256 << 11)) -l $((512 << 11)) "$dev"
      fio --name="$job" --filename="$dev" "${common[@]}" "${a[@]}" --output="$out/fio-$job-$name.json"
      echo "### $job $name done"
    done
  done
}

if [ "${1:-}" = --guest ]; then
  guest
  exit
fi

ublk="" results="" runtime=10 uargs=""
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-ublk) ublk=$2; shift ;;
    --runtime) runtime=$2; shift ;;
    --ublk-args) uargs=$2; shift ;;
    --results) results=$2; shift ;;
    *) echo "ublk-bench.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
[ -x "$ublk" ] || { echo "usage: ublk-bench.sh --zbl-ublk BIN [--runtime SEC] [--ublk-args ARGS] [--results DIR]" >&2; exit 125; }
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-ublk-bench}
mkdir -p "$results"
results=$(cd "$results" && pwd -P)
rc=0
"$here/run.sh" --results "$results" --timeout 900 --boot-timeout 240 --mem 4G \
  --nullb "b:size=1024,zone_size=4,memory_backed=1,completion_nsec=0" \
  --ublk "b:driver=emulated,profile=null_blk,size=1G,zone-size=4M,block-size=4096" \
  --zbl-ublk "$ublk" ${uargs:+--ublk-args "$uargs"} \
  --env ZBL_BENCH_RUNTIME="$runtime" -- "$here/ublk-bench.sh" --guest || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
python3 - "$results" "$uargs" <<'PY'
import json, os, sys
d, uargs = sys.argv[1], sys.argv[2]
rows = []
for job in ("write-qd1", "write-qd32", "randread-qd1", "randread-qd32"):
    iops = {}
    for name in ("nullb", "ublk"):
        r = json.load(open(os.path.join(d, f"fio-{job}-{name}.json")))
        j = r["jobs"][0]
        iops[name] = j["write"]["iops"] + j["read"]["iops"]
    rows.append({"job": job, "null_blk_iops": round(iops["nullb"]), "zbl_ublk_iops": round(iops["ublk"]),
                 "ratio": round(iops["ublk"] / iops["nullb"], 3) if iops["nullb"] else None})
json.dump({"zbl_ublk_args": uargs, "jobs": rows}, open(os.path.join(d, "ublk-bench.json"), "w"), indent=2)
print(f"| job (4 KiB) | null_blk IOPS | zbl-ublk IOPS | ratio |  zbl-ublk args: {uargs or '(defaults)'}")
print("| --- | ---: | ---: | ---: |")
for r in rows:
    print(f"| {r['job']} | {r['null_blk_iops']} | {r['zbl_ublk_iops']} | {r['ratio']} |")
PY
