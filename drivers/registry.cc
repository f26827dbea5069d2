// The explicit list of built-in drivers. A new driver is a folder plus one line here.
#include "emulated/emulated.h"
#include "null_blk/null_blk.h"
#include "file/file.h"
#include "raw/raw.h"
#include "zbl/driver.h"

namespace zbl {
namespace {

const DriverSpec* const kDrivers[] = {
    &emulated::kEmulatedDriver,
    &null_blk::kNullBlkDriver,
    &file::kFileDriver,
    &file::kHostDeviceDriver,
    &raw::kRawDriver,
};

}  // namespace

std::span<const DriverSpec* const> BuiltinDrivers() { return kDrivers; }

}  // namespace zbl
