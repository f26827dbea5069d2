// driver=nvme_passthru: an NVMe Zoned Namespace through its generic character device, with
// NVMe commands sent as passthrough (io_uring URING_CMD with SQE128/CQE32, the ioctl where
// io_uring cannot), so the block layer's zone write plug and append emulation stay out:
//   filename=/dev/ngXnY   the namespace's generic device (required; root)
//   nsid=N                the namespace id (default: the device node's own)
// Zone append is the device's native command and returns the LBA the device chose. Reads and
// writes are split at zone boundaries and at the transfer limit as Linux splits them, and a
// FULL zone reports its end as write pointer, as Linux gives it; so through the Backend the
// namespace answers as its block device does except where the kernel itself decides (no zone
// write plug, no append emulation). Refusals
// keep the device's NVMe status (SCT, SC) in the error message beside the errno, which is the
// one Linux's block layer gives the same status (so host_device and nvme_passthru on one
// namespace answer alike). `describe` prints the zoned identify fields (ZASL, ZRWA sizes,
// descriptor extension size, MOR/MAR, ...). For ZRWA, descriptor extensions and zone attributes
// use nvme_device.h directly.
//
// Thread safety: every Node method may be called from many threads at once.
#pragma once

#include "zbl/driver.h"

namespace zbl::nvme {

extern const DriverSpec kNvmePassthruDriver;

}  // namespace zbl::nvme
