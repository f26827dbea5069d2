# shellcheck shell=bash
# VM harness dependencies. Sourced by ci/deps.sh (which defines the `pkgs` array); may also be
# sourced alone and `zbl_vm_deps` called directly. Installs, only when missing:
#   - the bookworm-backports apt source (deb822 file), then qemu-system-x86 + qemu-utils from it
#     (QEMU >= 10: qemu-io's zone commands zrp/zo/zc/zf/zrs/zap);
#   - busybox-static, kmod (depmod), cpio for the guest initramfs;
#   - for the zbl-ublk judges: btrfs-progs, f2fs-tools, dpkg-dev (dpkg-source), and fio's source
#     package unpacked into the cache (ci/vm/fio-src.sh: fio's t/zbd/test-zbd-support).
# Quiet when everything is present. The guest kernel is fetched lazily by ci/vm/kernel.sh.

if declare -p pkgs >/dev/null 2>&1; then
  pkgs+=(busybox-static kmod cpio xz-utils)
  pkgs+=(btrfs-progs f2fs-tools dpkg-dev)  # zbl-ublk judges
fi

# zbl_vm_major PACKAGE: the installed version's major number (epoch dropped), or 0.
zbl_vm_major() {
  local v
  v=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null) || { echo 0; return; }
  case $v in
    "install ok installed "*) v=${v#install ok installed }; v=${v#*:}; echo "${v%%.*}" ;;
    *) echo 0 ;;
  esac
}

# zbl_vm_apt ARGS...: apt-get, bounded in time, output shown only when it fails.
zbl_vm_apt() {
  local sudo="" log rc=0
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log=$(mktemp)
  DEBIAN_FRONTEND=noninteractive timeout 1200 $sudo apt-get "$@" >"$log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { echo "zbl: apt-get $* failed ($rc):" >&2; tail -n 20 "$log" >&2; }
  rm -f "$log"
  return "$rc"
}

zbl_vm_deps() {
  local sudo="" src=/etc/apt/sources.list.d/zbl-bookworm-backports.sources updated=0
  [ "$(id -u)" -eq 0 ] || sudo="sudo"

  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "zbl: adding the bookworm-backports apt source ($src)"
    $sudo tee "$src" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    zbl_vm_apt update -qq
    updated=1
  fi

  local missing=() p
  for p in busybox-static kmod cpio xz-utils; do
    [ "$(zbl_vm_major "$p")" != 0 ] || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "zbl: installing ${missing[*]}"
    [ "$updated" -eq 1 ] || zbl_vm_apt update -qq
    updated=1
    zbl_vm_apt install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if [ "$(zbl_vm_major qemu-system-x86)" -lt 10 ] || [ "$(zbl_vm_major qemu-utils)" -lt 10 ]; then
    echo "zbl: installing qemu-system-x86 qemu-utils from bookworm-backports"
    [ "$updated" -eq 1 ] || zbl_vm_apt update -qq
    zbl_vm_apt install -y -qq --no-install-recommends -t bookworm-backports \
      qemu-system-x86 qemu-utils
  fi
  # --- zbl-ublk judges: file-system tools and fio's own zoned suite (source package) ---
  missing=()
  for p in btrfs-progs f2fs-tools dpkg-dev fio; do
    [ "$(zbl_vm_major "$p")" != 0 ] || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "zbl: installing ${missing[*]}"
    [ "$updated" -eq 1 ] || zbl_vm_apt update -qq
    updated=1
    zbl_vm_apt install -y -qq --no-install-recommends "${missing[@]}"
  fi
  "$(dirname "${BASH_SOURCE[0]}")/fio-src.sh" >/dev/null || return 1
  for p in qemu-system-x86 qemu-utils; do
    if [ "$(zbl_vm_major "$p")" -lt 10 ]; then
      echo "zbl: $p is version $(zbl_vm_major "$p").x after installing from bookworm-backports, need >= 10" >&2
      return 1
    fi
  done
}
