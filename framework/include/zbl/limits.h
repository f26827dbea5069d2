// Limits: what a node (and so the backend) can do, refreshed bottom-up after every open.
#pragma once

#include <cstdint>
#include <string>

#include "zbl/types.h"

namespace zbl {

struct Limits {
  // Device length in bytes. Invariant: a multiple of logical_block_size.
  uint64_t size = 0;
  // Smallest addressable unit in bytes: 512 or 4096 (a power of two >= 512).
  uint32_t logical_block_size = 512;
  // Offsets and lengths of every request must be multiples of this (bytes). Invariant:
  // a multiple of logical_block_size.
  uint32_t request_alignment = 512;
  // Largest single request in bytes; 0 = no limit (the backend still accepts larger requests
  // only if the driver does: drivers that need splitting do it themselves).
  uint64_t max_transfer = 0;

  ZoneModel model = ZoneModel::kNone;
  // Zone length in bytes; 0 when model is NONE. Invariant: multiple of logical_block_size.
  // The last zone may be shorter (a "runt" zone) when size is not a multiple.
  uint64_t zone_size = 0;
  // Number of zones (including conventional ones); 0 when model is NONE.
  uint32_t nr_zones = 0;
  // Open and active zone limits; 0 = no limit.
  uint32_t max_open_zones = 0;
  uint32_t max_active_zones = 0;
  // Largest zone append in bytes; 0 = zone append not supported.
  uint64_t max_append_bytes = 0;
  // Granularity of writes to sequential zones in bytes (physical block size); 0 = logical block.
  uint32_t write_granularity = 0;

  bool zoned() const { return model != ZoneModel::kNone; }
  // Checks the invariants above; names the first field that breaks one.
  std::string Validate() const;
  bool operator==(const Limits&) const = default;
};

// How a parent node takes its child's limits.
enum class LimitsMerge {
  // A pass-through node (raw, filters): zoned model and geometry come from the child.
  kPassThrough,
  // A node that defines its own zoned geometry over the child (emulated over a file):
  // only the I/O constraints of the child carry over.
  kOwnGeometry,
};

// The one merge rule, child to parent: alignments take the maximum, transfer and append maxima
// take the smallest non-zero value, zoned geometry follows `how`. `own` holds what the parent
// set for itself: its size (0 = the child's) and, for kOwnGeometry, its geometry.
Limits MergeLimits(const Limits& own, const Limits& child, LimitsMerge how);

}  // namespace zbl
