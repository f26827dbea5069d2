#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh --env in the guest
# NVMe passthrough (driver=nvme_passthru, /dev/ngXnY) judged on QEMU's NVMe ZNS namespaces in the
# guest: nvme_passthru_vm_test (native append, ZRWA, descriptor extensions, zone attributes,
# block-device coherence) on a namespace configured with a ZRWA, descriptor extensions and a
# ZASL below the transfer limit, and on a plain 512-byte namespace; then zbl-suites through
# driver=nvme_passthru on the plain one, held to the zns family. GoogleTest JSON per namespace
# under the results folder.
#   ci/vm/passthru.sh --vm-test BIN [--zbl-suites BIN] [--bench-io BIN] [--results DIR] [--kernel K]
# Exit 0 all passed, 1 a failure, 77 SKIP (qemu cannot run), 123-125 harness codes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# name | env var of the block device | features the test must find | run the suites too
configs=(
  "zrwa|ZBL_VM_ZNS_ZRWA|zrwa,descext,zasl|0"
  "plain|ZBL_VM_ZNS_PLAIN||1"
)

guest() {
  local line name var req suites blk ng rc failed=0 ran
  for line in "${configs[@]}"; do
    IFS='|' read -r name var req suites <<<"$line"
    blk=${!var:-}
    if [ -z "$blk" ] || [ ! -b "$blk" ]; then echo "FAIL: $name: $var is not a block device"; failed=1; continue; fi
    ng=/dev/ng${blk#/dev/nvme}
    if [ ! -c "$ng" ]; then echo "FAIL: $name: no generic device $ng for $blk"; failed=1; continue; fi
    mkdir -p "$ZBL_VM_RESULTS/$name"
    echo "### $name: $ng ($blk) kernel $(uname -r) require '$req'"
    rc=0
    ZBL_NVME_NG=$ng ZBL_NVME_REQUIRE=$req "$ZBL_NVME_VM_TEST" \
      --gtest_output="json:$ZBL_VM_RESULTS/$name/nvme_passthru_vm_test.json" || rc=$?
    # A run that skipped everything judged nothing.
    ran=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for s in d["testsuites"] for t in s["testsuite"] if t.get("result")=="COMPLETED" and "skipped" not in t))' \
      "$ZBL_VM_RESULTS/$name/nvme_passthru_vm_test.json" 2>/dev/null || echo 0)
    echo "### $name: exit $rc, $ran tests ran (not skipped)"
    [ "$ran" -gt 0 ] || rc=1
    if [ "$suites" = 1 ] && [ -n "${ZBL_SUITES:-}" ]; then
      local s=0
      echo "### $name: zbl-suites, ZBL_DEVICE=driver=nvme_passthru,filename=$ng ZBL_PROFILE=zns"
      ZBL_DEVICE="driver=nvme_passthru,filename=$ng" ZBL_PROFILE=zns ZBL_ALLOW_DESTRUCTIVE=1 \
        ZBL_DEVICE_PERSISTENT=1 ZBL_RESULTS_DIR="$ZBL_VM_RESULTS/$name" "$ZBL_SUITES" \
        --gtest_filter='*/user_device' --gtest_brief=1 \
        --gtest_output="json:$ZBL_VM_RESULTS/$name/zbl-suites.json" || s=$?
      echo "### $name: zbl-suites exit $s"
      [ "$s" -eq 0 ] || rc=1
    fi
    if [ "$suites" = 1 ] && [ -n "${ZBL_SUITES:-}" ]; then
      # Cell by cell, the fingerprint must name the zns family.
      python3 - "$ZBL_VM_RESULTS/$name/devices.json" <<'PY' || rc=1
import json, sys
dev = next(c for c in json.load(open(sys.argv[1]))["configs"] if c["name"] == "user_device")
print(f"### fingerprint: {dev.get('fingerprint_match')} (want zns)")
sys.exit(0 if dev.get("fingerprint_match") == "zns" else 1)
PY
    fi
    if [ "$name" = zrwa ] && [ -n "${ZBL_BENCH_IO:-}" ]; then
      bench "$blk" "$ng" || rc=1
    fi
    [ "$rc" -eq 0 ] || failed=1
  done
  return "$failed"
}

# Zone append throughput on one namespace, 4 KiB, QD1 and QD32, in one run: native (the NVMe
# command by passthrough, the device picks the LBA) against host_device on the namespace's block
# device, whose append is emulated as QEMU's is (a write at a cached write pointer under the
# zone's lock: user space cannot send the kernel's REQ_OP_ZONE_APPEND). QD1 runs the
# synchronous calls (ioctl / pwrite), QD32 the queues (io_uring passthrough / io_uring).
# TCG: compare the ratios, not the figures.
bench() {
  local blk=$1 ng=$2 qd dev label out
  local -a rows=()
  for qd in 1 32; do
    for label in "nvme_passthru|driver=nvme_passthru,filename=$ng" \
                 "host_device|driver=host_device,filename=$blk,cache.direct=on"; do
      dev=${label#*|}
      out=$("$ZBL_BENCH_IO" --device "$dev" --pattern append --bs 4096 --ops 4096 --qd "$qd") || {
        echo "FAIL: zbl-bench-io append qd $qd on ${label%%|*}: $out"; return 1; }
      rows+=("${label%%|*} $qd $out")
    done
  done
  printf '%s\n' "${rows[@]}" | python3 -c '
import json, sys
res = {}
for line in sys.stdin:
    drv, qd, js = line.split(" ", 2)
    res[(drv, int(qd))] = json.loads(js)
out = []
for qd in (1, 32):
    n, e = res[("nvme_passthru", qd)], res[("host_device", qd)]
    ni, bi = n["iops"], e["iops"]
    ratio = ni / bi
    print(f"### append qd{qd}: native {ni:.0f} IOPS, emulated on the block device {bi:.0f} IOPS, native/emulated {ratio:.2f}")
    out.append({"qd": qd, "native_iops": ni, "block_iops": bi, "ratio": ratio})
json.dump(out, open(sys.argv[1], "w"), indent=1)
' "$ZBL_VM_RESULTS/append-native-vs-block.json"
}

if [ "${1:-}" = --guest ]; then
  shift
  guest "$@"
  exit
fi

vmtest="" suites="" benchio="" results="" extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --vm-test) vmtest=$2; shift ;;
    --zbl-suites) suites=$2; shift ;;
    --bench-io) benchio=$2; shift ;;
    --results) results=$2; shift ;;
    --kernel) extra+=(--kernel "$2"); shift ;;
    *) echo "passthru.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
[ -x "$vmtest" ] || { echo "usage: passthru.sh --vm-test BIN [--zbl-suites BIN] [--results DIR]" >&2; exit 125; }
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-passthru}
env_args=(--env ZBL_NVME_VM_TEST="$vmtest")
[ -z "$suites" ] || env_args+=(--env ZBL_SUITES="$suites")
[ -z "$benchio" ] || env_args+=(--env ZBL_BENCH_IO="$benchio")
# ZRWA of 16 blocks flushed in granules of 4, 64-byte descriptor extensions, ZASL 8 KiB
# (controller minimum page 4 KiB << 1) below the 512 KiB transfer limit.
exec "$here/run.sh" "${extra[@]}" --results "$results" --timeout 900 --boot-timeout 240 \
  --zns zrwa:size=256M,logical_block_size=4096,zone_size=4M,zone_capacity=3M,max_open=8,max_active=8,zasl=1,zoned.numzrwa=4,zoned.zrwas=65536,zoned.zrwafg=16384,zoned.descr_ext_size=64 \
  --zns plain:size=64M,logical_block_size=512,zone_size=1M,zone_capacity=1M,max_open=4,max_active=6 \
  "${env_args[@]}" -- "$here/passthru.sh" --guest
