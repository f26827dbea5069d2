// null_blk's parameters in null_blk's own names and units, and the device they make.
//
// `Params` holds what the user asked for (sizes in MB, block size in bytes, zone limits as
// counts), exactly what gets written to configfs. `Resolve` applies the checks and adjustments
// the Linux 6.12 module applies at power-on (null_validate_conf, null_init_zoned_dev and the
// block layer's limit validation), so the user twin ends up with the geometry the kernel would
// build, and refuses what the kernel would refuse.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emulated/engine.h"
#include "zbl/options.h"
#include "zbl/status.h"

namespace zbl::null_blk {

// The kernel module's defaults (module parameters gb=250, bs=512, zone_size=256, ...).
inline constexpr uint64_t kDefaultSizeMb = uint64_t{250} * 1024;
inline constexpr uint32_t kDefaultBlockSize = 512;
inline constexpr uint64_t kDefaultZoneSizeMb = 256;
// g_zone_append_max_sectors = INT_MAX: "as large as the zone allows".
inline constexpr uint32_t kDefaultZoneAppendMaxSectors = 0x7fffffff;
// BLK_SAFE_MAX_SECTORS: the block layer's max_hw_sectors when a driver gives 0 (null_blk's
// default max_sectors), so a default null_blk shows max_hw_sectors_kb = 127.
inline constexpr uint32_t kSafeMaxSectors = 255;
// BLK_DEF_MAX_SECTORS_CAP: the block layer's max_sectors (split size) is at most this.
inline constexpr uint32_t kDefMaxSectorsCap = 2560;
// BLK_ZONE_WPLUG_DEFAULT_POOL_SIZE.
inline constexpr uint32_t kZoneWritePlugPool = 128;
// PAGE_SIZE on the platforms zbl runs on; null_blk accepts block sizes up to it.
inline constexpr uint32_t kPageSize = 4096;

struct Params {
  uint64_t size_mb = kDefaultSizeMb;
  uint32_t blocksize = kDefaultBlockSize;
  bool zoned = false;
  uint64_t zone_size_mb = kDefaultZoneSizeMb;
  uint64_t zone_capacity_mb = 0;  // 0 = zone size
  uint32_t zone_nr_conv = 0;
  uint32_t zone_max_open = 0;                                       // 0 = no limit
  uint32_t zone_max_active = 0;                                     // 0 = no limit
  uint32_t zone_append_max_sectors = kDefaultZoneAppendMaxSectors;  // 0 = emulated append
  uint32_t max_sectors = 0;  // 0 = the block layer's default (kSafeMaxSectors)
  bool memory_backed = false;
  bool zone_full = false;
  // Zone indexes, in the order given. null_blk's zone_readonly/zone_offline attributes toggle:
  // naming a zone twice gives it back (EMPTY).
  std::vector<uint64_t> zone_readonly;
  std::vector<uint64_t> zone_offline;
  // Parameters the user set explicitly (so a kernel without an attribute fails only when the
  // user asked for it).
  std::vector<std::string> given;

  bool Given(std::string_view key) const;
};

// The device null_blk builds from Params, in bytes, after its own adjustments.
struct Geometry {
  uint64_t size = 0;
  uint32_t block_size = 0;
  bool zoned = false;
  uint64_t zone_size = 0;
  uint64_t zone_capacity = 0;
  uint32_t nr_zones = 0;
  uint32_t nr_conv = 0;
  uint32_t max_open = 0;  // enforced by null_blk
  uint32_t max_active = 0;
  // max_open_zones as the kernel reports it: with zone write plugging (6.10+) a device without
  // open/active limits reports the write-plug pool size when it has more sequential zones than
  // that. Reported only; neither the kernel nor the twin enforces it.
  uint32_t reported_max_open = 0;
  uint64_t max_hw_bytes = 0;      // max_hw_sectors in bytes: largest request the device takes
  uint64_t max_io_bytes = 0;      // max_sectors in bytes: the block layer splits larger requests
  uint64_t max_append_bytes = 0;  // zone_append_max_bytes as the kernel reports it
  bool append_emulated = false;   // zone_append_max_sectors=0: the block layer emulates append
  bool store_data = false;
  bool zone_full = false;
  // Final read-only / offline zones (toggles applied; offline wins over read-only).
  std::vector<uint64_t> readonly_zones;
  std::vector<uint64_t> offline_zones;
  // What the kernel would print with pr_info when it changed a parameter.
  std::vector<std::string> notices;
};

// null_blk's device parameters, declared once (names and units are the kernel's; unsigned int
// attributes take at most UINT32_MAX, as kstrtouint).
namespace opt {
using T = OptionType;
inline constexpr uint64_t kU32 = UINT32_MAX;
inline constexpr OptionSpec kSize{"size", T::kNumber, "256000", "device size (null_blk: 250 GB)",
                                  "MB"};
inline constexpr OptionSpec kBlocksize{"blocksize", T::kNumber, "512",
                                       "logical block size: a power of two, 512..4096", "bytes", 0,
                                       kU32};
inline constexpr OptionSpec kZoned{"zoned", T::kBool, "0", "1: host-managed zoned device"};
inline constexpr OptionSpec kZoneSize{"zone_size", T::kNumber, "256", "zone size, a power of two",
                                      "MB"};
inline constexpr OptionSpec kZoneCapacity{"zone_capacity", T::kNumber, "0",
                                          "zone capacity (0 = zone size)", "MB"};
inline constexpr OptionSpec kZoneNrConv{"zone_nr_conv", T::kNumber, "0",
                                        "conventional zones at the start", "zones", 0, kU32};
inline constexpr OptionSpec kZoneMaxOpen{"zone_max_open", T::kNumber, "0",
                                         "open zone limit (0 = none)", "zones", 0, kU32};
inline constexpr OptionSpec kZoneMaxActive{"zone_max_active", T::kNumber, "0",
                                           "active zone limit (0 = none)", "zones", 0, kU32};
inline constexpr OptionSpec kZoneAppendMaxSectors{
    "zone_append_max_sectors", T::kNumber, "2147483647", "largest zone append (0 = emulated)",
    "512 B sectors", 0, kU32};
inline constexpr OptionSpec kMaxSectors{"max_sectors", T::kNumber, "0",
                                        "largest request (0 = block layer default, 255)",
                                        "512 B sectors", 0, kU32};
inline constexpr OptionSpec kMemoryBacked{"memory_backed", T::kBool, "0",
                                          "1: keep data in memory; 0: discard writes"};
inline constexpr OptionSpec kZoneFull{"zone_full", T::kBool, "0", "1: sequential zones start FULL"};
inline constexpr OptionSpec kZoneReadonly{"zone_readonly", T::kIndexList, "",
                                          "zones to make read-only, e.g. 3:5-7", "zone indexes"};
inline constexpr OptionSpec kZoneOffline{"zone_offline", T::kIndexList, "",
                                         "zones to make offline, e.g. 4:9", "zone indexes"};
}  // namespace opt

// Reads null_blk's parameters from a node's options (only the device parameters, not
// backend/name/keep). Errors name the option.
Result<Params> ParseParams(const Options& opts);

// The kernel's checks and adjustments at power-on; EINVAL with the kernel's reason.
Result<Geometry> Resolve(const Params& p);

// The user twin's engine configuration for a resolved geometry.
Result<emulated::EngineConfig> ToEngineConfig(const Geometry& g);

}  // namespace zbl::null_blk
