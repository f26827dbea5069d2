#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh --env in the guest
# Errno cells: the answer each real kernel device gives in each refused state, measured through
# QEMU 10's qemu-io (REPEATS times, to see whether the device is deterministic there) and held
# against zbl-io on the same kernel device (host_device) and on zbl's twin of it
# (driver=emulated,profile=FAMILY; for null_blk also the null_blk user twin). Each state is one
# short command script run on a freshly reset device, so every state starts from the same
# history (no zone write plug survives a reset-all).
#   ci/vm/errno-cells.sh --zbl-io BIN [--repeats N] [--results DIR] [--no-assert]
# Prints one table row per (family, state): the error lines of each tool, and FAIL when the
# twin's or host_device's output differs from qemu-io's, or qemu-io's runs differ from each
# other (a nondeterministic cell: the table in drivers/emulated/profile.h must then say so).
# Exit 0 all agree, 1 a difference, 77 SKIP (qemu cannot run), 123-125 harness codes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

Z=$((4 << 20)) C=$((3 << 20)) B=4096 SIZE=$((256 << 20))
nullb_opts="size=256,zone_size=4,zone_capacity=3,zone_nr_conv=4,zone_max_open=4,zone_max_active=6"
zns_opts="size=256M,logical_block_size=4096,zone_size=4M,zone_capacity=3M,max_open=4,max_active=6"
zbc_opts="zone_max_open=4"  # run.sh's defaults: 256 MB, 512 B, 4 MB zones, capacity 3 MB, 4 conventional
geo="size=$SIZE,zone-size=$Z,zone-capacity=$C"
nullb_twin="driver=emulated,profile=null_blk,$geo,block-size=4096,conventional-zones=4,max-open-zones=4,max-active-zones=6,max-append-bytes=126976"
nullb_user="driver=null_blk,backend=user,zoned=1,blocksize=4096,memory_backed=1,$nullb_opts"
zns_twin="driver=emulated,profile=zns,$geo,block-size=4096,max-open-zones=4,max-active-zones=6,max-append-bytes=524288"
zbc_twin="driver=emulated,profile=zbc,$geo,block-size=512,conventional-zones=4,max-open-zones=4,max-append-bytes=4194304"

# The states. `first` = conventional zones before the first sequential one; zone k of a state
# starts at s + k*Z. Each state: name|needs (conv: conventional zones; noqemu: qemu-io is
# wrong for the device there, see qemu-io-parity.sh difference 2)|commands separated by ';'.
states() {
  local first=$1 s z
  s=$((first * Z))
  z() { echo $((s + $1 * Z)); }
  cat <<EOF
conv_append|conv|zap -p 0 $B
conv_zone_ops|conv|zo 0 $Z;zc 0 $Z;zf 0 $Z;zrs 0 $Z
empty_ahead||write -P 1 $(($(z 0) + B)) $B;zrp $(z 0) 1;write -P 1 $(z 0) $B;zrp $(z 0) 1
empty_gap||write -P 1 $(($(z 1) + C)) $B;zrp $(z 1) 1;write -P 1 $(z 1) $B;zrp $(z 1) 1
exp_open_ahead||zo $(z 2) $Z;write -P 1 $(($(z 2) + B)) $B;zrp $(z 2) 1
open_ahead||write -P 1 $(z 3) 8192;write -P 1 $(($(z 3) + 16384)) $B;zrp $(z 3) 1;write -P 1 $(($(z 3) + 8192)) $B;zrp $(z 3) 1
open_behind||write -P 1 $(z 4) 8192;write -P 1 $(z 4) $B;zrp $(z 4) 1
closed_ahead||write -P 1 $(z 5) 8192;zc $(z 5) $Z;write -P 1 $(($(z 5) + 16384)) $B;zrp $(z 5) 1
open_across_cap||write -P 1 $(z 6) 1048576;write -P 1 $(($(z 6) + 1048576)) 1048576;write -P 1 $(($(z 6) + 2097152)) $((1048576 - B));write -P 1 $(($(z 6) + C - B)) 8192;zrp $(z 6) 1
full_written||write -P 1 $(z 7) 1048576;write -P 1 $(($(z 7) + 1048576)) 1048576;write -P 1 $(($(z 7) + 2097152)) 1048576;zrp $(z 7) 1;write -P 1 $(($(z 7) + C - B)) $B;zrp $(z 7) 1;write -P 1 $(($(z 7) + C)) $B;zrp $(z 7) 1;write -P 1 $(z 7) $B
full_finished||zf $(z 8) $Z;write -P 1 $(z 8) $B;zrp $(z 8) 1;write -P 1 $(($(z 8) + C)) $B;zrp $(z 8) 1
append_across_cap||write -P 1 $(z 9) 1048576;write -P 1 $(($(z 9) + 1048576)) 1048576;write -P 1 $(($(z 9) + 2097152)) $((1048576 - B));zap -p $(z 9) 8192;zrp $(z 9) 1;zap -p $(z 9) $B;zrp $(z 9) 1
append_not_start||zap -p $(($(z 10) + B)) $B;zrp $(z 10) 1
append_full|noqemu|zf $(z 11) $Z;zap -p $(z 11) $B;zrp $(z 11) 1
read_across_cap||write -P 1 $(z 12) $B;read $(($(z 12) + C - B)) 8192;read $(($(z 12) + C)) $B
open_full||zf $(z 13) $Z;zo $(z 13) $Z;zc $(z 13) $Z;zc $(z 14) $Z;zrp $(z 13) 2
EOF
  unset -f z
}

# qemu-io prints a rate line after each I/O; times differ run to run.
filter() { grep -Ev '^[0-9.]+ ([KMGTPE]iB|bytes), [0-9]+ ops; ' || true; }

run_tool() {  # tool image-opts commands out-file
  local tool=$1 opts=$2 cmds=$3 out=$4 args=() c
  IFS=';' read -r -a list <<<"$cmds"
  args=(-c "zrs 0 $SIZE")
  for c in "${list[@]}"; do args+=(-c "$c"); done
  "$tool" --image-opts "$opts" "${args[@]}" 2>"$out.err" | filter >"$out" || true
}

errs() { { grep -E 'failed|error|Error' "$1" || true; } | tr '\n' ' ' | sed 's/ $//'; }

# One family: every state through each tool. Devices: REF (qemu-io), HD (zbl-io host_device;
# the same device as REF when the family has one device), twins.
run_family() {  # family first ref-dev hd-dev twin...
  local fam=$1 first=$2 ref=$3 hd=$4 out=$ZBL_VM_RESULTS/errno-$1 failed=0 line name needs cmds r t
  shift 4
  mkdir -p "$out"
  while IFS= read -r line; do
    IFS='|' read -r name needs cmds <<<"$line"
    if [ "$needs" = conv ] && [ "$first" -eq 0 ]; then continue; fi
    local row="$fam $name:" bad=""
    if [ "$needs" != noqemu ]; then
      for r in $(seq 1 "$REPEATS"); do
        run_tool qemu-io "driver=host_device,cache.direct=on,filename=$ref" "$cmds" "$out/$name.qemu-io.$r"
        if [ "$r" -gt 1 ] && ! cmp -s "$out/$name.qemu-io.1" "$out/$name.qemu-io.$r"; then
          bad+=" qemu-io-run-$r-differs"
        fi
      done
      row+=" qemu-io=[$(errs "$out/$name.qemu-io.1")]"
    fi
    run_tool "$ZBL_IO" "driver=host_device,cache.direct=on,filename=$hd" "$cmds" "$out/$name.host_device"
    row+=" host_device=[$(errs "$out/$name.host_device")]"
    local reference=$out/$name.qemu-io.1
    [ "$needs" = noqemu ] && reference=$out/$name.host_device
    if ! diff -u "$reference" "$out/$name.host_device" >"$out/$name.host_device.diff"; then
      bad+=" host_device-differs"
    fi
    local i=0
    for t in "$@"; do
      i=$((i + 1))
      run_tool "$ZBL_IO" "$t" "$cmds" "$out/$name.twin$i"
      row+=" twin$i=[$(errs "$out/$name.twin$i")]"
      if ! diff -u "$reference" "$out/$name.twin$i" >"$out/$name.twin$i.diff"; then
        bad+=" twin$i-differs"
      fi
    done
    if [ -n "$bad" ]; then
      echo "FAIL $row ($bad )"
      failed=1
      cat "$out/$name".*.diff 2>/dev/null | grep -E '^[-+][^-+]' | sed 's/^/    /' || true
    else
      echo "ok   $row"
    fi
  done <<<"$(states "$first")"
  return "$failed"
}

guest() {
  echo "kernel $(uname -r); qemu-io $(qemu-io --version | head -1); repeats $REPEATS"
  local failed=0 pids=() logs=() f p
  run_family null_blk 4 "$ZBL_VM_NULLB_Q" "$ZBL_VM_NULLB_Z" "$nullb_twin" "$nullb_user" \
    >"$ZBL_VM_RESULTS/errno-null_blk.log" 2>&1 &
  pids+=($!) logs+=("$ZBL_VM_RESULTS/errno-null_blk.log")
  run_family zns 0 "$ZBL_VM_ZNS_Q" "$ZBL_VM_ZNS_Z" "$zns_twin" >"$ZBL_VM_RESULTS/errno-zns.log" 2>&1 &
  pids+=($!) logs+=("$ZBL_VM_RESULTS/errno-zns.log")
  run_family zbc 4 "$ZBL_VM_ZBC" "$ZBL_VM_ZBC" "$zbc_twin" >"$ZBL_VM_RESULTS/errno-zbc.log" 2>&1 &
  pids+=($!) logs+=("$ZBL_VM_RESULTS/errno-zbc.log")
  for p in "${!pids[@]}"; do
    wait "${pids[$p]}" || failed=1
    cat "${logs[$p]}"
  done
  [ "$failed" -eq 0 ] || [ -n "${NO_ASSERT:-}" ]
}

if [ "${1:-}" = --guest ]; then
  guest
  exit
fi

zbl_io="" results="" repeats=3 no_assert=""
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-io) zbl_io=$2; shift ;;
    --results) results=$2; shift ;;
    --repeats) repeats=$2; shift ;;
    --no-assert) no_assert=1 ;;
    *) echo "errno-cells.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
[ -x "$zbl_io" ] || { echo "usage: errno-cells.sh --zbl-io BIN [--repeats N] [--results DIR] [--no-assert]" >&2; exit 125; }
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-errno-cells}
mkdir -p "$results"
exec "$here/run.sh" --results "$results" --timeout 900 --boot-timeout 240 \
  --nullb "q:$nullb_opts" --nullb "z:$nullb_opts" --zns "q:$zns_opts" --zns "z:$zns_opts" \
  --zbc "$zbc_opts" \
  --env ZBL_IO="$zbl_io" --env REPEATS="$repeats" --env NO_ASSERT="$no_assert" \
  -- "$here/errno-cells.sh" --guest
