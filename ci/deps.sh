#!/usr/bin/env bash
# Installs zbl's build and test dependencies from Debian packages, only what is missing.
# Idempotent and quiet when everything is present. Needs root (or sudo) to install.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

pkgs=(
  build-essential cmake pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libzbd-dev liburing-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  libjs-chart.js fio util-linux ccache python3
  clang-14 libclang-rt-14-dev clang-tidy-14
)
# Drivers of the VM harness (QEMU 10 from bookworm-backports, a 6.12 guest kernel) add theirs.
if [ -f "$here/vm/deps.sh" ]; then
  # shellcheck source=/dev/null
  source "$here/vm/deps.sh"
fi
if [ -f "$here/report-deps.txt" ]; then
  mapfile -t extra < <(grep -v '^#' "$here/report-deps.txt" | grep .)
  pkgs+=("${extra[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "zbl: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if declare -F zbl_vm_deps >/dev/null; then
  zbl_vm_deps
fi
