// driver=raw: QEMU's raw format driver over a "file" child, passing reads, writes, flushes and
// every zone operation through, optionally on a window of the child:
//   offset=BYTES  where the window starts in the child (default 0)
//   size=BYTES    its length (default: the rest of the child)
// Requests are shifted by `offset`; zone reports are translated back and show only the
// window's zones. On a zoned child the window must be zone-aligned (a size that ends at the
// child's end may end in its runt zone). Limits: the child's, with the window's size.
#pragma once

#include "zbl/driver.h"

namespace zbl::raw {

extern const DriverSpec kRawDriver;

}  // namespace zbl::raw
