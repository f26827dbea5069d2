// driver=null_blk: Linux's null_blk with its own parameter names and units. backend=kernel
// makes a real device through configfs and opens its disk with driver=host_device;
// backend=user is a userspace twin on the emulated engine that reproduces the kernel's geometry,
// parameter adjustments and zone semantics; backend=auto (default) picks kernel when configfs
// has null_blk and host_device is built, else user. See drivers/null_blk/README.md.
#pragma once

#include "zbl/driver.h"

namespace zbl::null_blk {

extern const DriverSpec kNullBlkDriver;

}  // namespace zbl::null_blk
