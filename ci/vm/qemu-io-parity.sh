#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh --env in the guest
# qemu-io parity: one command script through QEMU 10's qemu-io and through zbl-io, each on a
# fresh kernel device of the same kind (null_blk with conventional zones and limits, NVMe ZNS),
# and on the one scsi_debug ZBC disk (qemu-io first, then zbl-io: the script ends with a
# whole-device reset and writes conventional zones before reading them), plus zbl-io on the
# null_blk user twin; outputs must match line for line apart from qemu-io's rate lines. On the
# host: the non-zoned commands on a plain file, buffered and with -n (O_DIRECT).
#   ci/vm/qemu-io-parity.sh --zbl-io BIN [--kernel 6.12|6.1] [--file-test BIN] [--results DIR]
# --file-test: also drivers/file's file_test ZonedDevice* tests (ZBL_TEST_ZONED_DEVICE) on the
# three zbl-side devices, after the comparisons.
# Exit 0 all identical, 1 a difference (diff printed), 77 SKIP (qemu cannot run), 123-125 harness.
#
# Where QEMU 10 is wrong for the device, zbl does what the device requires and the comparison
# expects the difference; each is applied to qemu-io's output by expected() below and named in
# the log. They are:
#  1. cache.direct=off on a zoned device. QEMU means to refuse it (file-posix.c raw_open_common:
#     "requires cache.direct=on"), but the check runs before the zoned probe and never fires, so
#     qemu-io writes through the page cache and flushes after each write (its default
#     writethrough mode): a refused writeback surfaces at a later write's flush, reads return
#     cached bytes the zone never took, an append "succeeds" without moving the write pointer.
#     zbl opens a zoned host_device with O_DIRECT whatever cache.direct says
#     (drivers/file/file.cc; file_test ZonedDeviceTest.*), so zbl-io without cache.direct=on is
#     held against qemu-io's cache.direct=on run; qemu-io's own buffered run is only logged.
#  2. Zone append to a FULL zone. QEMU's write-pointer cache holds zone start + zone size for a
#     full zone (file-posix.c get_zones_wp), and its emulated append writes there: into the
#     next zone. zbl refuses (EIO), as a device's zone append does (tools/zbl-io
#     PaddedIo/zap tests; drivers/file zoned.cc ZoneAppend).
#  3. A write not aligned to the logical block size in a sequential zone. QEMU's block layer
#     pads it (read-modify-write, reading beyond the write pointer) and the zone takes a whole
#     block of bytes nobody wrote; zbl refuses it with EINVAL, as the kernel does for O_DIRECT
#     (tools/zbl-io/padded_io.h; zbl_io_test PaddedIo.*). In conventional zones and on regular
#     files both pad, and their outputs match.
#  4. (SCSI ZBC on Linux before 6.10 only.) Difference 2 on a zone made FULL by writes: QEMU's
#     append is a write at the next zone's start, off that zone's write pointer. Linux 6.12's
#     zone write plug refuses it itself (EIO, which is also zbl's answer for an append to a FULL
#     zone); Linux 6.1 has no zone write plugging and passes scsi_debug's check condition on
#     (EREMOTEIO). Measured with --kernel 6.1 / 6.12.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

nullb_opts="size=256,zone_size=4,zone_capacity=3,zone_nr_conv=4,zone_max_open=4,zone_max_active=6"
zns_opts="size=256M,logical_block_size=4096,zone_size=4M,zone_capacity=3M,max_open=4,max_active=6"
# run.sh's ZBC defaults (256 MB, 512-byte sectors, 4 MB zones, capacity 3 MB, 4 conventional)
# with the same open limit as the others.
zbc_opts="zone_max_open=4"

# The zoned script; Z = zone size, C = capacity, `first` conventional zones first.
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
    "read -P 0xab $((s + Z + 100)) 20" "read -P 0xcd $((s + Z + 8292)) 300" # byte-granular
    "zap -p $((s + 2 * Z)) 4096" "zap -p $((s + 2 * Z)) 8192" "zrp $((s + 2 * Z)) 1"
    "zap -p $((s + Z)) 4096"                      # to FULL: QEMU aims at the next zone's start
    "zc $((s + 2 * Z)) $Z" "zrp $((s + 2 * Z)) 1" "zo $((s + 2 * Z)) $Z" "zrp $((s + 2 * Z)) 1"
    "zo $((s + 3 * Z)) $Z" "zo $((s + 4 * Z)) $Z" "zo $((s + 5 * Z)) $Z" "zo $((s + 6 * Z)) $Z"
    "zrp $s 8"                                                         # open exhaustion
    "write -P 0x11 $((s + 7 * Z)) 4096" "zrp $((s + 7 * Z)) 1"
    "zf $((s + 3 * Z)) $Z" "zrp $((s + 3 * Z)) 1"
    "zf $((s + 8 * Z)) $Z" "zap -p $((s + 8 * Z)) 4096" "zrp $((s + 9 * Z)) 1" # expected diff 2
    "zrs $((s + 8 * Z)) $((2 * Z))"
    "write -P 0x77 $((s + 10 * Z)) 100" "zrp $((s + 10 * Z)) 1"       # expected difference 3
    "zrs $((s + 10 * Z)) $Z"
    "zrs $((s + 2 * Z)) $((4 * Z))"                                   # frees open/active zones
    "write -P 0x55 $((s + 11 * Z)) 4096" "write -P 0x55 $((s + 12 * Z)) 4096"
    "write -P 0x55 $((s + 13 * Z)) 4096" "write -P 0x55 $((s + 14 * Z)) 4096"
    "zc $((s + 11 * Z)) $((4 * Z))"                                   # CLOSED: still active
    "write -P 0x55 $((s + 15 * Z)) 4096" "write -P 0x55 $((s + 16 * Z)) 4096"
    "write -P 0x55 $((s + 17 * Z)) 4096" "zo $((s + 17 * Z)) $Z"     # active exhaustion
    "zrp $((s + 11 * Z)) 7" "zrs $((s + 11 * Z)) $((7 * Z))"
    "zrs $((s + 4096)) $Z" "zo $((s + Z)) 4096" "zrs $s $((Z + 4096))" # misaligned ranges
    "read -v $((s + Z)) 512"
  )
  [ "$first" -gt 0 ] && cmds+=("zo 0 $Z" "zrs 0 $Z" "write -P 0x22 4096 4096" "read -P 0x22 4096 4096"
    "write -P 0x33 4196 700" "read -P 0x22 4096 100" "read -P 0x33 4196 700" "read -P 0x22 4896 3296")
  cmds+=("zrs 0 $((64 * Z))" "zrp 0 $((first + 3))")
  for c in "${cmds[@]}"; do printf '%s\n' "$c"; done
}

# qemu-io's output as zbl-io must print it: the differences 2 and 3 of the header applied.
# Each rewrite names the line it expects from QEMU, so a QEMU that changes there fails loudly.
expected() {  # Z first qemu-out expected-out [zbc-without-write-plugs]
  local Z=$1 first=$2 s z9 z10 plugless=()
  [ "${5:-}" != 1 ] || plugless=(-e "s/^zone append failed: Remote I\/O error\$/zone append failed: Input\/output error/")
  s=$((first * Z))
  z9=$(printf '%x' $(((s + 9 * Z) >> 9)))
  z10=$(printf '%x' $(((s + 10 * Z) >> 9)))
  sed -e "s/^After zap done, the append sector is 0x$z9\$/zone append failed: Input\/output error/" \
    -e "s/^\(start: 0x$z9, len 0x[0-9a-f]*, cap 0x[0-9a-f]*, wptr \)0x[0-9a-f]*, zcond:2,/\10x$z9, zcond:1,/" \
    -e "s/^wrote 100\/100 bytes at offset $((s + 10 * Z))\$/write failed: Invalid argument/" \
    -e "s/^\(start: 0x$z10, len 0x[0-9a-f]*, cap 0x[0-9a-f]*, wptr \)0x[0-9a-f]*, zcond:2,/\10x$z10, zcond:1,/" \
    "${plugless[@]}" "$3" >"$4"
  local n
  n=$(diff "$3" "$4" | grep -c '^>' || true)
  echo "expected differences applied to $(basename "$3"): $n lines (QEMU wrong for the device, see the header)"
}

# qemu-io prints a rate line after each I/O; times differ run to run.
filter() { grep -Ev '^[0-9.]+ ([KMGTPE]iB|bytes), [0-9]+ ops; ' || true; }

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

# Difference 1: logged, not compared (the page cache makes qemu-io's lines timing-dependent).
log_buffered_qemu() {  # label buffered-out direct-out
  local n
  n=$(diff "$2" "$3" | grep -c '^[<>]' || true)
  echo "note: $1: qemu-io without cache.direct=on differs from its O_DIRECT run in $n lines (page cache, difference 1)"
}

guest() {
  local out=$ZBL_VM_RESULTS failed=0 Z=$((4 << 20)) C=$((3 << 20)) hd=driver=host_device
  zoned_script $Z $C 4 >"$out/nullb.script"
  zoned_script $Z $C 0 >"$out/zns.script"
  # null_blk and ZNS: qemu-io buffered, then O_DIRECT, on device Q; zbl-io the same on device Z.
  run_tool qemu-io "$hd,filename=$ZBL_VM_NULLB_Q" "$out/nullb.script" "$out/nullb.qemu-io"
  run_tool qemu-io "$hd,cache.direct=on,filename=$ZBL_VM_NULLB_Q" "$out/nullb.script" "$out/nullb-direct.qemu-io"
  run_tool "$ZBL_IO" "$hd,filename=$ZBL_VM_NULLB_Z" "$out/nullb.script" "$out/nullb.zbl-io"
  run_tool "$ZBL_IO" "$hd,cache.direct=on,filename=$ZBL_VM_NULLB_Z" "$out/nullb.script" "$out/nullb-direct.zbl-io"
  run_tool "$ZBL_IO" "driver=null_blk,backend=user,zoned=1,blocksize=4096,memory_backed=1,$nullb_opts" \
    "$out/nullb.script" "$out/nullb.zbl-io-user"
  run_tool qemu-io "$hd,filename=$ZBL_VM_ZNS_Q" "$out/zns.script" "$out/zns.qemu-io"
  run_tool qemu-io "$hd,cache.direct=on,filename=$ZBL_VM_ZNS_Q" "$out/zns.script" "$out/zns-direct.qemu-io"
  run_tool "$ZBL_IO" "$hd,filename=$ZBL_VM_ZNS_Z" "$out/zns.script" "$out/zns.zbl-io"
  run_tool "$ZBL_IO" "$hd,cache.direct=on,filename=$ZBL_VM_ZNS_Z" "$out/zns.script" "$out/zns-direct.zbl-io"
  # SCSI ZBC: one disk, the tools one after the other.
  run_tool qemu-io "$hd,cache.direct=on,filename=$ZBL_VM_ZBC" "$out/nullb.script" "$out/zbc-direct.qemu-io"
  run_tool "$ZBL_IO" "$hd,cache.direct=on,filename=$ZBL_VM_ZBC" "$out/nullb.script" "$out/zbc-direct.zbl-io"
  run_tool "$ZBL_IO" "$hd,filename=$ZBL_VM_ZBC" "$out/nullb.script" "$out/zbc.zbl-io"

  expected $Z 4 "$out/nullb-direct.qemu-io" "$out/nullb.expected"
  expected $Z 0 "$out/zns-direct.qemu-io" "$out/zns.expected"
  # Zone write plugging arrived in Linux 6.10 (difference 4).
  local rel major minor no_plugs=0
  rel=$(uname -r)
  IFS=. read -r major minor _ <<<"$rel"
  if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "${minor%%[!0-9]*}" -lt 10 ]; }; then no_plugs=1; fi
  expected $Z 4 "$out/zbc-direct.qemu-io" "$out/zbc.expected" "$no_plugs"
  log_buffered_qemu "null_blk" "$out/nullb.qemu-io" "$out/nullb-direct.qemu-io"
  log_buffered_qemu "NVMe ZNS" "$out/zns.qemu-io" "$out/zns-direct.qemu-io"
  compare "null_blk kernel: zbl-io vs qemu-io" "$out/nullb.expected" "$out/nullb-direct.zbl-io" || failed=1
  compare "null_blk kernel, zbl-io without cache.direct=on (O_DIRECT all the same)" \
    "$out/nullb.expected" "$out/nullb.zbl-io" || failed=1
  compare "null_blk user twin: zbl-io vs qemu-io on the kernel" "$out/nullb.expected" "$out/nullb.zbl-io-user" || failed=1
  compare "NVMe ZNS: zbl-io vs qemu-io" "$out/zns.expected" "$out/zns-direct.zbl-io" || failed=1
  compare "NVMe ZNS, zbl-io without cache.direct=on" "$out/zns.expected" "$out/zns.zbl-io" || failed=1
  compare "SCSI ZBC: zbl-io vs qemu-io" "$out/zbc.expected" "$out/zbc-direct.zbl-io" || failed=1
  compare "SCSI ZBC, zbl-io without cache.direct=on" "$out/zbc.expected" "$out/zbc.zbl-io" || failed=1
  if [ -n "${ZBL_FILE_TEST:-}" ]; then
    local d
    for d in "$ZBL_VM_NULLB_Z" "$ZBL_VM_ZNS_Z" "$ZBL_VM_ZBC"; do
      if ZBL_TEST_ZONED_DEVICE=$d "$ZBL_FILE_TEST" --gtest_filter='ZonedDevice*' --gtest_brief=1 \
        >"$out/file_test.$(basename "$d").log" 2>&1; then
        echo "PASS: file_test ZonedDevice* on $d"
      else
        echo "FAIL: file_test ZonedDevice* on $d"; cat "$out/file_test.$(basename "$d").log"; failed=1
      fi
    done
  fi
  return "$failed"
}

if [ "${1:-}" = --guest ]; then
  guest
  exit
fi

zbl_io="" results="" file_test="" kernel=6.12
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-io) zbl_io=$2; shift ;;
    --file-test) file_test=$2; shift ;;
    --kernel) kernel=$2; shift ;;
    --results) results=$2; shift ;;
    *) echo "qemu-io-parity.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
[ -x "$zbl_io" ] || { echo "usage: qemu-io-parity.sh --zbl-io BIN [--kernel 6.12|6.1] [--file-test BIN] [--results DIR]" >&2; exit 125; }
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-qemu-io-parity}
mkdir -p "$results"

# Host: the non-zoned commands on a plain file, through the page cache and with -n (O_DIRECT).
host_failed=0
img=$results/plain.img
host_script=(-c "info" -c "write -P 0x5a 0 8192" -c "read -P 0x5a 0 8192" -c "read -v 4096 64"
  -c "write -z 8192 4096" -c "read -P 0 8192 4096" -c "read -P 0x11 0 512"
  -c "write -P 0x77 100 700" -c "read -P 0x77 100 700" -c "read -P 0x5a 0 100"
  -c "read -P 0x5a 800 7392" -c "read -v 4090 12" -c "length")
for mode in "" -n; do
  for t in qemu-io "$zbl_io"; do
    rm -f "$img" && truncate -s 1M "$img"
    o=$results/host$mode.$(basename "$t")
    "$t" ${mode:+"$mode"} -f raw "$img" "${host_script[@]}" 2>"$o.err" | filter >"$o" || true
  done
  compare "host plain file${mode:+ ($mode)}: zbl-io vs qemu-io" "$results/host$mode.qemu-io" \
    "$results/host$mode.zbl-io" || host_failed=1
done

rc=0
"$here/run.sh" --kernel "$kernel" --results "$results" --timeout 600 --boot-timeout 240 \
  --nullb "q:$nullb_opts" --nullb "z:$nullb_opts" --zns "q:$zns_opts" --zns "z:$zns_opts" \
  --zbc "$zbc_opts" \
  --env ZBL_IO="$zbl_io" --env ZBL_FILE_TEST="$file_test" --env nullb_opts="$nullb_opts" \
  -- "$here/qemu-io-parity.sh" --guest || rc=$?
[ "$rc" -eq 0 ] && [ "$host_failed" -eq 0 ] || exit $((rc ? rc : 1))
