#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh --env in the guest
# zbl-suites inside the guest on every kind of real kernel device, GoogleTest JSON + devices.json
# into the results folder (one subfolder per device configuration) for the report's
# real-kernel columns.
#   ci/vm/suites.sh --zbl-suites BIN [--kernel 6.12|6.1] [--results DIR] [-- extra gtest args]
# --kernel picks the guest kernel series (run.sh --kernel, default 6.12); every results file of the
# run records the kernel (devices.json's environment, vm-devices.json, vm-run.json).
# Exit 0 all suites passed, 1 a failure, 77 SKIP (qemu cannot run), 123-125 harness codes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# name | env var of the device ("-": the option string makes its own) | family | option string
# (prefix; the device path is appended)
nb_kernel="backend=kernel,zoned=1,size=64,zone_size=2,zone_capacity=1,zone_nr_conv=2,zone_max_open=4,zone_max_active=6,blocksize=4096,memory_backed=1"
configs=(
  "nullb-kernel|-|null_blk|driver=null_blk,$nb_kernel"
  "nullb-kernel-raw|-|null_blk|driver=raw,file.driver=null_blk,file.${nb_kernel//,/,file.}"
  "nullb-lim|ZBL_VM_NULLB_LIM|null_blk|driver=host_device,cache.direct=on,filename="
  "nullb-lim-raw|ZBL_VM_NULLB_LIM|null_blk|driver=raw,file.driver=host_device,file.cache.direct=on,file.filename="
  "nullb-small|ZBL_VM_NULLB_SMALL|null_blk|driver=host_device,cache.direct=on,filename="
  "nullb-nomem|ZBL_VM_NULLB_NOMEM|null_blk|driver=host_device,cache.direct=on,filename="
  "zns-lim|ZBL_VM_ZNS_LIM|zns|driver=host_device,cache.direct=on,filename="
  "zns-small|ZBL_VM_ZNS_SMALL|zns|driver=host_device,cache.direct=on,filename="
  "zbc|ZBL_VM_ZBC|zbc|driver=host_device,cache.direct=on,filename="
)

guest() {
  local line name var family prefix dev rc persistent failed=0
  # The built-in configurations run on the host already; here only the kernel devices: each
  # ZBL_DEVICE, and once the suites' own kernel null_blk configuration (root + configfs).
  local filter='*/user_device:*/null_blk_kernel'
  for line in "${configs[@]}"; do
    IFS='|' read -r name var family prefix <<<"$line"
    dev=""
    if [ "$var" != - ]; then
      dev=${!var:-}
      if [ -z "$dev" ] || [ ! -b "$dev" ]; then echo "FAIL: $name: $var is not a block device"; failed=1; continue; fi
    fi
    mkdir -p "$ZBL_VM_RESULTS/$name"
    echo "### $name: ZBL_DEVICE=$prefix$dev ZBL_PROFILE=$family"
    rc=0
    # A device the option string makes (null_blk backend=kernel) lives while it is open.
    persistent=1
    [ "$var" != - ] || persistent=0
    ZBL_DEVICE="$prefix$dev" ZBL_PROFILE=$family ZBL_ALLOW_DESTRUCTIVE=1 ZBL_DEVICE_PERSISTENT=$persistent \
      ZBL_RESULTS_DIR="$ZBL_VM_RESULTS/$name" "$ZBL_SUITES" --gtest_filter="$filter" "$@" \
      --gtest_output="json:$ZBL_VM_RESULTS/$name/zbl-suites.json" || rc=$?
    echo "### $name: exit $rc"
    filter='*/user_device'
    # Cell by cell, the device's fingerprint must name its own family's profile.
    python3 - "$ZBL_VM_RESULTS/$name/devices.json" "$family" <<'PY' || rc=1
import json, sys
devices, family = json.load(open(sys.argv[1])), sys.argv[2]
dev = next(c for c in devices["configs"] if c["name"] == "user_device")
got = dev.get("fingerprint_match")
cells = ", ".join(f"{k}={v}" for k, v in sorted(dev.get("fingerprint", {}).items()))
print(f"### fingerprint: {got} (want {family}): {cells}")
sys.exit(0 if got == family else 1)
PY
    [ "$rc" -eq 0 ] || failed=1
  done
  return "$failed"
}

if [ "${1:-}" = --guest ]; then
  shift
  guest "$@"
  exit
fi

suites="" results="" kernel=6.12
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-suites) suites=$2; shift ;;
    --kernel) kernel=$2; shift ;;
    --results) results=$2; shift ;;
    --) shift; break ;;
    *) echo "suites.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
[ -x "$suites" ] || { echo "usage: suites.sh --zbl-suites BIN [--kernel 6.12|6.1] [--results DIR] [-- gtest args]" >&2; exit 125; }
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-suites}
exec "$here/run.sh" --kernel "$kernel" --results "$results" --timeout 1500 --boot-timeout 240 \
  --nullb lim:size=256,zone_size=4,zone_capacity=3,zone_nr_conv=4,zone_max_open=4,zone_max_active=6 \
  --nullb small:blocksize=512,size=64,zone_size=1,zone_nr_conv=2,zone_max_open=3,zone_max_active=5 \
  --nullb nomem:size=256,zone_size=4,zone_max_open=6,memory_backed=0 \
  --zns lim:size=256M,logical_block_size=4096,zone_size=4M,zone_capacity=3M,max_open=4,max_active=6,scheduler=mq-deadline \
  --zns small:size=64M,logical_block_size=512,zone_size=1M,zone_capacity=1M,max_open=3,max_active=5,scheduler=mq-deadline \
  --zbc zone_nr_conv=4,zone_max_open=8 \
  --env ZBL_SUITES="$suites" -- "$here/suites.sh" --guest "$@"
