#!/usr/bin/env bash
# Smoke check of the VM harness: boots one zoned null_blk device, one NVMe ZNS namespace and the
# scsi_debug ZBC disk, and in the guest runs, on each device, `blkzone report` and QEMU 10's
# qemu-io zone commands (zrp / zo / zrs), plus a small fio zonemode=zbd write on the null_blk
# device. Exits 0 when all passed, 1 when a check failed, the harness's code (123 boot/setup,
# 124 timeout, 125 harness error) when the VM did not get that far, and 77 (SKIP) only when
# qemu-system cannot run at all on this machine.
#   ci/vm/smoke.sh [--accel auto|kvm|tcg]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# ---------------------------------------------------------------------------- inside the guest
guest() {
  local passed=0 failed=0
  ok() { echo "  PASS: $*"; passed=$((passed + 1)); }
  ko() { echo "  FAIL: $*"; failed=$((failed + 1)); }
  echo "guest kernel $(uname -r), devices: $ZBL_VM_DEVICES"
  local qv
  qv=$(qemu-io --version | sed -n '1s/.*version \([0-9]*\).*/\1/p')
  if [ "${qv:-0}" -ge 10 ]; then ok "qemu-io $(qemu-io --version | head -n1)"; else ko "qemu-io version '${qv}' < 10"; fi

  local var dev report nz nr first start len off zsz out
  for var in ZBL_VM_NULLB_ZONED ZBL_VM_ZNS_ZNS ZBL_VM_ZBC; do
    dev=${!var:-}
    echo "### $var=$dev"
    if [ -z "$dev" ] || [ ! -b "$dev" ]; then ko "$var: no block device"; continue; fi
    if ! report=$(blkzone report "$dev"); then ko "$dev: blkzone report failed"; continue; fi
    nz=$(grep -c 'start:' <<<"$report" || true)
    nr=$(cat "/sys/block/$(basename "$dev")/queue/nr_zones")
    echo "$ blkzone report $dev   (first 3 of $nz zones)"
    head -n 3 <<<"$report"
    if [ "$nz" -gt 0 ] && [ "$nz" -eq "$nr" ]; then ok "$dev: blkzone report lists $nz zones = queue/nr_zones"
    else ko "$dev: blkzone report lists $nz zones, queue/nr_zones is $nr"; fi

    first=$(grep -m1 'SEQ_WRITE_REQUIRED' <<<"$report" || true)
    if [ -z "$first" ]; then ko "$dev: no sequential zone"; continue; fi
    start=$(sed -n 's/.*start: \(0x[0-9a-f]*\),.*/\1/p' <<<"$first")
    len=$(sed -n 's/.*len \(0x[0-9a-f]*\),.*/\1/p' <<<"$first")
    off=$((start * 512))
    zsz=$((len * 512))
    echo "$ qemu-io --image-opts driver=host_device,filename=$dev -c 'zrp 0 4' -c 'zo $off $zsz' -c 'zrp $off 1'"
    if out=$(qemu-io --image-opts "driver=host_device,filename=$dev" -c 'zrp 0 4' -c "zo $off $zsz" \
      -c "zrp $off 1" 2>&1); then
      echo "$out"
      if tail -n1 <<<"$out" | grep -q 'zcond:3,'; then ok "$dev: qemu-io zo opened the zone at $off (zcond:3)"
      else ko "$dev: after zo the zone at $off is not explicitly open"; fi
    else
      echo "$out"
      ko "$dev: qemu-io zrp/zo failed"
    fi
    if out=$(qemu-io --image-opts "driver=host_device,filename=$dev" -c "zrs $off $zsz" -c "zrp $off 1" 2>&1) &&
      tail -n1 <<<"$out" | grep -q 'zcond:1,'; then ok "$dev: qemu-io zrs reset the zone (zcond:1)"
    else
      echo "$out"
      ko "$dev: qemu-io zrs failed"
    fi
  done

  echo "### fio"
  if fio --version; then ok "fio runs in the guest"; else ko "fio missing"; fi
  dev=${ZBL_VM_NULLB_ZONED:-}
  if [ -n "$dev" ] && [ -b "$dev" ]; then
    zsz=$(($(cat "/sys/block/$(basename "$dev")/queue/chunk_sectors") * 512))
    if fio --name=smoke --filename="$dev" --direct=1 --zonemode=zbd --rw=write --bs=64k \
      --size=$((2 * zsz)) --ioengine=psync --output="$ZBL_VM_RESULTS/smoke-fio.txt" &&
      blkzone report -c 2 "$dev" | grep -c 'zcond:14(fu)' | grep -qx 2; then
      ok "$dev: fio zonemode=zbd wrote 2 zones, both full"
    else
      ko "$dev: fio zonemode=zbd write (see $ZBL_VM_RESULTS/smoke-fio.txt)"
    fi
    blkzone reset "$dev" || ko "$dev: blkzone reset failed"
  fi
  echo "smoke: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

if [ "${1:-}" = --guest ]; then
  guest
  exit
fi

# ---------------------------------------------------------------------------- on the host
qemu=${ZBL_VM_QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null; then
  echo "SKIP: $qemu is not installed (ci/deps.sh installs QEMU 10 from bookworm-backports)"
  exit 77
fi
if ! (echo quit | timeout 60 "$qemu" -accel tcg -M none -nodefaults -display none -monitor stdio) >/dev/null 2>&1; then
  echo "SKIP: $qemu cannot run on this machine (even with TCG)"
  exit 77
fi

results=$repo/results/vm-smoke
rc=0
"$here/run.sh" "$@" --results "$results" --timeout 600 --boot-timeout 180 \
  --nullb zoned --zns zns --zbc -- "$here/smoke.sh" --guest || rc=$?
if [ -f "$results/vm-run.json" ]; then
  sed -n 's/^  "\(state\|accel\|boot_seconds\|command_seconds\|total_seconds\)": /smoke: \1=/p' \
    "$results/vm-run.json" | tr -d '",'
fi
case $rc in
  0) echo "smoke: OK" ;;
  *) echo "smoke: FAILED (exit $rc; see $results/vm-console.log and vm-run.json)" ;;
esac
exit "$rc"
