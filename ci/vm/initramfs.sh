#!/usr/bin/env bash
# Builds the guest initramfs (busybox-static + ci/vm/init + the kernel modules the harness loads),
# cached by a hash of its content under ${ZBL_CACHE:-/var/cache/zbl}/vm/initramfs/.
# Usage: initramfs.sh KERNEL_DIR   (a directory made by kernel.sh); prints the cpio.gz path.
# Usable as a script or sourced (then call zbl_vm_initramfs KERNEL_DIR).
set -euo pipefail

ZBL_VM_DIR=${ZBL_VM_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

# Modules /init may load, by module name; their dependencies are resolved from modules.dep here.
# A module the kernel has built in (modules.builtin) gets an empty load list: 6.12 builds virtio_pci
# and virtio_console in, 6.1 ships them as modules.
ZBL_VM_MODULES=(virtio_pci virtio_console netfs 9pnet 9pnet_virtio 9p configfs null_blk nvme_core
  nvme scsi_common scsi_mod sd_mod scsi_debug)

zbl_vm_busybox() {
  local b
  for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! LC_ALL=C ldd "$b" >/dev/null 2>&1; then echo "$b"; return 0; fi
  done
  echo "zbl-vm: error: no static busybox (apt-get install busybox-static)" >&2
  return 1
}

# Prints the load order (dependencies first, module last) of module NAME, as paths relative to
# the modules dir, using the modules.dep in DIR.
zbl_vm_mod_order() {
  local dep=$1/modules.dep name=$2
  awk -v want="$name" -v dir="$1" '
    function norm(p,   b) { b = p; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b); gsub(/-/, "_", b); return b }
    function visit(p,   n, i, d) {
      if (p in seen) return
      seen[p] = 1
      n = split(deps[p], d, " ")
      for (i = n; i >= 1; i--) visit(d[i])
      print p
    }
    {
      key = $1; sub(/:$/, "", key)
      deps[key] = ""
      for (i = 2; i <= NF; i++) deps[key] = deps[key] " " $i
      byname[norm(key)] = key
    }
    END {
      if (!(want in byname)) {
        builtin = dir "/modules.builtin"
        while ((getline line < builtin) > 0) if (norm(line) == want) exit 0
        print "zbl-vm: error: module " want " neither in modules.dep nor built in" > "/dev/stderr"; exit 1
      }
      visit(byname[want])
    }' "$dep"
}

zbl_vm_initramfs() {
  local kdir=$1 rel busybox
  rel=$(basename "$kdir")
  local moddir="$kdir/lib/modules/$rel"
  [ -f "$moddir/modules.dep" ] || { echo "zbl-vm: error: $moddir/modules.dep missing" >&2; return 1; }
  busybox=$(zbl_vm_busybox)
  local cache=${ZBL_CACHE:-/var/cache/zbl}/vm/initramfs
  local key
  key=$( { echo "$rel"; printf '%s\n' "${ZBL_VM_MODULES[@]}"; sha256sum "$busybox" | cut -d' ' -f1
           cat "$ZBL_VM_DIR/init" "$ZBL_VM_DIR/initramfs.sh" "$moddir/modules.dep"
           cat "$moddir/modules.builtin" 2>/dev/null; } |
         sha256sum | cut -c1-16)
  local out="$cache/initramfs-$rel-$key.cpio.gz"
  if [ -s "$out" ]; then echo "$out"; return 0; fi
  mkdir -p "$cache"
  local work
  work=$(mktemp -d "$cache/.build.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'; trap - RETURN" RETURN
  local root="$work/root"
  mkdir -p "$root"/{bin,sbin,dev,proc,sys,run,tmp,newroot,ctl,results,zbl/mod,"lib/modules/$rel"}
  cp "$busybox" "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  install -m 0755 "$ZBL_VM_DIR/init" "$root/init"
  echo "$rel" >"$root/zbl/kernel"
  # Modules go in uncompressed (as NAME.ko): the cpio is compressed anyway, and busybox insmod
  # hands .ko.xz to the kernel as raw ELF first, which logs "Invalid ELF header magic".
  local m p ko
  for m in "${ZBL_VM_MODULES[@]}"; do
    zbl_vm_mod_order "$moddir" "$m" | sed -E 's/\.ko\.(xz|zst|gz)$/.ko/' >"$root/zbl/mod/$m"
    while read -r p; do
      ko="$root/lib/modules/$rel/$p"
      [ ! -f "$ko" ] || continue
      mkdir -p "$(dirname "$ko")"
      if [ -f "$moddir/$p.xz" ]; then xz -dc "$moddir/$p.xz" >"$ko"
      elif [ -f "$moddir/$p.zst" ]; then zstd -qdc "$moddir/$p.zst" >"$ko"
      elif [ -f "$moddir/$p.gz" ]; then gzip -dc "$moddir/$p.gz" >"$ko"
      else cp "$moddir/$p" "$ko"
      fi
    done <"$root/zbl/mod/$m"
  done
  (cd "$root" && find . -print0 | LC_ALL=C sort -z |
     cpio --null -o -H newc --quiet --reproducible 2>/dev/null | gzip -1 -n) >"$work/initramfs.cpio.gz"
  mv "$work/initramfs.cpio.gz" "$out"
  # Older builds for this kernel are stale.
  find "$cache" -maxdepth 1 -name "initramfs-$rel-*.cpio.gz" ! -name "$(basename "$out")" -delete
  echo "zbl-vm: built $(basename "$out") ($(du -k "$out" | cut -f1) KiB)" >&2
  echo "$out"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  [ $# -eq 1 ] || { echo "usage: $0 KERNEL_DIR" >&2; exit 2; }
  zbl_vm_initramfs "$1"
fi
