#!/usr/bin/env bash
# Fetches Debian 12's newest kernel package of one series, unpacks it and runs depmod, into
# ${ZBL_CACHE:-/var/cache/zbl}/vm/kernel/<release>/. A cached kernel of the series is reused
# without touching apt. Prints the release directory on stdout (messages go to stderr).
#
# Series (Debian 12 ships both, standard amd64 flavour, signed package else -unsigned):
#   6.12  linux-image-6.12.N+deb12-amd64   (bookworm-security; release 6.12.N+deb12-amd64)
#   6.1   linux-image-6.1.0-NN-amd64       (bookworm main / bookworm-security; release 6.1.0-NN-amd64)
#
# Usage: kernel.sh [SERIES]   (default 6.12)
# Environment:
#   ZBL_CACHE                 cache root (default /var/cache/zbl)
#   ZBL_VM_KERNEL_PACKAGE     exact package to use, e.g. linux-image-6.12.117+deb12-amd64
#                             (must belong to the series asked for)
#   ZBL_VM_KERNEL_REFRESH=1   ask apt for a newer package even when one is cached
#
# Usable as a script or sourced (then call zbl_vm_kernel [SERIES]).
set -euo pipefail

zbl_vm_kernel_log() { echo "zbl-vm: $*" >&2; }

ZBL_VM_KERNEL_SERIES=(6.12 6.1)

# zbl_vm_kernel_release_re SERIES: the extended regex a release of the series matches (whole
# string), or failure for a series the harness does not know.
zbl_vm_kernel_release_re() {
  case $1 in
    6.12) echo '6\.12\.[0-9]+\+deb12(\.[0-9]+)?-amd64' ;;
    6.1) echo '6\.1\.0-[0-9]+-amd64' ;;
    *) return 1 ;;
  esac
}

# Newest standard-flavour image package name of SERIES that apt can download (signed if it exists).
zbl_vm_kernel_pick() {
  local series=$1 re names
  re=$(zbl_vm_kernel_release_re "$series") || return 1
  names=$(apt-cache pkgnames "linux-image-$series" 2>/dev/null |
    grep -E "^linux-image-$re(-unsigned)?\$" |
    sed -E 's/^linux-image-(.*)-amd64(-unsigned)?$/\1/' | sort -uV -r) || true
  local v
  for v in $names; do
    local p
    for p in "linux-image-$v-amd64" "linux-image-$v-amd64-unsigned"; do
      # A name only some package Provides has no Filename: skip it.
      local info
      info=$(apt-cache show --no-all-versions "$p" 2>/dev/null) || continue
      if [[ $'\n'$info == *$'\nFilename: '* ]]; then
        echo "$p"
        return 0
      fi
    done
  done
  return 1
}

# Cached release directories of SERIES, newest first.
zbl_vm_kernel_cached() {
  local root=$1 series=$2 d re
  re=$(zbl_vm_kernel_release_re "$series") || return 1
  [ -d "$root" ] || return 0
  for d in "$root"/*/; do
    [ -f "$d/.zbl-ready" ] && basename "$d"
  done | { grep -E "^$re\$" || true; } | sort -V -r
}

zbl_vm_kernel() {
  local series=${1:-6.12}
  local cache=${ZBL_CACHE:-/var/cache/zbl}/vm/kernel
  local pkg=${ZBL_VM_KERNEL_PACKAGE:-}
  local rel re
  re=$(zbl_vm_kernel_release_re "$series") || {
    zbl_vm_kernel_log "error: unknown kernel series '$series' (known: ${ZBL_VM_KERNEL_SERIES[*]})"
    return 1
  }
  if [ -n "$pkg" ] && ! [[ $pkg =~ ^linux-image-$re(-unsigned)?$ ]]; then
    zbl_vm_kernel_log "error: ZBL_VM_KERNEL_PACKAGE=$pkg is not a Debian 12 $series amd64 image package"
    return 1
  fi
  if [ -z "$pkg" ] && [ "${ZBL_VM_KERNEL_REFRESH:-0}" != 1 ]; then
    rel=$(zbl_vm_kernel_cached "$cache" "$series" | head -n1)
    if [ -n "$rel" ]; then
      echo "$cache/$rel"
      return 0
    fi
  fi
  if [ -z "$pkg" ]; then
    pkg=$(zbl_vm_kernel_pick "$series") || {
      zbl_vm_kernel_log "no Debian 12 $series amd64 kernel image known to apt; running apt-get update"
      timeout 300 apt-get update -qq >&2 || true
      pkg=$(zbl_vm_kernel_pick "$series") || {
        zbl_vm_kernel_log "error: apt knows no Debian 12 $series amd64 kernel image package" \
          "(are bookworm and bookworm-security in the apt sources?)"
        return 1
      }
    }
  fi
  rel=${pkg#linux-image-}
  rel=${rel%-unsigned}
  if [ -f "$cache/$rel/.zbl-ready" ]; then
    echo "$cache/$rel"
    return 0
  fi
  mkdir -p "$cache"
  # One fetch at a time per cache (parallel CI jobs); the loser finds the kernel ready.
  local lock
  exec {lock}>"$cache/.lock"
  flock -w 1200 "$lock" || { zbl_vm_kernel_log "error: timed out waiting for $cache/.lock"; return 1; }
  if [ -f "$cache/$rel/.zbl-ready" ]; then
    exec {lock}>&-
    echo "$cache/$rel"
    return 0
  fi
  zbl_vm_kernel_fetch "$cache" "$pkg" "$rel"
  local rc=$?
  exec {lock}>&-
  return "$rc"
}

# zbl_vm_kernel_fetch CACHE PACKAGE RELEASE (caller holds the lock).
zbl_vm_kernel_fetch() {
  local cache=$1 pkg=$2 rel=$3
  command -v depmod >/dev/null || { zbl_vm_kernel_log "error: depmod missing (apt-get install kmod)"; return 1; }
  local work
  work=$(mktemp -d "$cache/.fetch.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'; trap - RETURN" RETURN
  zbl_vm_kernel_log "fetching $pkg"
  (cd "$work" && timeout 900 apt-get download -qq -o APT::Sandbox::User=root "$pkg" >&2) || {
    zbl_vm_kernel_log "error: apt-get download $pkg failed"
    return 1
  }
  local deb
  deb=$(ls "$work"/*.deb)
  zbl_vm_kernel_log "unpacking $(basename "$deb")"
  mkdir "$work/root"
  timeout 600 dpkg-deb -x "$deb" "$work/root"
  local vmlinuz="$work/root/boot/vmlinuz-$rel"
  [ -f "$vmlinuz" ] || { zbl_vm_kernel_log "error: $pkg has no boot/vmlinuz-$rel"; return 1; }
  local moddir="$work/root/lib/modules/$rel"
  [ -d "$moddir" ] || moddir="$work/root/usr/lib/modules/$rel"
  [ -d "$moddir" ] || { zbl_vm_kernel_log "error: $pkg has no modules for $rel"; return 1; }
  if [ "$moddir" != "$work/root/lib/modules/$rel" ]; then
    mkdir -p "$work/root/lib/modules"
    mv "$moddir" "$work/root/lib/modules/$rel"
  fi
  timeout 300 depmod -b "$work/root" "$rel"
  [ -s "$work/root/lib/modules/$rel/modules.dep" ] || { zbl_vm_kernel_log "error: depmod wrote no modules.dep"; return 1; }
  echo "$pkg" >"$work/root/.zbl-package"
  touch "$work/root/.zbl-ready"
  rm -rf "${cache:?}/$rel"
  mv "$work/root" "$cache/$rel"
  zbl_vm_kernel_log "kernel $rel ready in $cache/$rel"
  echo "$cache/$rel"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  [ $# -le 1 ] || { echo "usage: $0 [SERIES]   (${ZBL_VM_KERNEL_SERIES[*]})" >&2; exit 2; }
  zbl_vm_kernel "$@"
fi
