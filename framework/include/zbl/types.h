// Zoned block device vocabulary with the numeric values of QEMU and Linux (<linux/blkzoned.h>).
// All offsets and lengths in zbl's API are in bytes.
#pragma once

#include <cstdint>
#include <string_view>

namespace zbl {

// QEMU's BlockZoneModel values.
enum class ZoneModel : uint8_t { kNone = 0, kHostManaged = 1, kHostAware = 2 };

// BLK_ZONE_TYPE_*.
enum class ZoneType : uint8_t {
  kConventional = 0x1,
  kSequentialWriteRequired = 0x2,
  kSequentialWritePreferred = 0x3,
};

// BLK_ZONE_COND_*.
enum class ZoneCondition : uint8_t {
  kNotWritePointer = 0x0,
  kEmpty = 0x1,
  kImplicitOpen = 0x2,
  kExplicitOpen = 0x3,
  kClosed = 0x4,
  kReadOnly = 0xD,
  kFull = 0xE,
  kOffline = 0xF,
};

// Zone management operations (reset-all is Backend::ZoneResetAll or a whole-device reset range).
enum class ZoneOp : uint8_t { kOpen, kClose, kFinish, kReset };

// The write pointer a zone without one reports (read-only and offline zones), as Linux's
// null_blk does with its all-ones sector value.
inline constexpr uint64_t kInvalidWritePointer = ~uint64_t{0};

// One zone descriptor, in bytes.
struct Zone {
  uint64_t start = 0;
  uint64_t length = 0;
  uint64_t capacity = 0;
  uint64_t write_pointer = 0;  // absolute byte offset; kInvalidWritePointer when none
  ZoneType type = ZoneType::kConventional;
  ZoneCondition condition = ZoneCondition::kNotWritePointer;

  bool operator==(const Zone&) const = default;
};

std::string_view ToString(ZoneModel m);       // "NONE", "HM", "HA"
std::string_view ToString(ZoneType t);        // "CONVENTIONAL", "SEQ_WRITE_REQUIRED", ...
std::string_view ToString(ZoneCondition c);   // "NOT_WP", "EMPTY", "IMP_OPEN", ...
std::string_view ToString(ZoneOp op);         // "open", "close", "finish", "reset"

// True for conditions that hold an open resource.
constexpr bool IsOpen(ZoneCondition c) {
  return c == ZoneCondition::kImplicitOpen || c == ZoneCondition::kExplicitOpen;
}
// True for conditions that hold an active resource (open or closed).
constexpr bool IsActive(ZoneCondition c) { return IsOpen(c) || c == ZoneCondition::kClosed; }

}  // namespace zbl
