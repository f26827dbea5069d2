#!/usr/bin/env bash
# Runs the golden scripts' commands with QEMU 10's real qemu-io on kernel null_blk devices
# shaped like the scripts' emulated devices (in the ci/vm VM), and diffs qemu-io's stdout with
# the golden files' stdout lines. The golden files are the emulator's answers (null_blk
# profile); a difference is either a zbl-io formatting bug or a device-semantics difference
# to explain (README.md, "Differences from qemu-io"). Not a ctest: it needs the VM (~30 s).
#
#   tools/zbl-io/compare_qemu_io.sh [RESULTS_DIR]      (from the repository root)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testdata=$here/testdata

# golden name -> null_blk device name and its configfs parameters (sizes in MB).
declare -A dev=(
  [hm_report]="rep:size=32,zone_size=4,zone_capacity=3,zone_nr_conv=2"
  [hm_zone_ops]="ops:size=32,zone_size=4,zone_capacity=3,zone_nr_conv=1"
  [hm_append]="app:size=32,zone_size=4,zone_capacity=3,zone_nr_conv=1"
  [hm_rw]="rw:size=16,zone_size=4,zone_capacity=3,zone_nr_conv=1,blocksize=512"
  [errors]="err:size=16,zone_size=4"
  [max_open]="mo:size=32,zone_size=4,zone_max_open=2"
  [max_active]="ma:size=32,zone_size=4,zone_max_active=2"
)

commands_of() {  # the -c arguments of a golden script, one per line
  grep -v -e '^#' -e '^args:' -e '^exit:' -e '^$' "$testdata/$1.in"
}

if [ "${1:-}" = "--guest" ]; then
  out=${ZBL_VM_RESULTS:?}
  for name in "${!dev[@]}"; do
    nb=${dev[$name]%%:*}
    var=ZBL_VM_NULLB_${nb^^}
    args=()
    # (no process substitution: the guest has no /dev/fd)
    while IFS= read -r line; do args+=(-c "$line"); done <<< "$(commands_of "$name")"
    # -n (O_DIRECT): without it writes stay in the page cache and zones do not change.
    qemu-io -n --image-opts "driver=host_device,filename=${!var}" "${args[@]}" \
      > "$out/$name.stdout" 2> "$out/$name.stderr" || echo $? > "$out/$name.status"
  done
  exit 0
fi

results=${1:-$(pwd)/build/qemu-io-compare}
mkdir -p "$results"
nullb=()
for name in "${!dev[@]}"; do nullb+=(--nullb "${dev[$name]}"); done
"$here/../../ci/vm/run.sh" --results "$results" "${nullb[@]}" -- "$here/compare_qemu_io.sh" --guest

# qemu-io's stdout vs the golden file without the lines zbl-io or qemu-io print on stderr.
stderr_lines='^(zbl-io: <detail>|command ".*" not found|bad argument count .*|.*: invalid option -- .*|.*: option requires an argument -- .*)$'
status=0
for name in $(printf '%s\n' "${!dev[@]}" | sort); do
  sed -E 's/[0-9]+ ops; .*$/X ops; XX:XX:XX.X (XXX YYY\/sec and XXX ops\/sec)/;
          s/^([0-9]+),[0-9]+,[0-9]+:[0-9:.]+,.*$/\1,X,XX:XX:XX.XX,XXX,XXX/' \
    "$results/$name.stdout" > "$results/$name.qemu-io"
  grep -Ev "$stderr_lines" "$testdata/$name.out" > "$results/$name.golden" || true
  if diff -u "$results/$name.golden" "$results/$name.qemu-io" > "$results/$name.diff"; then
    echo "$name: same as qemu-io"
  else
    echo "$name: differs from qemu-io ($results/$name.diff)"
    status=1
  fi
done
exit $status
