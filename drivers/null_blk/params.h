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
inline constexpr uint64_t kDefaultSizeMb = 250 * 1024;
inline constexpr uint32_t kDefaultBlockSize = 512;
inline constexpr uint64_t kDefaultZoneSizeMb = 256;
// g_zone_append_max_sectors = INT_MAX: "as large as the zone allows".
inline constexpr uint32_t kDefaultZoneAppendMaxSectors = 0x7fffffff;
// BLK_SAFE_MAX_SECTORS: the block layer's max_hw_sectors when a driver gives 0 (null_blk's
// default max_sectors), so a default null_blk shows max_hw_sectors_kb = 127.
inline constexpr uint32_t kSafeMaxSectors = 255;
// BLK_DEF_MAX_SECTORS_CAP: the block layer's max_sectors (split size) is at most this.
inline constexpr uint32_t kDefMaxSectorsCap = 2560;
// PAGE_SIZE on the platforms zbl runs on; null_blk accepts block sizes up to it.
inline constexpr uint32_t kPageSize = 4096;

struct Params {
  uint64_t size_mb = kDefaultSizeMb;
  uint32_t blocksize = kDefaultBlockSize;
  bool zoned = false;
  uint64_t zone_size_mb = kDefaultZoneSizeMb;
  uint64_t zone_capacity_mb = 0;  // 0 = zone size
  uint32_t zone_nr_conv = 0;
  uint32_t zone_max_open = 0;    // 0 = no limit
  uint32_t zone_max_active = 0;  // 0 = no limit
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
  uint32_t max_open = 0;
  uint32_t max_active = 0;
  uint64_t max_hw_bytes = 0;  // max_hw_sectors in bytes: largest request the device takes
  uint64_t max_io_bytes = 0;  // max_sectors in bytes: the block layer splits larger requests
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

// Reads null_blk's parameters from a node's options (only the device parameters, not
// backend/name/keep). Errors name the option.
Result<Params> ParseParams(const Options& opts);

// The kernel's checks and adjustments at power-on; EINVAL with the kernel's reason.
Result<Geometry> Resolve(const Params& p);

// The user twin's engine configuration for a resolved geometry.
Result<emulated::EngineConfig> ToEngineConfig(const Geometry& g);

}  // namespace zbl::null_blk
