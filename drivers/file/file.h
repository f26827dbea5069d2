// driver=file and driver=host_device: a regular file or a kernel block device (QEMU's
// block/file-posix.c), with QEMU's option spelling:
//   filename=PATH         the file or device (required)
//   cache.direct=on|off   O_DIRECT (default off; a zoned host_device always uses O_DIRECT,
//                         as QEMU intends: the page cache cannot keep a zone's write order)
//   aio=io_uring|threads  CreateQueue's engine; default io_uring when the kernel allows it
//   read-only=on|off      open O_RDONLY; writes, appends and zone ops fail with EROFS
//
// `file` refuses block devices (use host_device) and is never zoned. `host_device` refuses
// anything but a block device; its zoned model comes from sysfs (queue/zoned), its geometry from
// sysfs and libzbd, and if any part of that probe fails the device is NONE as a whole, with the
// reason shown by Describe(). Zone append is emulated as QEMU does: a per-zone write-pointer
// cache; an append writes at the cached write pointer under the zone's lock, and after any failed
// write or zone op the cache is refreshed from a zone report. As in QEMU, zone management of a
// range that starts in a conventional zone fails with EIO (SCSI disks would say EREMOTEIO)
// unless the range is the whole device, and a conventional zone without a write pointer
// (SCSI's all-ones) reports kInvalidWritePointer. The Backend refuses appends to conventional
// zones (EINVAL, as QEMU); this driver refuses them too (EIO) when called directly. An append
// past the capacity reaches the device, whose errno it returns (SCSI: EREMOTEIO, as qemu-io).
//
// Thread safety: every Node method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <string>

#include "zbl/driver.h"
#include "zbl/types.h"

namespace zbl::file {

extern const DriverSpec kFileDriver;
extern const DriverSpec kHostDeviceDriver;

// What a block device's sysfs queue directory says about its zoned geometry.
struct ZonedGeometry {
  ZoneModel model = ZoneModel::kNone;
  uint64_t zone_size = 0;  // bytes
  uint32_t nr_zones = 0;
  uint32_t max_open_zones = 0;    // 0 = no limit
  uint32_t max_active_zones = 0;  // 0 = no limit
  uint64_t max_append_bytes = 0;
  uint32_t physical_block_size = 0;
  // queue/max_sectors_kb in bytes: Linux splits longer requests (0 = unknown).
  uint64_t max_transfer = 0;
  // Why the device is reported NONE: "" when zoned.
  std::string reason;
};

// Reads queue/{zoned,chunk_sectors,nr_zones,max_open_zones,max_active_zones,
// zone_append_max_bytes,physical_block_size} from `queue_dir` (e.g. /sys/dev/block/7:0/queue)
// and checks them against the device's size and logical block size. Never fails: anything
// missing or inconsistent gives model NONE with the reason.
ZonedGeometry ProbeZonedSysfs(const std::string& queue_dir, uint64_t device_size,
                              uint32_t logical_block_size);

// True when io_uring_queue_init works on this kernel (probed once per process).
bool IoUringAvailable();

// Frees [offset, offset+len) of a `file` (punch hole, size kept) or `host_device` (BLKDISCARD)
// node, reading back zeros. ENOTSUP for other drivers or when the filesystem cannot.
Status Discard(Node& node, uint64_t offset, uint64_t len);
// Sets the length of a `file` node's file (ftruncate) and its limits' size (rounded down to
// the block size). ENOTSUP for other drivers.
Status Resize(Node& node, uint64_t size);

}  // namespace zbl::file
