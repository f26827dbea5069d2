#!/usr/bin/env bash
# fio's own zoned test suite (t/zbd/test-zbd-support) from Debian's source package of the fio
# that is installed, unpacked once into ${ZBL_CACHE:-/var/cache/zbl}/fio/ (never committed).
# Adds a deb-src apt source beside the binary ones when none exists (root or sudo).
# Prints the unpacked source directory. Usable as a script or sourced (zbl_vm_fio_src).
set -euo pipefail

zbl_vm_fio_src() {
  local sudo="" cache=${ZBL_CACHE:-/var/cache/zbl}/fio ver dir
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  ver=$(dpkg-query -W -f='${Version}' fio 2>/dev/null) || {
    echo "zbl: fio is not installed (apt-get install fio)" >&2; return 1; }
  dir=$cache/fio-${ver%%-*}
  if [ -x "$dir/t/zbd/test-zbd-support" ]; then echo "$dir"; return 0; fi
  command -v dpkg-source >/dev/null || {
    echo "zbl: dpkg-source missing (apt-get install dpkg-dev)" >&2; return 1; }
  if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    local src=/etc/apt/sources.list.d/zbl-bookworm-src.sources
    echo "zbl: adding a deb-src apt source ($src)" >&2
    $sudo tee "$src" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq >/dev/null
  fi
  $sudo mkdir -p "$cache"
  local work
  work=$($sudo mktemp -d "$cache/.get.XXXXXX")
  (cd "$work" && $sudo apt-get source -qq "fio=$ver" >/dev/null 2>&1) || {
    $sudo rm -rf "$work"; echo "zbl: apt-get source fio=$ver failed" >&2; return 1; }
  local got
  got=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'fio-*' | head -n1)
  if [ -z "$got" ] || [ ! -x "$got/t/zbd/test-zbd-support" ]; then
    $sudo rm -rf "$work"; echo "zbl: fio's source has no t/zbd/test-zbd-support" >&2; return 1
  fi
  $sudo rm -rf "$dir"
  $sudo mv "$got" "$dir"
  $sudo rm -rf "$work"
  echo "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  zbl_vm_fio_src
fi
