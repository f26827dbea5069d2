#!/usr/bin/env bash
# shellcheck disable=SC2153 # ZBL_* come from run.sh in the guest
# zbl-ublk's lifecycle and error mapping, measured in the guest (Linux 6.12 by default):
#   1. without ublk_drv loaded, and as a non-root user: a clear error naming the fix, exit 2;
#   2. errnos through the kernel: a blkdebug filter injects one errno per zone into reads, writes
#      and explicit opens; the table of what user space then sees (pread/pwrite/BLKOPENZONE) is
#      written to errno-map.tsv (and checked: ETOOMANYREFS and EOVERFLOW must survive);
#   3. SIGKILL of the server with I/O in flight: how long until that I/O and new I/O end, with
#      which errno (never a hang: bounded by a 120 s timeout); the next start removes the stale
#      device and serves again under the same --dev-id;
#   4. a persistent emulated image over a file survives a server restart: same zone report (an
#      open zone comes back CLOSED, as after a power cycle), same data (sha256), after SIGTERM and
#      after SIGKILL of a server that had flushed.
#   ci/vm/ublk-lifecycle.sh --zbl-ublk BIN [--kernel 6.12|6.1] [--results DIR]
# Exit 0 all checks held, 1 a check failed, 77 SKIP (qemu cannot run), 123-125 harness codes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

fails=0
check() { # check DESCRIPTION COMMAND...
  local d=$1
  shift
  if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fails=$((fails + 1)); fi
}

# serve LOG ARGS...: starts zbl-ublk in the background; sets SPID and SDEV (waits up to 120 s).
serve() {
  local log=$1
  shift
  : >/tmp/serve.out
  "$ZBL_UBLK" "$@" >/tmp/serve.out 2>>"$log" &
  SPID=$!
  local i
  for i in $(seq 1200); do
    [ -s /tmp/serve.out ] && break
    kill -0 "$SPID" 2>/dev/null || { SDEV=""; wait "$SPID" || true; return 1; }
    sleep 0.1
  done
  read -r SDEV </tmp/serve.out
  for i in $(seq 100); do [ -b "$SDEV" ] && return 0; sleep 0.1; done
  return 1
}

# same_report A B: zone reports equal, an open zone (implicit or explicit) counting as the CLOSED
# zone a reopened image gives back (persist.h: open zones come back CLOSED, like a power cycle).
same_report() {
  cmp -s <(sed -E 's/zcond: [23]\(o[ie]\)/zcond: 4(cl)/' "$1") <(sed -E 's/zcond: [23]\(o[ie]\)/zcond: 4(cl)/' "$2")
}

stop() { # stop SIGNAL: signals the server, waits; sets SRC (its exit status)
  kill "-$1" "$SPID"
  SRC=0
  wait "$SPID" || SRC=$?
}

errno_probe() {
  python3 - "$@" <<'PY'
import errno, fcntl, mmap, os, struct, sys
dev, zone_bytes = sys.argv[1], int(sys.argv[2])
codes = [int(c) for c in sys.argv[3].split(",")]
BLKOPENZONE = 0x40101286
fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
def run(f):
    try:
        f(); return "OK"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
print("injected\tread\twrite\topen")
for i, c in enumerate(codes):
    z = (i + 1) * zone_bytes
    r = run(lambda: os.preadv(fd, [buf], z))
    w = run(lambda: os.pwritev(fd, [buf], z))
    o = run(lambda: fcntl.ioctl(fd, BLKOPENZONE, struct.pack("QQ", z // 512, zone_bytes // 512)))
    print(f"{errno.errorcode[c]}\t{r}\t{w}\t{o}")
PY
}

guest() {
  local out=$ZBL_VM_RESULTS log=$ZBL_VM_RESULTS/zbl-ublk.log
  : >"$log"
  # 1. no driver, not root.
  local msg rc
  rc=0
  msg=$("$ZBL_UBLK" --image-opts driver=emulated,size=64M,zone-size=4M 2>&1) || rc=$?
  echo "no ublk_drv: exit $rc: $msg"
  check "no ublk_drv: exit 2 naming 'modprobe ublk_drv'" test "$rc" -eq 2 -a -n "$(grep -F 'modprobe ublk_drv' <<<"$msg")"
  modprobe ublk_drv
  rc=0
  msg=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ZBL_UBLK" --image-opts driver=emulated,size=64M,zone-size=4M 2>&1) || rc=$?
  echo "not root: exit $rc: $msg"
  check "not root: exit 2 saying it must run as root" test "$rc" -eq 2 -a -n "$(grep -F 'must run as root' <<<"$msg")"

  # 2. errno mapping.
  # EIO EINVAL EREMOTEIO ETOOMANYREFS EOVERFLOW ENOSPC ENODATA EILSEQ ENOLINK EBADE ETIMEDOUT ENOMEM
  # EAGAIN EOPNOTSUPP EBUSY EROFS EPERM
  local nums=(5 22 121 109 75 28 61 84 67 52 110 12 11 95 16 30 1)
  local opts="driver=blkdebug" i=0 k
  for k in "${!nums[@]}"; do
    for ev in read write open; do
      opts+=",inject-error.$i.event=$ev,inject-error.$i.errno=${nums[$k]},inject-error.$i.zone=$((k + 1))"
      i=$((i + 1))
    done
  done
  opts+=",file.driver=emulated,file.size=128M,file.zone-size=4M,file.block-size=4096"
  if serve "$log" --image-opts "$opts"; then
    local codes
    codes=$(IFS=,; echo "${nums[*]}")
    errno_probe "$SDEV" $((4 << 20)) "$codes" | tee "$out/errno-map.tsv"
    check "ETOOMANYREFS survives (read, write, open)" grep -qP '^ETOOMANYREFS\tETOOMANYREFS\tETOOMANYREFS\tETOOMANYREFS$' "$out/errno-map.tsv"
    check "EOVERFLOW survives (read, write, open)" grep -qP '^EOVERFLOW\tEOVERFLOW\tEOVERFLOW\tEOVERFLOW$' "$out/errno-map.tsv"
    stop TERM
    check "server exits 0 on SIGTERM" test "$SRC" -eq 0
  else
    check "errno server started" false
  fi

  # 3. SIGKILL with I/O in flight, then a stale device at the next start.
  local img=/tmp/persist.img t0 t1
  local popts="driver=emulated,profile=zns,size=64M,zone-size=4M,zone-capacity=3M,max-open-zones=4,file.driver=file,file.filename=$img"
  rm -f "$img"
  if serve "$log" --image-opts "$popts" --dev-id 7; then
    check "--dev-id 7 gives /dev/ublkb7" test "$SDEV" = /dev/ublkb7
    # Data into zone 2 (sequential), a flush, and the zone report to compare later.
    head -c 2M /dev/urandom >/tmp/data
    dd if=/tmp/data of="$SDEV" bs=1M seek=8 oflag=direct conv=fsync status=none
    blkzone report "$SDEV" >"$out/report-before.txt"
    sha256sum </tmp/data | cut -d' ' -f1 >/tmp/sha
    stop TERM
    check "persistent server exits 0 on SIGTERM" test "$SRC" -eq 0
    check "SIGTERM deleted the device" test ! -e /sys/class/ublk-char/ublkc7
    # 4a. restart after SIGTERM: same report, same data.
    serve "$log" --image-opts "$popts" --dev-id 7 || check "restart after SIGTERM" false
    blkzone report "$SDEV" >"$out/report-after-term.txt"
    check "zone report after a restart (SIGTERM) is the same (open zones come back closed)" same_report "$out/report-before.txt" "$out/report-after-term.txt"
    check "data after a restart (SIGTERM) is the same" test "$(dd if="$SDEV" bs=1M skip=8 count=2 iflag=direct status=none | sha256sum | cut -d' ' -f1)" = "$(cat /tmp/sha)"
    # SIGKILL while a reader loops over the device.
    (while dd if="$SDEV" of=/dev/null bs=64k count=64 iflag=direct status=none; do :; done; echo "reader ended" >/tmp/reader) &
    local reader=$!
    sleep 2
    t0=$(date +%s.%N)
    stop KILL
    local left=120
    while kill -0 "$reader" 2>/dev/null && [ "$left" -gt 0 ]; do sleep 0.1; left=$((left - 1)); done
    t1=$(date +%s.%N)
    if kill -0 "$reader" 2>/dev/null; then
      kill "$reader" 2>/dev/null || true
      check "in-flight reader ends within 12 s of SIGKILL" false
    else
      echo "measured: in-flight I/O ended $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s after SIGKILL"
      check "in-flight reader ends after SIGKILL" true
    fi
    wait "$reader" 2>/dev/null || true
    rc=0
    msg=$(timeout 60 dd if=/dev/ublkb7 of=/dev/null bs=4k count=1 iflag=direct 2>&1) || rc=$?
    echo "measured: new I/O after SIGKILL: exit $rc: $msg"
    check "new I/O after SIGKILL fails at once (no hang)" test "$rc" -ne 0 -a "$rc" -ne 124
    check "SIGKILL leaves a stale ublkc7" test -e /sys/class/ublk-char/ublkc7
    # 4b. the next start removes it and serves the same image again.
    if serve "$log" --image-opts "$popts" --dev-id 7; then
      check "the next start removed the stale device" grep -q "removed stale device 7" "$log"
      blkzone report "$SDEV" >"$out/report-after-kill.txt"
      check "zone report after SIGKILL + restart is the same (flushed state; open zones closed)" same_report "$out/report-before.txt" "$out/report-after-kill.txt"
      check "data after SIGKILL + restart is the same" test "$(dd if="$SDEV" bs=1M skip=8 count=2 iflag=direct status=none | sha256sum | cut -d' ' -f1)" = "$(cat /tmp/sha)"
      stop TERM
    else
      check "start after SIGKILL" false
    fi
  else
    check "persistent server started" false
  fi
  echo "$fails check(s) failed"
  [ "$fails" -eq 0 ]
}

if [ "${1:-}" = --guest ]; then
  shift
  guest "$@"
  exit
fi

ublk="" results="" kernel=6.12
while [ $# -gt 0 ]; do
  case $1 in
    --zbl-ublk) ublk=$2; shift ;;
    --kernel) kernel=$2; shift ;;
    --results) results=$2; shift ;;
    *) echo "ublk-lifecycle.sh: unknown argument '$1'" >&2; exit 125 ;;
  esac
  shift
done
[ -x "$ublk" ] || { echo "usage: ublk-lifecycle.sh --zbl-ublk BIN [--kernel 6.12|6.1] [--results DIR]" >&2; exit 125; }
"$here/can-run.sh" || exit 77
results=${results:-$repo/results/vm-ublk-lifecycle}
exec "$here/run.sh" --kernel "$kernel" --results "$results" --timeout 900 --boot-timeout 240 --no-devices \
  --env ZBL_UBLK="$(realpath "$ublk")" -- "$here/ublk-lifecycle.sh" --guest
