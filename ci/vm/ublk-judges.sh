#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh in the guest
# Judges of zbl-ublk that need one guest each (Linux 6.12 by default), zbl's emulated devices
# served to the kernel as /dev/ublkbN by run.sh --ublk:
#   suites  zbl-suites with ZBL_DEVICE=driver=host_device,cache.direct=on,filename=/dev/ublkbN on
#           zbl-ublk serving profile=null_blk (conventional zones, capacity < size, open/active
#           limits), profile=zns (capacity < size, limits) and profile=zbc (conventional zones,
#           open limit), each held to its family with ZBL_PROFILE; the fingerprint must name it;
#   diff    zbl-diff, 10,000 seeded operations: kernel null_blk vs zbl-ublk serving
#           profile=null_blk with the same geometry, in the same guest: no divergence;
#   fs      mkfs.btrfs -O zoned and mkfs.f2fs -m (conventional zones for its metadata) on zbl-ublk:
#           mount, write a tree of files, checksum, unmount, mount, verify; and btrfs on a
#           persistent image across a server restart.
#   ci/vm/ublk-judges.sh --zbl-ublk BIN [--zbl-suites BIN] [--zbl-diff BIN] [--kernel 6.12|6.1]
#                        [--results DIR] JUDGE
# Exit 0 the judge held, 1 it failed, 77 SKIP (qemu cannot run), 123-125 harness codes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# The devices of each judge: run.sh device options.
suites_nullb="driver=emulated,profile=null_blk,size=256M,zone-size=4M,zone-capacity=3M,conventional-zones=4,max-open-zones=4,max-active-zones=6,block-size=4096"
suites_zns="driver=emulated,profile=zns,size=256M,zone-size=4M,zone-capacity=3M,max-open-zones=4,max-active-zones=6,block-size=4096"
suites_zbc="driver=emulated,profile=zbc,size=256M,zone-size=4M,zone-capacity=3M,conventional-zones=4,max-open-zones=8,block-size=512,max-append-bytes=4M"
diff_nullb_kernel="size=256,zone_size=4,zone_capacity=3,zone_nr_conv=4,zone_max_open=4,zone_max_active=6"
diff_nullb_ublk="driver=emulated,profile=null_blk,size=256M,zone-size=4M,zone-capacity=3M,conventional-zones=4,max-open-zones=4,max-active-zones=6,block-size=4096"
fs_btrfs="driver=emulated,profile=null_blk,size=1G,zone-size=4M,block-size=4096"
fs_f2fs="driver=emulated,profile=null_blk,size=1G,zone-size=4M,conventional-zones=32,block-size=4096"

fails=0
check() {
  local d=$1
  shift
  if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fails=$((fails + 1)); fi
}

guest_suites() {
  local line name family dev rc
  for line in "nullb|null_blk|$ZBL_VM_UBLK_NULLB" "zns|zns|$ZBL_VM_UBLK_ZNS" "zbc|zbc|$ZBL_VM_UBLK_ZBC"; do
    IFS='|' read -r name family dev <<<"$line"
    mkdir -p "$ZBL_VM_RESULTS/$name"
    echo "### ublk-$name: ZBL_DEVICE=driver=host_device,cache.direct=on,filename=$dev ZBL_PROFILE=$family"
    rc=0
    ZBL_DEVICE="driver=host_device,cache.direct=on,filename=$dev" ZBL_PROFILE=$family \
      ZBL_ALLOW_DESTRUCTIVE=1 ZBL_DEVICE_PERSISTENT=1 ZBL_RESULTS_DIR="$ZBL_VM_RESULTS/$name" \
      "$ZBL_SUITES" --gtest_filter='*/user_device' \
      --gtest_output="json:$ZBL_VM_RESULTS/$name/zbl-suites.json" || rc=$?
    echo "### ublk-$name: exit $rc"
    check "ublk-$name: zbl-suites pass" test "$rc" -eq 0
    python3 - "$ZBL_VM_RESULTS/$name" "$family" <<'PY' || fails=$((fails + 1))
import json, os, sys
d, family = sys.argv[1], sys.argv[2]
r = json.load(open(os.path.join(d, "zbl-suites.json")))
ran = sum(1 for s in r["testsuites"] for t in s["testsuite"] if t.get("result") == "COMPLETED")
print(f"### tests run: {ran} (of {r['tests']}), failures {r['failures']}")
devices = json.load(open(os.path.join(d, "devices.json")))
dev = next(c for c in devices["configs"] if c["name"] == "user_device")
got = dev.get("fingerprint_match")
print(f"### fingerprint: {got} (want {family})")
sys.exit(0 if ran > 0 and got == family else 1)
PY
  done
}

guest_diff() {
  local rc=0
  "$ZBL_DIFF" --seed 1 --ops 10000 --chunk 65536 \
    --a "driver=host_device,cache.direct=on,filename=$ZBL_VM_NULLB_D" \
    --b "driver=host_device,cache.direct=on,filename=$ZBL_VM_UBLK_D" \
    --json "$ZBL_VM_RESULTS/diff-nullblk-ublk.json" || rc=$?
  check "zbl-diff 10,000 ops kernel null_blk vs zbl-ublk(profile=null_blk): no divergence" test "$rc" -eq 0
  python3 - "$ZBL_VM_RESULTS/diff-nullblk-ublk.json" <<'PY' || fails=$((fails + 1))
import json, sys
r = json.load(open(sys.argv[1]))
print("### zbl-diff:", json.dumps({k: v for k, v in r.items() if k not in ("cells",)})[:600])
PY
}

# fs_tree MOUNTPOINT: writes a tree of files (a few hundred, some large) and its checksums.
fs_tree() {
  local m=$1 i
  mkdir -p "$m/tree/a/b" "$m/tree/c"
  for i in $(seq 200); do head -c $((i * 997)) /dev/urandom >"$m/tree/a/f$i"; done
  for i in $(seq 8); do head -c $((3 << 20)) /dev/urandom >"$m/tree/c/big$i"; done
  head -c $((20 << 20)) /dev/urandom >"$m/tree/a/b/huge"
  (cd "$m" && find tree -type f -print0 | sort -z | xargs -0 sha256sum) >"/tmp/sums-$2"
}
fs_verify() { (cd "$1" && sha256sum --quiet -c "/tmp/sums-$2"); }

fs_one() { # fs_one NAME DEV MKFS... : mkfs, mount, write, checksum, umount, mount, verify
  local name=$1 dev=$2
  shift 2
  local m=/tmp/mnt-$name
  mkdir -p "$m"
  echo "### $name on $dev: $*"
  if ! "$@" "$dev" >"$ZBL_VM_RESULTS/mkfs-$name.log" 2>&1; then
    cat "$ZBL_VM_RESULTS/mkfs-$name.log"
    check "$name: mkfs" false
    return
  fi
  check "$name: mount" mount "$dev" "$m" || return
  fs_tree "$m" "$name"
  sync
  check "$name: umount" umount "$m"
  check "$name: mount again" mount "$dev" "$m" || return
  check "$name: every file's checksum" fs_verify "$m" "$name"
  echo "### $name: $(df -h "$m" | tail -n1)"
  umount "$m"
}

guest_fs() {
  modprobe btrfs
  modprobe f2fs
  fs_one btrfs "$ZBL_VM_UBLK_FSB" mkfs.btrfs -f -O zoned -d single -m single
  fs_one f2fs "$ZBL_VM_UBLK_FSF" mkfs.f2fs -f -m
  # btrfs on a persistent image across a server restart.
  local img=/tmp/fs.img log=$ZBL_VM_RESULTS/zbl-ublk-persist.log m=/tmp/mnt-persist pid dev
  local opts="driver=emulated,profile=null_blk,size=512M,zone-size=4M,block-size=4096,file.driver=file,file.filename=$img"
  mkdir -p "$m"
  rm -f "$img"
  : >/tmp/p.out
  "$ZBL_UBLK" --image-opts "$opts" >/tmp/p.out 2>>"$log" &
  pid=$!
  for _ in $(seq 600); do [ -s /tmp/p.out ] && break; sleep 0.1; done
  read -r dev </tmp/p.out || true
  check "persistent image served" test -b "$dev" || return
  mkfs.btrfs -f -O zoned -d single -m single "$dev" >"$ZBL_VM_RESULTS/mkfs-persist.log" 2>&1
  check "persist: mount" mount "$dev" "$m" || return
  fs_tree "$m" persist
  check "persist: umount" umount "$m"
  blkzone report "$dev" >"$ZBL_VM_RESULTS/persist-report-before.txt"
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  check "persist: server exits 0 on SIGTERM" test "$rc" -eq 0
  : >/tmp/p.out
  "$ZBL_UBLK" --image-opts "$opts" >/tmp/p.out 2>>"$log" &
  pid=$!
  for _ in $(seq 600); do [ -s /tmp/p.out ] && break; sleep 0.1; done
  read -r dev </tmp/p.out || true
  check "persist: served again" test -b "$dev" || return
  blkzone report "$dev" >"$ZBL_VM_RESULTS/persist-report-after.txt"
  # An open zone comes back CLOSED from a reopened image (persist.h), as after a power cycle.
  check "persist: same zone report after the restart (open zones closed)" cmp -s \
    <(sed -E 's/zcond: [23]\(o[ie]\)/zcond: 4(cl)/' "$ZBL_VM_RESULTS/persist-report-before.txt") \
    <(sed -E 's/zcond: [23]\(o[ie]\)/zcond: 4(cl)/' "$ZBL_VM_RESULTS/persist-report-after.txt")
  check "persist: mount after the restart" mount "$dev" "$m" || return
  check "persist: every file's checksum after the restart" fs_verify "$m" persist
  umount "$m"
  kill -TERM "$pid"
  wait "$pid" || true
}

if [ "${1:-}" = --guest ]; then
  "guest_$2"
  echo "$fails check(s) failed"
  [ "$fails" -eq 0 ]
  exit
fi

ublk="" suites="" diff="" results="" kernel=6.12 judge=""
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-ublk) ublk=$2; shift ;;
    --zbl-suites) suites=$2; shift ;;
    --zbl-diff) diff=$2; shift ;;
    --kernel) kernel=$2; shift ;;
    --results) results=$2; shift ;;
    suites | diff | fs) judge=$1 ;;
    *) echo "ublk-judges.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
usage="usage: ublk-judges.sh --zbl-ublk BIN [--zbl-suites BIN] [--zbl-diff BIN] [--kernel K] [--results DIR] suites|diff|fs"
if [ ! -x "$ublk" ] || [ -z "$judge" ]; then echo "$usage" >&2; exit 125; fi
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-ublk-$judge}
common=(--kernel "$kernel" --results "$results" --timeout 1500 --boot-timeout 240 --zbl-ublk "$ublk")
case $judge in
  suites)
    [ -x "$suites" ] || { echo "$usage (suites needs --zbl-suites)" >&2; exit 125; }
    exec "$here/run.sh" "${common[@]}" --mem 3G \
      --ublk "nullb:$suites_nullb" --ublk "zns:$suites_zns" --ublk "zbc:$suites_zbc" \
      --env ZBL_SUITES="$(realpath "$suites")" -- "$here/ublk-judges.sh" --guest suites ;;
  diff)
    [ -x "$diff" ] || { echo "$usage (diff needs --zbl-diff)" >&2; exit 125; }
    exec "$here/run.sh" "${common[@]}" --mem 3G \
      --nullb "d:$diff_nullb_kernel" --ublk "d:$diff_nullb_ublk" \
      --env ZBL_DIFF="$(realpath "$diff")" -- "$here/ublk-judges.sh" --guest diff ;;
  fs)
    exec "$here/run.sh" "${common[@]}" --mem 4G \
      --ublk "fsb:$fs_btrfs" --ublk "fsf:$fs_f2fs" \
      --env ZBL_UBLK="$(realpath "$ublk")" -- "$here/ublk-judges.sh" --guest fs ;;
esac
