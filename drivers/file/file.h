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
// Capabilities: discard (a regular file: FALLOC_FL_PUNCH_HOLE, size kept; a block device whose
// queue/discard_max_bytes is non-zero: BLKDISCARD), resize (a regular file: ftruncate),
// native-queue (aio=io_uring), keeps-data (except a kernel null_blk disk with memory_backed=0,
// found through its configfs item), persistent; none of the writing ones with read-only=on.
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

// The Linux block layer's split rule, for the drivers that are (or mirror) a Linux zoned block
// device: host_device and null_blk's user twin. A write longer than `l.max_transfer` reaches a
// zoned device in pieces, and the pieces before a refused one stay written. Such a write is
// checked first against the zones it covers (one report of `dev`), so that a write the device
// would refuse fails with EIO and changes nothing. OK for shorter writes, non-zoned limits, or
// when the report fails (the device then judges the write itself).
Status CheckSplitWrite(Node& dev, const Limits& l, uint64_t offset, size_t len);

// True when io_uring_queue_init works on this kernel (probed once per process).
bool IoUringAvailable();

}  // namespace zbl::file
