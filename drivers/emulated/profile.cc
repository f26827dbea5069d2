#include "profile.h"

namespace zbl::emulated {
namespace {

using ZC = ZoneCondition;

// Linux null_blk (drivers/block/null_blk/zoned.c).
constexpr Profile kNullBlk{
    .name = "null_blk",
    .description = "Linux null_blk: close of an untouched open zone empties it; inapplicable "
                   "open/close fail with EIO; finish needs resources; round-robin eviction",
    .close_at_start = ZC::kEmpty,
    .full_wp_after_write = FullWritePointer::kCapacityEnd,
    .full_wp_after_finish = FullWritePointer::kZoneEnd,
    .open_full = Inapplicable::kError,
    .close_empty = Inapplicable::kError,
    .close_full = Inapplicable::kError,
    .finish_needs_resources = true,
    .evict = EvictPolicy::kRoundRobin,
    .active_check_first = true,
    .evict_needs_active_room = true,
    .implicit_open_fails_only_on_explicit = false,
    .explicit_open_fails_only_on_explicit = false,
    .has_active_limit = true,
    .read_unwritten = ReadUnwritten::kOnes,
    .cross_zone_write = CrossZoneWrite::kSplit,
    .split_write_errno = SplitErrno::kLastFailing,
    .conventional_wp = ConventionalWp::kZoneEnd,
    .err_read_across_capacity = 0,
    .err_write_violation = EIO,
    .err_write_plug = 0,
    .err_append_violation = EIO,
    .err_append_full = EIO,
    .err_invalid_transition = EIO,
    .err_conventional_op = EIO,
    .err_conventional_open_close = EIO,
    .err_read_only = EIO,
    .err_offline_read = EIO,
    .err_open_resource = ETOOMANYREFS,
    .err_active_resource = EOVERFLOW,
};

// NVMe ZNS as QEMU's hw/nvme emulates it, seen through Linux's nvme driver (which reports a
// FULL zone's write pointer at the zone end).
constexpr Profile kZns{
    .name = "zns",
    .description = "NVMe ZNS (QEMU hw/nvme through Linux): close of an untouched open zone "
                   "keeps it CLOSED; inapplicable transitions fail; finish needs no resources; "
                   "the oldest implicitly-open zone is closed first",
    .close_at_start = ZC::kClosed,
    .full_wp_after_write = FullWritePointer::kZoneEnd,
    .full_wp_after_finish = FullWritePointer::kZoneEnd,
    .open_full = Inapplicable::kError,
    .close_empty = Inapplicable::kError,
    .close_full = Inapplicable::kError,
    .finish_needs_resources = false,
    .evict = EvictPolicy::kOldest,
    .active_check_first = false,
    .evict_needs_active_room = false,
    .implicit_open_fails_only_on_explicit = false,
    .explicit_open_fails_only_on_explicit = false,
    .has_active_limit = true,
    .read_unwritten = ReadUnwritten::kZeros,
    .cross_zone_write = CrossZoneWrite::kSplit,
    .split_write_errno = SplitErrno::kLastFailing,
    .conventional_wp = ConventionalWp::kZoneEnd,
    .err_read_across_capacity = 0,
    .err_write_violation = EIO,
    .err_write_plug = 0,
    .err_append_violation = EIO,
    .err_append_full = EIO,
    .err_invalid_transition = EIO,
    .err_conventional_op = EIO,
    .err_conventional_open_close = EIO,
    .err_read_only = EIO,
    .err_offline_read = EIO,
    .err_open_resource = ETOOMANYREFS,
    .err_active_resource = EOVERFLOW,
};

// SCSI ZBC as the kernel's scsi_debug emulates it, seen through Linux's sd driver.
constexpr Profile kZbc{
    .name = "zbc",
    .description = "SCSI ZBC (scsi_debug through Linux): inapplicable open/close are no-ops; "
                   "no active limit; only explicitly-open zones exhaust open resources; the "
                   "lowest-numbered implicitly-open zone is closed first",
    .close_at_start = ZC::kEmpty,
    .full_wp_after_write = FullWritePointer::kZoneEnd,
    .full_wp_after_finish = FullWritePointer::kZoneEnd,
    .open_full = Inapplicable::kNoop,
    .close_empty = Inapplicable::kNoop,
    .close_full = Inapplicable::kNoop,
    .finish_needs_resources = false,
    .evict = EvictPolicy::kLowest,
    .active_check_first = true,
    .evict_needs_active_room = false,
    .implicit_open_fails_only_on_explicit = true,
    .explicit_open_fails_only_on_explicit = true,
    .has_active_limit = false,
    .read_unwritten = ReadUnwritten::kZeros,
    .cross_zone_write = CrossZoneWrite::kSplit,
    .split_write_errno = SplitErrno::kLastFailing,
    .conventional_wp = ConventionalWp::kNone,
    .err_read_across_capacity = EREMOTEIO,
    .err_write_violation = EREMOTEIO,
    .err_write_plug = EIO,
    .err_append_violation = EREMOTEIO,
    .err_append_full = EIO,
    .err_invalid_transition = EIO,
    .err_conventional_op = EIO,
    .err_conventional_open_close = EREMOTEIO,
    .err_read_only = EIO,
    .err_offline_read = EIO,
    .err_open_resource = ETOOMANYREFS,
    .err_active_resource = EOVERFLOW,
};

constexpr const Profile* kAll[] = {&kNullBlk, &kZns, &kZbc};

}  // namespace

const Profile& NullBlkProfile() { return kNullBlk; }
const Profile& ZnsProfile() { return kZns; }
const Profile& ZbcProfile() { return kZbc; }
std::span<const Profile* const> AllProfiles() { return kAll; }

const Profile* FindProfile(std::string_view name) {
  for (const Profile* p : kAll)
    if (p->name == name) return p;
  return nullptr;
}

}  // namespace zbl::emulated
