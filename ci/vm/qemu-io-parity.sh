#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh --env in the guest
# qemu-io parity: one command script through QEMU 10's qemu-io and through zbl-io, each on a
# fresh kernel device of the same kind (null_blk with conventional zones and limits, NVMe ZNS),
# plus zbl-io on the null_blk user twin; outputs must match line for line apart from qemu-io's
# rate lines. On the host: the non-zoned commands on a plain file.
#   ci/vm/qemu-io-parity.sh --zbl-io BIN [--results DIR]
# Exit 0 all identical, 1 a difference (diff printed), 77 SKIP (qemu cannot run), 123-125 harness.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

nullb_opts="size=256,zone_size=4,zone_capacity=3,zone_nr_conv=4,zone_max_open=4,zone_max_active=6"
zns_opts="size=256M,logical_block_size=4096,zone_size=4M,zone_capacity=3M,max_open=4,max_active=6"

# The zoned script; Z = zone size, C = capacity, conventional zones first (null_blk).
zoned_script() {
  local Z=$1 C=$2 first=$3 s
  s=$((first * Z))
  local cmds=(
    "zrp 0 $((first + 3))"
    "zo $s $Z" "zrp $s 1" "zc $s $Z" "zrp $s 1"                       # close of EXP_OPEN@start
    "zc $s $Z" "zf $s $Z" "zrp $s 1" "zo $s $Z" "zc $s $Z" "zrs $s $Z" # from EMPTY / FULL
    "write -P 0xab $((s + Z)) 8192" "zrp $((s + Z)) 1"
    "write -P 0xab $((s + Z)) 4096"                                    # off the write pointer
    "write -P 0xcd $((s + Z + 8192)) $((C - 8192))" "zrp $((s + Z)) 1" # to capacity: FULL
    "write -P 0xcd $((s + Z + C)) 4096"                                # in the gap
    "read -P 0xab $((s + Z)) 8192" "read -P 0xcd $((s + Z + 8192)) 4096"
    "zap -p $((s + Z)) 4096"                                              # append to FULL
    "zap -p $((s + 2 * Z)) 4096" "zap -p $((s + 2 * Z)) 8192" "zrp $((s + 2 * Z)) 1"
    "zc $((s + 2 * Z)) $Z" "zrp $((s + 2 * Z)) 1" "zo $((s + 2 * Z)) $Z" "zrp $((s + 2 * Z)) 1"
    "zo $((s + 3 * Z)) $Z" "zo $((s + 4 * Z)) $Z" "zo $((s + 5 * Z)) $Z" "zo $((s + 6 * Z)) $Z"
    "zrp $s 8"                                                         # open exhaustion
    "write -P 0x11 $((s + 7 * Z)) 4096" "zrp $((s + 7 * Z)) 1"
    "zf $((s + 3 * Z)) $Z" "zrp $((s + 3 * Z)) 1"
    "zrs $((s + 4096)) $Z" "zo $((s + Z)) 4096" "zrs $s $((Z + 4096))" # misaligned ranges
    "read -v $((s + Z)) 512"
  )
  [ "$first" -gt 0 ] && cmds+=("zo 0 $Z" "zrs 0 $Z" "write -P 0x22 4096 4096" "read -P 0x22 4096 4096")
  cmds+=("zrs 0 $((64 * Z))" "zrp 0 $((first + 3))")
  for c in "${cmds[@]}"; do printf '%s\n' "$c"; done
}

# qemu-io prints a rate line after each I/O; times differ run to run.
filter() { grep -Ev '^[0-9.]+ [KMGT]?i?B, [0-9]+ ops; ' || true; }

# stdout is compared; stderr (diagnostics naming the program) is kept beside it as OUT.err.
run_tool() {  # tool image-opts script-file out-file
  local tool=$1 opts=$2 script=$3 out=$4 args=() c
  while IFS= read -r c; do args+=(-c "$c"); done <"$script"
  "$tool" --image-opts "$opts" "${args[@]}" 2>"$out.err" | filter >"$out" || true
}

compare() {  # label reference candidate
  if diff -u "$2" "$3" >"$3.diff"; then echo "PASS: $1"; return 0; fi
  echo "FAIL: $1"; cat "$3.diff"; return 1
}

guest() {
  local out=$ZBL_VM_RESULTS failed=0 Z=$((4 << 20)) C=$((3 << 20))
  zoned_script $Z $C 4 >"$out/nullb.script"
  zoned_script $Z $C 0 >"$out/zns.script"
  run_tool qemu-io "driver=host_device,filename=$ZBL_VM_NULLB_Q" "$out/nullb.script" "$out/nullb.qemu-io"
  run_tool "$ZBL_IO" "driver=host_device,filename=$ZBL_VM_NULLB_Z" "$out/nullb.script" "$out/nullb.zbl-io"
  run_tool "$ZBL_IO" "driver=null_blk,backend=user,zoned=1,blocksize=4096,memory_backed=1,$nullb_opts" \
    "$out/nullb.script" "$out/nullb.zbl-io-user"
  run_tool qemu-io "driver=host_device,filename=$ZBL_VM_ZNS_Q" "$out/zns.script" "$out/zns.qemu-io"
  run_tool "$ZBL_IO" "driver=host_device,filename=$ZBL_VM_ZNS_Z" "$out/zns.script" "$out/zns.zbl-io"
  # The same with O_DIRECT on both sides (after the script's whole-device reset).
  run_tool qemu-io "driver=host_device,cache.direct=on,filename=$ZBL_VM_NULLB_Q" "$out/nullb.script" "$out/nullb-direct.qemu-io"
  run_tool "$ZBL_IO" "driver=host_device,cache.direct=on,filename=$ZBL_VM_NULLB_Z" "$out/nullb.script" "$out/nullb-direct.zbl-io"
  run_tool qemu-io "driver=host_device,cache.direct=on,filename=$ZBL_VM_ZNS_Q" "$out/zns.script" "$out/zns-direct.qemu-io"
  run_tool "$ZBL_IO" "driver=host_device,cache.direct=on,filename=$ZBL_VM_ZNS_Z" "$out/zns.script" "$out/zns-direct.zbl-io"
  compare "null_blk kernel: zbl-io vs qemu-io" "$out/nullb.qemu-io" "$out/nullb.zbl-io" || failed=1
  compare "null_blk user twin: zbl-io vs qemu-io on the kernel" "$out/nullb.qemu-io" "$out/nullb.zbl-io-user" || failed=1
  compare "NVMe ZNS: zbl-io vs qemu-io" "$out/zns.qemu-io" "$out/zns.zbl-io" || failed=1
  compare "null_blk kernel, cache.direct=on: zbl-io vs qemu-io" "$out/nullb-direct.qemu-io" "$out/nullb-direct.zbl-io" || failed=1
  compare "NVMe ZNS, cache.direct=on: zbl-io vs qemu-io" "$out/zns-direct.qemu-io" "$out/zns-direct.zbl-io" || failed=1
  return "$failed"
}

if [ "${1:-}" = --guest ]; then
  guest
  exit
fi

zbl_io="" results=""
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-io) zbl_io=$2; shift ;;
    --results) results=$2; shift ;;
    *) echo "qemu-io-parity.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
[ -x "$zbl_io" ] || { echo "usage: qemu-io-parity.sh --zbl-io BIN [--results DIR]" >&2; exit 125; }
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-qemu-io-parity}
mkdir -p "$results"

# Host: the non-zoned commands on a plain file.
host_failed=0
img=$results/plain.img
host_script=(-c "info" -c "write -P 0x5a 0 8192" -c "read -P 0x5a 0 8192" -c "read -v 4096 64"
  -c "write -z 8192 4096" -c "read -P 0 8192 4096" -c "read -P 0x11 0 512" -c "length")
for t in qemu-io "$zbl_io"; do
  rm -f "$img" && truncate -s 1M "$img"
  "$t" -f raw "$img" "${host_script[@]}" 2>"$results/host.$(basename "$t").err" | filter >"$results/host.$(basename "$t")" || true
done
compare "host plain file: zbl-io vs qemu-io" "$results/host.qemu-io" "$results/host.zbl-io" || host_failed=1

rc=0
"$here/run.sh" --results "$results" --timeout 600 --boot-timeout 240 \
  --nullb "q:$nullb_opts" --nullb "z:$nullb_opts" --zns "q:$zns_opts" --zns "z:$zns_opts" \
  --env ZBL_IO="$zbl_io" --env nullb_opts="$nullb_opts" -- "$here/qemu-io-parity.sh" --guest || rc=$?
[ "$rc" -eq 0 ] && [ "$host_failed" -eq 0 ] || exit $((rc ? rc : 1))
