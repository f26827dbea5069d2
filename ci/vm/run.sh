#!/usr/bin/env bash
# zbl VM harness: boots a throwaway Linux 6.12 (or 6.1, --kernel) guest with real zoned block devices (kernel
# null_blk, QEMU NVMe ZNS namespaces, a scsi_debug host-managed ZBC disk), runs a host-built
# COMMAND inside it (the host root is shared read-only; cwd = the host cwd), and exits with the
# command's status. See ci/vm/README.md.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

ZBL_VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$ZBL_VM_DIR/../.." && pwd)

# Harness exit codes (anything else is the command's own status).
EXIT_BOOT=123    # the guest did not get to run the command: kernel/boot/device setup failed
EXIT_TIMEOUT=124 # the command (or the whole VM) ran past --timeout and was killed
EXIT_HARNESS=125 # host-side problem: usage, missing tools, kernel fetch, QEMU refused to start

# Defaults, in each driver's own parameter names and units (read through merge_kv's nameref).
# shellcheck disable=SC2034
NULLB_DEFAULTS=(zoned=1 blocksize=4096 size=1024 zone_size=4 memory_backed=1)
# shellcheck disable=SC2034
ZNS_DEFAULTS=(size=1G logical_block_size=4096 zone_size=8M zone_capacity=6M max_open=12 max_active=16)
# shellcheck disable=SC2034
ZBC_DEFAULTS=(zbc=managed dev_size_mb=256 sector_size=512 zone_size_mb=4 zone_cap_mb=3 zone_nr_conv=4
  zone_max_open=8 delay=0)

usage() {
  cat <<'EOF'
usage: ci/vm/run.sh [options] -- COMMAND [ARGS...]

Boots a Debian 12 Linux 6.12 or 6.1 guest (QEMU 10) with zoned devices and runs COMMAND inside,
in the host's current directory, with the host's root file system shared read-only.

Devices (repeatable; without any, the default set is --nullb zoned --zns zns --zbc):
  --nullb NAME[:key=val,...]  null_blk device via configfs; keys are configfs attributes in
                              null_blk's units (size MB, zone_size MB, zone_capacity MB, ...).
                              Defaults: zoned=1,blocksize=4096,size=1024,zone_size=4,memory_backed=1
  --zns NAME[:key=val,...]    NVMe ZNS namespace on its own QEMU controller. Keys: size,
                              logical_block_size (lbs), physical_block_size, zone_size,
                              zone_capacity, max_open, max_active, cross_read, zasl (controller),
                              zoned.* (passed to nvme-ns), nvme.* (passed to the controller).
                              Defaults: size=1G,logical_block_size=4096,zone_size=8M,
                              zone_capacity=6M,max_open=12,max_active=16
  --zbc [key=val,...]         scsi_debug host-managed ZBC disk (scsi_debug module parameters).
                              Defaults: zbc=managed,dev_size_mb=256,sector_size=512,zone_size_mb=4,
                              zone_cap_mb=3,zone_nr_conv=4,zone_max_open=8,delay=0
  --no-devices                boot without zoned devices
  Any device also takes scheduler=NAME (written to queue/scheduler in the guest).
  --ublk NAME:OPTION-STRING   a zbl device served by zbl-ublk as /dev/ublkbN (ublk_drv), e.g.
                              --ublk z:driver=emulated,size=1G,zone-size=4M; started in the
                              guest before the command, stopped (SIGTERM) after it; its log is
                              $RESULTS/ublk-NAME.log. Repeatable.
  --ublk-args "ARGS"          extra zbl-ublk arguments for every --ublk server (--depth 128 ...)
  --zbl-ublk PATH             the zbl-ublk binary (default <repo>/build/default/tools/zbl-ublk/zbl-ublk)
  --modprobe MOD[,MOD...]     guest kernel modules to load before the command (modprobe works
                              in the guest too: the guest kernel's modules are at /lib/modules)

Options:
  --kernel 6.12|6.1   guest kernel series, Debian 12's newest package of it (default 6.12)
  --results DIR       writable results directory, same path inside the guest
                      (default: <repo>/results/vm)
  --timeout SEC       command time limit (default 1800)
  --boot-timeout SEC  limit from QEMU start to devices ready (default 120)
  --mem SIZE          guest memory (default 2G)
  --smp N             guest CPUs (default 2)
  --accel auto|kvm|tcg  (default auto: KVM when /dev/kvm works, else TCG)
  --env NAME[=VAL]    pass an environment variable to the command (repeatable)
  --keep              keep the run directory (control files, ZNS images)
  --verbose           stream the guest console to stderr
  -h, --help

The current directory may be anywhere but /proc, /sys, /dev: under /tmp or /run (tmpfs in the
guest) the host's directories the command names are kept visible at their own paths.

In the guest the command sees ZBL_VM=1, ZBL_VM_KERNEL, ZBL_VM_KERNEL_SERIES, ZBL_VM_RESULTS, ZBL_VM_DEVICES
(vm-devices.json), ZBL_VM_NULLB_<NAME>, ZBL_VM_ZNS_<NAME>, ZBL_VM_ZBC, ZBL_VM_UBLK_<NAME>
(NAME upper-cased).

Exit status: the command's, or 123 boot/device setup failed, 124 timeout, 125 harness error.
EOF
}

log() { echo "zbl-vm: $*" >&2; }
die() {
  log "error: $*"
  exit "$EXIT_HARNESS"
}

# sq VALUE: single-quoted for sh.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# merge_kv DEFAULTS_ARRAY_NAME "k=v,k=v": sets kvs=(k=v ...), user values overriding defaults.
merge_kv() {
  local -n defs=$1
  local spec=$2 kv k
  local -A val=()
  local order=()
  local items=("${defs[@]}")
  if [ -n "$spec" ]; then
    local user
    IFS=, read -r -a user <<<"$spec"
    items+=("${user[@]}")
  fi
  for kv in "${items[@]}"; do
    [ -n "$kv" ] || continue
    [[ $kv == *=* ]] || die "'$kv' in '$spec' is not key=value"
    k=${kv%%=*}
    [[ $k =~ ^[A-Za-z0-9_.]+$ ]] || die "bad key '$k' in '$spec'"
    [[ ${kv#*=} =~ ^[A-Za-z0-9_.:+-]*$ ]] || die "bad value in '$kv'"
    [ -n "${val[$k]+x}" ] || order+=("$k")
    val[$k]=${kv#*=}
  done
  kvs=()
  for k in "${order[@]}"; do kvs+=("$k=${val[$k]}"); done
}

nullb_specs=()
zns_specs=()
zbc_spec=
want_zbc=0
no_devices=0
results=
kernel_series=6.12
timeout_s=1800
boot_timeout=120
mem=2G
smp=2
accel=auto
keep=0
verbose=0
envs=()
# --- ublk (zbl-ublk) options; see ublk_config below ---
ublk_specs=()
ublk_args=
ublk_bin=
modprobe_list=

need_arg() { [ $# -ge 2 ] || die "$1 needs an argument (see --help)"; }
while [ $# -gt 0 ]; do
  case $1 in
    --nullb) need_arg "$@"; nullb_specs+=("$2"); shift 2 ;;
    --nullb=*) nullb_specs+=("${1#*=}"); shift ;;
    --zns) need_arg "$@"; zns_specs+=("$2"); shift 2 ;;
    --zns=*) zns_specs+=("${1#*=}"); shift ;;
    --zbc)
      [ "$want_zbc" -eq 0 ] || die "only one --zbc disk is supported"
      want_zbc=1
      if [ $# -ge 2 ] && [[ $2 != -* ]] && [[ $2 == *=* ]]; then zbc_spec=$2; shift; fi
      shift ;;
    --zbc=*)
      [ "$want_zbc" -eq 0 ] || die "only one --zbc disk is supported"
      want_zbc=1; zbc_spec=${1#*=}; shift ;;
    --no-devices) no_devices=1; shift ;;
    --ublk) need_arg "$@"; ublk_specs+=("$2"); shift 2 ;;
    --ublk=*) ublk_specs+=("${1#*=}"); shift ;;
    --ublk-args) need_arg "$@"; ublk_args=$2; shift 2 ;;
    --zbl-ublk) need_arg "$@"; ublk_bin=$2; shift 2 ;;
    --modprobe) need_arg "$@"; modprobe_list=$2; shift 2 ;;
    --kernel) need_arg "$@"; kernel_series=$2; shift 2 ;;
    --kernel=*) kernel_series=${1#*=}; shift ;;
    --results) need_arg "$@"; results=$2; shift 2 ;;
    --results=*) results=${1#*=}; shift ;;
    --timeout) need_arg "$@"; timeout_s=$2; shift 2 ;;
    --timeout=*) timeout_s=${1#*=}; shift ;;
    --boot-timeout) need_arg "$@"; boot_timeout=$2; shift 2 ;;
    --boot-timeout=*) boot_timeout=${1#*=}; shift ;;
    --mem) need_arg "$@"; mem=$2; shift 2 ;;
    --mem=*) mem=${1#*=}; shift ;;
    --smp) need_arg "$@"; smp=$2; shift 2 ;;
    --smp=*) smp=${1#*=}; shift ;;
    --accel) need_arg "$@"; accel=$2; shift 2 ;;
    --accel=*) accel=${1#*=}; shift ;;
    --env) need_arg "$@"; envs+=("$2"); shift 2 ;;
    --env=*) envs+=("${1#*=}"); shift ;;
    --keep) keep=1; shift ;;
    --verbose) verbose=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (COMMAND goes after --; see --help)" ;;
  esac
done
[ $# -gt 0 ] || die "no COMMAND given (ci/vm/run.sh [options] -- COMMAND [ARGS...])"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive number of seconds"
[[ $boot_timeout =~ ^[1-9][0-9]*$ ]] || die "--boot-timeout must be a positive number of seconds"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp must be a positive number"
[[ $mem =~ ^[1-9][0-9]*[MG]?$ ]] || die "--mem must look like 2G or 1536M"
case $accel in auto | kvm | tcg) ;; *) die "--accel must be auto, kvm or tcg" ;; esac
case $kernel_series in 6.12 | 6.1) ;; *) die "--kernel must be 6.12 or 6.1 (Debian 12's two kernel series), not '$kernel_series'" ;; esac
if [ "$no_devices" -eq 0 ] && [ ${#nullb_specs[@]} -eq 0 ] && [ ${#zns_specs[@]} -eq 0 ] && [ "$want_zbc" -eq 0 ] &&
  [ ${#ublk_specs[@]} -eq 0 ]; then
  nullb_specs=(zoned)
  zns_specs=(zns)
  want_zbc=1
fi

# --- host checks -------------------------------------------------------------------------------
QEMU=${ZBL_VM_QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || die "$QEMU not found (run ci/deps.sh: QEMU 10 from bookworm-backports)"
qemu_version=$("$QEMU" --version | sed -n '1s/.*version \([0-9][0-9.]*\).*/\1/p')
[ "${qemu_version%%.*}" -ge 10 ] 2>/dev/null ||
  log "warning: QEMU $qemu_version < 10 (qemu-io has no zone commands; run ci/deps.sh)"

cwd=$(pwd -P)
case $cwd/ in
  /dev/* | /proc/* | /sys/*)
    die "the current directory $cwd is hidden in the guest (devtmpfs/proc/sys there); run from elsewhere (e.g. the repo)" ;;
esac
[[ $cwd != *[\'$'\n']* ]] || die "the current directory has a quote or newline in its path"

# --- host paths under the guest's tmpfs mounts ---------------------------------------------------
# The guest mounts fresh tmpfs on /tmp and /run of the shared root. A host directory there that
# the command needs (its cwd, this repo, a path among its arguments or --env values) is kept
# visible at its own path: keep_dirs lists the top directories below /tmp or /run to bind back
# (read-only, like the rest of the host root) over the guest's tmpfs.
keep_dirs=()
keep_dir_of() {
  local p=$1 top
  [[ $p == /* ]] || return 0
  [ -e "$p" ] || return 0
  p=$(realpath -e -- "$p" 2>/dev/null) || return 0
  case $p/ in
    /tmp/?*/* | /run/?*/*) ;;
    *) return 0 ;;
  esac
  local _ a b
  IFS=/ read -r _ a b _ <<<"$p"
  top=/$a/$b
  [[ $top != *[\'$'\n']* ]] || die "the host path $top has a quote or newline in it"
  [ "$top" != /run/zbl ] || die "the host path $p is under /run/zbl, which the guest harness uses"
  local k
  for k in "${keep_dirs[@]}"; do [ "$k" != "$top" ] || return 0; done
  keep_dirs+=("$top")
}
case $cwd in
  /tmp | /run) die "the current directory is $cwd itself, which is a fresh tmpfs in the guest; run from a directory below it or elsewhere" ;;
esac
keep_dir_of "$cwd"
keep_dir_of "$REPO"
for a in "$@"; do keep_dir_of "$a"; done
for e in "${envs[@]}"; do [[ $e != *=* ]] || keep_dir_of "${e#*=}"; done
if [ ${#ublk_specs[@]} -gt 0 ]; then
  ublk_bin=${ublk_bin:-$REPO/build/default/tools/zbl-ublk/zbl-ublk}
  [ -x "$ublk_bin" ] || die "--ublk: zbl-ublk not found at $ublk_bin (build it: cmake --build --preset default --target zbl-ublk, or pass --zbl-ublk PATH)"
  ublk_bin=$(realpath -e -- "$ublk_bin")
  keep_dir_of "$ublk_bin"
fi

results=${results:-$REPO/results/vm}
mkdir -p "$results" || die "cannot create the results directory $results"
results=$(cd "$results" && pwd -P)
[[ $results != *[\',$'\n']* ]] || die "the results path has a quote, comma or newline in it"
case $results/ in
  /proc/* | /sys/* | /dev/*) die "--results cannot be under /proc, /sys or /dev" ;;
esac
rm -f "$results/vm-devices.json" "$results/vm-run.json" "$results/vm-console.log"

# shellcheck source=kernel.sh
source "$ZBL_VM_DIR/kernel.sh"
# shellcheck source=initramfs.sh
source "$ZBL_VM_DIR/initramfs.sh"
kdir=$(zbl_vm_kernel "$kernel_series") || die "preparing the guest kernel ($kernel_series) failed"
krel=$(basename "$kdir")
initrd=$(zbl_vm_initramfs "$kdir") || die "building the initramfs failed"

# --- run directory -----------------------------------------------------------------------------
rundir=$(mktemp -d "${ZBL_VM_TMPDIR:-/var/tmp}/zbl-vm.XXXXXX") || die "cannot create a run directory"
ctl=$rundir/ctl
mkdir "$ctl"
qpid=
pids=()
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
    kill -TERM "$qpid" 2>/dev/null || true
    sleep 1
    kill -KILL "$qpid" 2>/dev/null || true
  fi
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "$keep" -eq 1 ]; then log "run directory kept: $rundir"; else rm -rf "$rundir"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# --- devices -----------------------------------------------------------------------------------
config=$ctl/config.sh
{
  echo "ZBL_CMD_TIMEOUT=$timeout_s"
  echo "ZBL_RESULTS=$(sq "$results")"
  echo "ZBL_CWD=$(sq "$cwd")"
  echo "ZBL_KERNEL_SERIES=$kernel_series"
  for k in "${keep_dirs[@]}"; do echo "keep_host_dir $(sq "$k")"; done
} >"$config"
dev_args=()
declare -A seen_env=()

claim_env() {
  [ -z "${seen_env[$1]+x}" ] || die "two devices would both set $1 (names are upper-cased)"
  seen_env[$1]=1
}

for spec in "${nullb_specs[@]}"; do
  name=${spec%%:*}
  rest=
  [[ $spec == *:* ]] && rest=${spec#*:}
  [[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "--nullb: bad name '$name' (letters, digits, _)"
  merge_kv NULLB_DEFAULTS "$rest"
  ev=ZBL_VM_NULLB_${name^^}
  claim_env "$ev"
  { printf 'dev_nullb %s %s' "$(sq "$name")" "$ev"; printf ' %s' "${kvs[@]}"; echo; } >>"$config"
done

i=0
for spec in "${zns_specs[@]}"; do
  name=${spec%%:*}
  rest=
  [[ $spec == *:* ]] && rest=${spec#*:}
  [[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "--zns: bad name '$name' (letters, digits, _)"
  merge_kv ZNS_DEFAULTS "$rest"
  ev=ZBL_VM_ZNS_${name^^}
  claim_env "$ev"
  size='' lbs='' pbs='' ns_props=() ctrl_props=() params=()
  for kv in "${kvs[@]}"; do
    k=${kv%%=*} v=${kv#*=}
    case $k in
      size) size=$v ;;
      logical_block_size | lbs) lbs=$v; kv=logical_block_size=$v ;;
      physical_block_size) pbs=$v ;;
      zone_size | zone_capacity | max_open | max_active | cross_read) ns_props+=("zoned.$k=$v") ;;
      zasl) ctrl_props+=("zoned.zasl=$v") ;;
      zoned.*) ns_props+=("$k=$v") ;;
      nvme.*) ctrl_props+=("${k#nvme.}=$v") ;;
      scheduler) ;;
      *) die "--zns $name: unknown key '$k' (see --help)" ;;
    esac
    params+=("$kv")
  done
  [ -n "$size" ] || die "--zns $name: size missing"
  bytes=$(numfmt --from=iec "$size" 2>/dev/null) || die "--zns $name: bad size '$size'"
  lbs=${lbs:-512}
  pbs=${pbs:-$lbs}
  img=$rundir/zns-$name.img
  truncate -s "$bytes" "$img" || die "cannot create $img"
  i=$((i + 1))
  serial=zbl-zns-$i
  ctrl="nvme,serial=$serial,id=nvme$i"
  for p in "${ctrl_props[@]}"; do ctrl+=",$p"; done
  ns="nvme-ns,drive=zns$i,bus=nvme$i,nsid=1,logical_block_size=$lbs,physical_block_size=$pbs,zoned=true"
  for p in "${ns_props[@]}"; do ns+=",$p"; done
  dev_args+=(-drive "file=$img,id=zns$i,format=raw,if=none,cache=unsafe" -device "$ctrl" -device "$ns")
  { printf 'dev_zns %s %s %s' "$(sq "$name")" "$ev" "$serial"; printf ' %s' "${params[@]}"; echo; } >>"$config"
done

if [ "$want_zbc" -eq 1 ]; then
  merge_kv ZBC_DEFAULTS "$zbc_spec"
  { printf 'dev_zbc ZBL_VM_ZBC'; printf ' %s' "${kvs[@]}"; echo; } >>"$config"
fi

# --- ublk (zbl-ublk) ---------------------------------------------------------------------------
# One config line per --ublk server (started by the guest's /init once the shared root is up),
# plus the guest kernel's module tree so that modprobe works inside the guest.
ublk_config() {
  echo "ZBL_KMOD_ROOT=$(sq "$kdir")"
  [ -z "$modprobe_list" ] || {
    [[ $modprobe_list =~ ^[A-Za-z0-9_,-]+$ ]] || die "--modprobe: module names separated by commas"
    echo "ZBL_MODPROBE=$(sq "${modprobe_list//,/ }")"
  }
  [ ${#ublk_specs[@]} -gt 0 ] || return 0
  [[ $ublk_args != *[\'$'\n']* ]] || die "--ublk-args: no quotes or newlines"
  echo "ZBL_UBLK_BIN=$(sq "$ublk_bin")"
  echo "ZBL_UBLK_ARGS=$(sq "$ublk_args")"
  local spec name opts ev
  for spec in "${ublk_specs[@]}"; do
    [[ $spec == *:* ]] || die "--ublk needs NAME:OPTION-STRING, got '$spec'"
    name=${spec%%:*}
    opts=${spec#*:}
    [[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "--ublk: bad name '$name' (letters, digits, _)"
    [ -n "$opts" ] || die "--ublk $name: empty option string"
    [[ $opts != *[\'$'\n'' ']* ]] || die "--ublk $name: no quotes, spaces or newlines in the option string"
    ev=ZBL_VM_UBLK_${name^^}
    claim_env "$ev"
    echo "dev_ublk $(sq "$name") $ev $(sq "$opts")"
  done
}
ublk_config >>"$config"

# --- the command -------------------------------------------------------------------------------
{
  echo '#!/bin/bash'
  echo '. /run/zbl/env.sh'
  for e in "${envs[@]}"; do
    n=${e%%=*}
    [[ $n =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--env: bad name '$n'"
    if [[ $e == *=* ]]; then v=${e#*=}; else v=${!n-}; fi
    printf 'export %s=%q\n' "$n" "$v"
  done
  printf 'cd -- %q || { echo "zbl-vm: cannot enter %s in the guest" >&2; exit 126; }\n' "$cwd" "${cwd//%/%%}"
  printf 'exec'
  printf ' %q' "$@"
  echo
} >"$ctl/cmd.sh"

# --- boot --------------------------------------------------------------------------------------
now_us() { echo "${EPOCHREALTIME/./}"; }
secs() { printf '%d.%02d' $(($1 / 1000000)) $((($1 % 1000000) / 10000)); }

# --- accelerator -------------------------------------------------------------------------------
# KVM is used when QEMU can start a vCPU with it and a standard kernel boots under it. Known
# trouble: nested hosts that refuse the IA32_ARCH_CAPABILITIES MSR of -cpu host (QEMU aborts;
# dropping the feature helps), and PVM hosts (kvm_pvm: only PVM-enabled guest kernels run; a
# Debian kernel stops with "KVM internal error ... emulation failure"). A boot that hits a KVM
# internal error is retried under TCG, and remembered in the cache for this host kernel + QEMU.
kvm_marker=${ZBL_CACHE:-/var/cache/zbl}/vm/kvm-unusable
kvm_key="$(uname -r) qemu-$qemu_version"
kvm_cpu=
kvm_why=
kvm_probe() {
  if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    kvm_why="no usable /dev/kvm"; return 1
  fi
  if [ -d /sys/module/kvm_pvm ]; then
    kvm_why="the host's KVM is kvm_pvm, which runs only PVM guest kernels"; return 1
  fi
  if [ -f "$kvm_marker" ] && [ "$(cat "$kvm_marker")" = "$kvm_key" ]; then
    kvm_why="an earlier boot here hit a KVM internal error ($kvm_marker)"; return 1
  fi
  local c
  for c in host host,-arch-capabilities; do
    if (echo quit | timeout 20 "$QEMU" -accel kvm -cpu "$c" -M q35 -nodefaults -display none \
      -monitor stdio) >/dev/null 2>&1; then
      kvm_cpu=$c
      return 0
    fi
  done
  kvm_why="QEMU cannot start a vCPU with KVM"
  return 1
}
accel_auto=0
case $accel in
  auto)
    accel_auto=1
    if kvm_probe; then accel=kvm; else accel=tcg; log "using TCG: $kvm_why"; fi ;;
  kvm) kvm_probe || die "--accel kvm: $kvm_why" ;;
esac

# --- boot --------------------------------------------------------------------------------------
console=$results/vm-console.log
# no_timer_check: under TCG on a loaded host the IO-APIC timer probe can miss its ticks and
# panic ("IO-APIC + timer doesn't work!"), seen 3 times in one afternoon at load ~20.
append="console=ttyS0 loglevel=4 panic=-1 mitigations=off no_timer_check"

# boot_once: boots the VM with $accel, runs it to the end; sets t0 ready_at t_end killed qrc.
boot_once() {
  local cpu_arg=max
  [ "$accel" = tcg ] || cpu_arg=$kvm_cpu
  cpu=$cpu_arg
  rm -f "$ctl/status" "$ctl/ready" "$rundir/out" "$rundir/err"
  : >"$console"
  mkfifo "$rundir/out" "$rundir/err"
  cat "$rundir/out" &
  local cat_out=$!
  cat "$rundir/err" >&2 &
  local cat_err=$!
  pids+=("$cat_out" "$cat_err")
  # shellcheck disable=SC2054  # commas belong to QEMU's option syntax
  local qemu_cmd=("$QEMU" -name zbl-vm -nodefaults -no-user-config -display none -monitor none
    -no-reboot -accel "$accel" -cpu "$cpu" -M q35 -m "$mem" -smp "$smp"
    -kernel "$kdir/boot/vmlinuz-$krel" -initrd "$initrd" -append "$append"
    -chardev "file,id=con,path=$console" -serial chardev:con
    -device virtio-serial-pci,id=vser
    -chardev "file,id=out,path=$rundir/out" -device virtserialport,bus=vser.0,chardev=out,name=zbl.stdout
    -chardev "file,id=err,path=$rundir/err" -device virtserialport,bus=vser.0,chardev=err,name=zbl.stderr
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
    -virtfs "local,path=$ctl,mount_tag=zblctl,security_model=none,multidevs=remap"
    -virtfs "local,path=$results,mount_tag=zblres,security_model=none,multidevs=remap"
    "${dev_args[@]}")
  printf '%q ' "${qemu_cmd[@]}" >"$rundir/qemu.cmd"

  log "booting $krel ($accel -cpu $cpu, QEMU $qemu_version, $mem, $smp CPUs)"
  t0=$(now_us)
  "${qemu_cmd[@]}" </dev/null >"$rundir/qemu.log" 2>&1 &
  qpid=$!
  # Backstop for when this script itself is killed (SIGKILL skips the traps): QEMU never outlives
  # boot + command limits + a minute. The watchdog ends as soon as QEMU does.
  (timeout "$((boot_timeout + timeout_s + 60))" tail --pid="$qpid" -f /dev/null >/dev/null 2>&1 ||
    kill -KILL "$qpid" 2>/dev/null) &
  if [ "$verbose" -eq 1 ]; then
    tail -n +1 -f --pid="$qpid" "$console" >&2 &
    pids+=($!)
  fi
  ready_at=
  killed=
  local now run_deadline=0 boot_deadline=$((t0 + boot_timeout * 1000000))
  while kill -0 "$qpid" 2>/dev/null; do
    now=$(now_us)
    if [ -z "$ready_at" ]; then
      if [ -f "$ctl/ready" ]; then
        ready_at=$now
        run_deadline=$((now + (timeout_s + 30) * 1000000))
      elif [ "$now" -gt "$boot_deadline" ]; then
        killed=boot
        break
      elif [ "$accel" = kvm ] && grep -q 'KVM internal error' "$rundir/qemu.log"; then
        killed=kvm-error
        break
      fi
    elif [ "$now" -gt "$run_deadline" ]; then
      killed=timeout
      break
    fi
    sleep 0.1
  done
  if [ -n "$killed" ]; then
    kill -TERM "$qpid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qpid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$qpid" 2>/dev/null || true
  fi
  qrc=0
  wait "$qpid" || qrc=$?
  qpid=
  t_end=$(now_us)
  # Let the output pipes drain (bounded), then stop their readers.
  for _ in $(seq 50); do
    kill -0 "$cat_out" 2>/dev/null || kill -0 "$cat_err" 2>/dev/null || break
    sleep 0.1
  done
  kill "$cat_out" "$cat_err" 2>/dev/null || true
}

boot_once
if [ "$killed" = kvm-error ]; then
  log "KVM internal error while booting ($(grep -m1 -A12 'KVM internal error' "$rundir/qemu.log" | grep -m1 -E 'failure|Suberror'))"
  if [ "$accel_auto" -eq 1 ]; then
    if mkdir -p "$(dirname "$kvm_marker")"; then echo "$kvm_key" >"$kvm_marker"; fi
    log "retrying under TCG (remembered in $kvm_marker)"
    accel=tcg
    boot_once
  fi
fi

# --- verdict -----------------------------------------------------------------------------------
status_get() { if [ -f "$ctl/status" ]; then sed -n "s/^$1=//p" "$ctl/status" | tail -n1; fi; }
cmd_rc=$(status_get rc)
message=$(status_get message)
command_exit=null
if [ "$killed" = boot ]; then
  state=boot-timeout; code=$EXIT_BOOT
  message="the guest was not ready after ${boot_timeout}s"
elif [ "$killed" = kvm-error ]; then
  state=kvm-failed; code=$EXIT_BOOT
  message="the guest hit a KVM internal error; use --accel tcg"
elif [ "$killed" = timeout ]; then
  state=timeout; code=$EXIT_TIMEOUT
  message="the VM was still running ${timeout_s}s (+30s grace) after the command started"
elif [ -n "$cmd_rc" ]; then
  command_exit=$cmd_rc
  code=$cmd_rc
  state=ok
  if [ "$(status_get timed_out)" = 1 ]; then
    state=timeout; code=$EXIT_TIMEOUT
    message="the command ran past --timeout ${timeout_s}s and was killed"
  fi
elif [ "$(status_get setup_failed)" = 1 ]; then
  state=setup-failed; code=$EXIT_BOOT
elif [ ! -s "$console" ] && [ "$qrc" -ne 0 ]; then
  state=qemu-failed; code=$EXIT_HARNESS
  message="QEMU exited $qrc before the guest booted: $(tr '\n' ' ' <"$rundir/qemu.log")"
else
  state=guest-died; code=$EXIT_BOOT
  message="the guest stopped before the command finished (kernel panic? see vm-console.log)"
fi

boot_s=null
cmd_s=null
if [ -n "$ready_at" ]; then
  boot_s=$(secs $((ready_at - t0)))
  cmd_s=$(secs $((t_end - ready_at)))
fi
total_s=$(secs $((t_end - t0)))
json_esc() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/ }; printf '%s' "${s//$'\n'/ }"; }
cat >"$results/vm-run.json" <<EOF
{
  "state": "$state",
  "exit_code": $code,
  "command_exit": $command_exit,
  "message": "$(json_esc "$message")",
  "accel": "$accel",
  "cpu": "$cpu",
  "qemu": "$qemu_version",
  "kernel": "$krel",
  "kernel_series": "$kernel_series",
  "boot_seconds": $boot_s,
  "command_seconds": $cmd_s,
  "total_seconds": $total_s,
  "console_log": "$(json_esc "$console")",
  "devices_json": "$(json_esc "$results/vm-devices.json")"
}
EOF

if [ "$state" = ok ]; then
  log "command exited $code (boot ${boot_s}s, command+shutdown ${cmd_s}s, total ${total_s}s)"
else
  log "$state: $message"
  if [ "$state" != qemu-failed ] && [ "$verbose" -eq 0 ]; then
    log "last lines of $console:"
    tail -n 30 "$console" | sed 's/^/  | /' >&2
  fi
  log "exit $code (total ${total_s}s)"
fi
exit "$code"
