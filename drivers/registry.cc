// The explicit list of built-in drivers. A new driver is a folder plus one line here.
#include "blkdebug/blkdebug.h"
#include "emulated/emulated.h"
#include "zbl/driver.h"

namespace zbl {
namespace {

const DriverSpec* const kDrivers[] = {
    &emulated::kEmulatedDriver,
    &blkdebug::kBlkdebugDriver, &blkdebug::kPowercutDriver,
};

}  // namespace

std::span<const DriverSpec* const> BuiltinDrivers() { return kDrivers; }

}  // namespace zbl
