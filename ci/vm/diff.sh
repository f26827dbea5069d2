#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_DIFF, DIFF_* come from run.sh --env in the guest
# Differential runs of zbl against the real kernel devices, all layouts of the families given
# side by side in one VM:
#   nullblk  kernel null_blk (driver=host_device) vs zbl's null_blk user twin, 4 layouts
#   zns      QEMU's NVMe ZNS namespace (host_device) vs driver=emulated,profile=zns, 2 layouts
#   zbc      scsi_debug ZBC disk (host_device) vs driver=emulated,profile=zbc
# Each layout runs `zbl-diff` for every seed; JSON (cells, counts) goes to the results folder.
#   ci/vm/diff.sh [--kernel 6.12|6.1] [--no-assert] [--chunk BYTES (0 = whole requests)] [--ops N] [--seeds "1 2 3"] [--results DIR] --zbl-diff BIN FAMILY...
# Exit: 0 all runs agreed (or --no-assert finished), 1 a divergence or failure, 77 SKIP (qemu
# cannot run), 123-125 harness codes (see README.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# name | kernel device option (run.sh) | zbl option string of the twin [| zbl-diff flags]
# Writes go in 64 KiB requests (--chunk): one bio each, below every device's max_sectors, so the
# errno of a request never depends on how Linux chains the bios of a split one (issue-12 table).
# null_blk with memory_backed=0 leaves a read's buffer untouched: only statuses are compared.
# ZNS: a write spilling into the next zone races QEMU's completion of the first piece (both
# outcomes measured), so writes stay inside a zone. ZBC: Linux 6.12 surfaces a write violation
# as EIO when its zone write plug refuses it and EREMOTEIO when the device does; which one is
# fixed by the zone's state (profile.h err_write_plug, ci/vm/errno-cells.sh), so the twin must
# give the same errno, with no alias. The twin's max-append-bytes is the disk's max_sectors
# (1280 KiB, below its 4 MiB zone_append_max_bytes), so that zbl-diff's appends are never
# longer than one request: a longer one that breaks a rule is refused by host_device itself
# (EIO, nothing written) before Linux could split it, a zbl rule no device twin has.
# null_blk: run.sh's defaults are zoned=1,blocksize=4096,size=1024,zone_size=4,memory_backed=1.
# shellcheck disable=SC2034 # the layout arrays are read through namerefs
nullblk_layouts=(
  "plain|size=256,zone_size=4|zoned=1,blocksize=4096,size=256,zone_size=4,memory_backed=1"
  "lim|size=256,zone_size=4,zone_capacity=3,zone_nr_conv=4,zone_max_open=4,zone_max_active=6|zoned=1,blocksize=4096,size=256,zone_size=4,zone_capacity=3,zone_nr_conv=4,zone_max_open=4,zone_max_active=6,memory_backed=1"
  "small|blocksize=512,size=64,zone_size=1,zone_nr_conv=2,zone_max_open=3,zone_max_active=5|zoned=1,blocksize=512,size=64,zone_size=1,zone_nr_conv=2,zone_max_open=3,zone_max_active=5,memory_backed=1"
  "nomem|size=256,zone_size=4,zone_capacity=3,zone_max_open=6,memory_backed=0|zoned=1,blocksize=4096,size=256,zone_size=4,zone_capacity=3,zone_max_open=6,memory_backed=0|--no-data"
)
# shellcheck disable=SC2034
zns_layouts=(
  "lim|size=256M,logical_block_size=4096,zone_size=4M,zone_capacity=3M,max_open=4,max_active=6|profile=zns,size=268435456,block-size=4096,zone-size=4194304,zone-capacity=3145728,max-open-zones=4,max-active-zones=6,max-append-bytes=524288|--no-cross-zone"
  "small|size=64M,logical_block_size=512,zone_size=1M,zone_capacity=1M,max_open=3,max_active=5|profile=zns,size=67108864,block-size=512,zone-size=1048576,max-open-zones=3,max-active-zones=5,max-append-bytes=524288|--no-cross-zone"
)
# shellcheck disable=SC2034
# The twin models Linux 6.12 (zone write plugging, sd max_sectors 1280 KiB). On 6.1 (in the
# guest, ZBL_VM_KERNEL_SERIES) sd's max_sectors is 512 KiB and there is no zone write plug: a
# write 6.12's plug refuses with EIO reaches the disk, EREMOTEIO; the twin cannot have that
# (the engine's profiles are not keyed by kernel), so there the two count as one answer.
if [ "${ZBL_VM_KERNEL_SERIES:-}" = 6.1 ]; then
  zbc_layouts=(
    "zbc|zone_nr_conv=4,zone_max_open=8|profile=zbc,size=268435456,block-size=512,zone-size=4194304,zone-capacity=3145728,conventional-zones=4,max-open-zones=8,max-append-bytes=524288|--errno-alias EIO,EREMOTEIO"
  )
else
  zbc_layouts=(
    "zbc|zone_nr_conv=4,zone_max_open=8|profile=zbc,size=268435456,block-size=512,zone-size=4194304,zone-capacity=3145728,conventional-zones=4,max-open-zones=8,max-append-bytes=1310720"
  )
fi

# ---------------------------------------------------------------------------- inside the guest
# One layout: every seed in turn. Output to its own log (layouts run side by side).
run_layout() {
  local family=$1 line=$2 name twin flags dev var seed rc a b failed=0
  IFS='|' read -r name _ twin flags <<<"$line"
  case $family in
    nullblk) var=ZBL_VM_NULLB_${name^^}; b="driver=null_blk,backend=user,$twin" ;;
    zns) var=ZBL_VM_ZNS_${name^^}; b="driver=emulated,$twin" ;;
    zbc) var=ZBL_VM_ZBC; b="driver=emulated,$twin" ;;
  esac
  dev=${!var:-}
  if [ -z "$dev" ] || [ ! -b "$dev" ]; then echo "FAIL: $var: no block device"; return 1; fi
  a="driver=host_device,cache.direct=on,filename=$dev"
  for seed in $DIFF_SEEDS; do
    echo "### $family/$name seed $seed: $a  vs  $b"
    local t0=$SECONDS
    rc=0
    # shellcheck disable=SC2086 # flags are words
    "$ZBL_DIFF" --seed "$seed" --ops "$DIFF_OPS" --a "$a" --b "$b" ${DIFF_NO_ASSERT:+--no-assert} \
      ${DIFF_CHUNK:+--chunk "$DIFF_CHUNK"} $flags \
      --json "$ZBL_VM_RESULTS/diff-$family-$name-$seed.json" 2>&1 || rc=$?
    echo "### $family/$name seed $seed: exit $rc in $((SECONDS - t0)) s"
    [ "$rc" -eq 0 ] || failed=1
  done
  return "$failed"
}

guest() {
  local family line name failed=0 pids=() logs=() i
  echo "guest kernel $(uname -r); zbl-diff $ZBL_DIFF; ops $DIFF_OPS; seeds $DIFF_SEEDS; chunk ${DIFF_CHUNK:-0}; ${DIFF_NO_ASSERT:+no-assert}"
  for family in "$@"; do
    local -n layouts=${family}_layouts
    for line in "${layouts[@]}"; do
      name=${line%%|*}
      logs+=("$ZBL_VM_RESULTS/diff-$family-$name.log")
      run_layout "$family" "$line" >"${logs[-1]}" 2>&1 &
      pids+=($!)
    done
    unset -n layouts
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed=1
    cat "${logs[$i]}"
  done
  return "$failed"
}

if [ "${1:-}" = --guest ]; then
  shift
  guest "$@"
  exit
fi

# ---------------------------------------------------------------------------- on the host
kernel=6.12 no_assert="" chunk=65536 ops=10000 seeds="1" results="" zbl_diff="" families=()
while [ $# -gt 0 ]; do
  case $1 in
    --no-assert) no_assert=1 ;;
    --kernel) kernel=$2; shift ;;
    --ops) ops=$2; shift ;;
    --chunk) chunk=$2; shift ;;
    --seeds) seeds=$2; shift ;;
    --results) results=$2; shift ;;
    --zbl-diff) zbl_diff=$2; shift ;;
    nullblk | zns | zbc) families+=("$1") ;;
    *) echo "diff.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
if [ ${#families[@]} -eq 0 ] || [ ! -x "$zbl_diff" ]; then echo "usage: diff.sh [--kernel 6.12|6.1] [--no-assert] [--chunk B] [--ops N] [--seeds S] [--results DIR] --zbl-diff BIN nullblk|zns|zbc..." >&2; exit 125; fi
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-diff-$(IFS=-; echo "${families[*]}")}

devices=()
for family in "${families[@]}"; do
  declare -n layouts=${family}_layouts
  for line in "${layouts[@]}"; do
    IFS='|' read -r name kopts _ <<<"$line"
    case $family in
      nullblk) devices+=(--nullb "$name:$kopts") ;;
      zns) devices+=(--zns "$name:$kopts") ;;
      zbc) devices+=(--zbc "$kopts") ;;
    esac
  done
  unset -n layouts
done
exec "$here/run.sh" --kernel "$kernel" --results "$results" --timeout 1200 --boot-timeout 240 "${devices[@]}" \
  --env ZBL_DIFF="$zbl_diff" --env DIFF_OPS="$ops" --env DIFF_SEEDS="$seeds" \
  --env DIFF_NO_ASSERT="$no_assert" --env DIFF_CHUNK="$chunk" -- "$here/diff.sh" --guest "${families[@]}"
