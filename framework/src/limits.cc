#include "zbl/limits.h"

#include <algorithm>

#include <fmt/format.h>

namespace zbl {
namespace {

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

uint64_t MinNonZero(uint64_t a, uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

}  // namespace

std::string Limits::Validate() const {
  if (!IsPowerOfTwo(logical_block_size) || logical_block_size < 512)
    return fmt::format("logical_block_size {} is not a power of two >= 512", logical_block_size);
  if (request_alignment == 0 || request_alignment % logical_block_size != 0)
    return fmt::format("request_alignment {} is not a multiple of logical_block_size {}",
                       request_alignment, logical_block_size);
  if (size % logical_block_size != 0)
    return fmt::format("size {} is not a multiple of logical_block_size {}", size,
                       logical_block_size);
  if (model == ZoneModel::kNone) {
    if (zone_size != 0 || nr_zones != 0) return "a NONE device has zone_size/nr_zones set";
    return "";
  }
  if (zone_size == 0 || zone_size % logical_block_size != 0)
    return fmt::format("zone_size {} is not a non-zero multiple of logical_block_size {}",
                       zone_size, logical_block_size);
  if (nr_zones == 0) return "nr_zones is 0 on a zoned device";
  if (uint64_t{nr_zones} != (size + zone_size - 1) / zone_size)
    return fmt::format("nr_zones {} does not cover size {} with zone_size {}", nr_zones, size,
                       zone_size);
  if (max_active_zones != 0 && max_open_zones > max_active_zones)
    return fmt::format("max_open_zones {} exceeds max_active_zones {}", max_open_zones,
                       max_active_zones);
  if (max_append_bytes % logical_block_size != 0)
    return fmt::format("max_append_bytes {} is not a multiple of logical_block_size {}",
                       max_append_bytes, logical_block_size);
  return "";
}

Limits MergeLimits(const Limits& own, const Limits& child, LimitsMerge how) {
  Limits out = own;
  out.logical_block_size = std::max(own.logical_block_size, child.logical_block_size);
  out.request_alignment = std::max({own.request_alignment, child.request_alignment,
                                    out.logical_block_size});
  out.max_transfer = MinNonZero(own.max_transfer, child.max_transfer);
  if (how == LimitsMerge::kPassThrough) {
    out.model = child.model;
    out.zone_size = child.zone_size;
    // A window (raw's offset/size) keeps its own size; zone count follows it.
    if (out.size == 0) out.size = child.size;
    out.nr_zones = child.zone_size ? static_cast<uint32_t>((out.size + child.zone_size - 1) /
                                                           child.zone_size)
                                   : 0;
    out.max_open_zones = child.max_open_zones;
    out.max_active_zones = child.max_active_zones;
    out.max_append_bytes = child.max_append_bytes;
    out.write_granularity = std::max(own.write_granularity, child.write_granularity);
  } else {
    // The parent's own geometry stands; it can append no more than the child can transfer.
    out.max_append_bytes = std::min(own.max_append_bytes,
                                    child.max_transfer ? child.max_transfer : own.max_append_bytes);
    out.write_granularity = std::max(own.write_granularity, child.write_granularity);
  }
  return out;
}

}  // namespace zbl
