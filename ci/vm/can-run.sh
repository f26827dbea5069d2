#!/usr/bin/env bash
# Exit 0 when qemu-system can run here (TCG at least), else print why and exit 77 (ctest SKIP).
qemu=${ZBL_VM_QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null; then
  echo "SKIP: $qemu is not installed (ci/deps.sh installs QEMU 10 from bookworm-backports)"
  exit 77
fi
if ! (echo quit | timeout 60 "$qemu" -accel tcg -M none -nodefaults -display none -monitor stdio) >/dev/null 2>&1; then
  echo "SKIP: $qemu cannot run on this machine (even with TCG)"
  exit 77
fi
exit 0
