// driver=blkdebug: an error-injection filter in the spirit of QEMU's blkdebug. It passes every
// request to its child "file" unless a rule fires; then the request fails with the rule's errno
// and never reaches the child, so a failed request changes nothing below.
//
// Rules are keyed inject-error.N.* (N orders them; the first rule that fires wins):
//   event   read|write|append|open|close|finish|reset|reset-all|report|flush (required)
//   errno   positive errno to fail with (default 5, EIO)
//   after   let the first N matching requests pass (default 0)
//   every   then fire on every Nth matching request (default 1)
//   once    fire only once, then retire (default off)
//   zone    only requests that touch this zone index (zoned children)
//   offset, length   only requests that overlap [offset, offset+length) (length default 1)
// e.g. driver=blkdebug,inject-error.0.event=write,inject-error.0.errno=5,inject-error.0.once=on,
//      inject-error.0.after=3,file.driver=emulated,file.size=64M,file.zone-size=4M
//
// driver=powercut: a filter that keeps writes not yet flushed in a volatile buffer (reads see
// them) and writes them to its child on flush. At the cut (cut-after=N: the Nth request that
// changes data, or CutPower()) it drops everything unflushed and fails that request and every
// later one with EIO, like a device that lost power. Its child must be non-zoned: the layer sits
// below a zoned device's persistent image, where a real volatile write cache sits.
#pragma once

#include <cstdint>
#include <vector>

#include "zbl/driver.h"

namespace zbl::blkdebug {

extern const DriverSpec kBlkdebugDriver;
extern const DriverSpec kPowercutDriver;

// How often the rules of a blkdebug node fired, in rule order (tests).
std::vector<uint64_t> FiredCounts(const Node& blkdebug_node);

// Cuts the power of a powercut node now (tests); false if `node` is not a powercut node.
bool CutPower(Node& powercut_node);
// Whether a powercut node's power is cut (false for nodes of other drivers).
bool PowerIsCut(const Node& powercut_node);

}  // namespace zbl::blkdebug
