#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_VM_*, QID_* come from run.sh --env in the guest
# The qemu-io differential (tools/qemu-io-diff) on real kernel zoned devices: generated qemu-io
# scripts through QEMU 10's qemu-io and zbl-io on kernel null_blk, a QEMU NVMe ZNS namespace and
# the scsi_debug ZBC disk, one device per family, reset before every run of either tool (all
# zones reset, conventional zones zeroed). The three families run side by side in one VM.
#   ci/vm/qemu-io-diff.sh --zbl-io BIN [--scripts N] [--seed S] [--results DIR]
# Exit 0 no undocumented divergence on any device, 1 a divergence (seed and shrunk script
# printed) or a device ran no script, 77 SKIP (qemu-system cannot run), 123-125 harness.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
runner=$repo/tools/qemu-io-diff/qemu_io_diff.py

# Small devices (the reset before each run is one ioctl plus the conventional zones' bytes):
# 64 MiB, 4 MiB zones of capacity 3 MiB, open/active limits. run.sh units: null_blk MB, ZNS
# bytes with suffixes, scsi_debug module parameters.
nullb_opts="size=64,zone_size=4,zone_capacity=3,zone_nr_conv=2,zone_max_open=4,zone_max_active=6"
zns_opts="size=64M,logical_block_size=4096,zone_size=4M,zone_capacity=3M,max_open=4,max_active=6"
zbc_opts="dev_size_mb=64,zone_size_mb=4,zone_cap_mb=3,zone_nr_conv=2,zone_max_open=4"

guest() {
  local out=$ZBL_VM_RESULTS failed=0 i
  local names=(null_blk zns zbc)
  local devs=("$ZBL_VM_NULLB_QID" "$ZBL_VM_ZNS_QID" "$ZBL_VM_ZBC")
  local geos=("cap=3M,conv=2" "cap=3M,conv=0" "cap=3M,conv=2")
  local pids=()
  echo "guest kernel $(uname -r); $(qemu-io --version | head -n 1); zbl-io $ZBL_IO"
  for i in 0 1 2; do
    python3 "$QID_RUNNER" --zbl-io "$ZBL_IO" --target device --device "${devs[$i]}" \
      --family "${names[$i]}" --geometry "${geos[$i]}" --scripts "$QID_SCRIPTS" \
      --seed "$QID_SEED" --timeout 120 --max-shrink 3 --max-report 8 --progress 20 \
      --work /tmp/qid-"${names[$i]}" \
      >"$out/qemu-io-diff-${names[$i]}.log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2; do
    wait "${pids[$i]}" || failed=1
    cat "$out/qemu-io-diff-${names[$i]}.log"
  done
  return "$failed"
}

if [ "${1:-}" = --guest ]; then
  guest
  exit
fi

zbl_io="" scripts=200 seed=1 results=""
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-io) zbl_io=$2; shift ;;
    --scripts) scripts=$2; shift ;;
    --seed) seed=$2; shift ;;
    --results) results=$2; shift ;;
    *) echo "qemu-io-diff.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
if [ ! -x "$zbl_io" ]; then
  echo "usage: qemu-io-diff.sh --zbl-io BIN [--scripts N] [--seed S] [--results DIR]" >&2
  exit 125
fi
zbl_io=$(cd "$(dirname "$zbl_io")" && pwd)/$(basename "$zbl_io")
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-qemu-io-diff}
mkdir -p "$results"
"$here/run.sh" --results "$results" --timeout 1500 --boot-timeout 240 \
  --nullb "qid:$nullb_opts" --zns "qid:$zns_opts" --zbc "$zbc_opts" \
  --env ZBL_IO="$zbl_io" --env QID_RUNNER="$runner" --env QID_SCRIPTS="$scripts" \
  --env QID_SEED="$seed" \
  -- "$here/qemu-io-diff.sh" --guest
