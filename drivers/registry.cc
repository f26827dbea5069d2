// The explicit list of built-in drivers. A new driver is a folder plus one line here.
#include "blkdebug/blkdebug.h"
#include "emulated/emulated.h"
#include "file/file.h"
#include "raw/raw.h"
#include "null_blk/null_blk.h"
#include "nvme_passthru/nvme_passthru.h"
#include "zbl/driver.h"

namespace zbl {
namespace {

const DriverSpec* const kDrivers[] = {
    &emulated::kEmulatedDriver,
    &file::kFileDriver,
    &file::kHostDeviceDriver,
    &raw::kRawDriver,
    &null_blk::kNullBlkDriver,
    &blkdebug::kBlkdebugDriver,
    &blkdebug::kPowercutDriver,
    &nvme::kNvmePassthruDriver,
};

}  // namespace

std::span<const DriverSpec* const> BuiltinDrivers() { return kDrivers; }

}  // namespace zbl
