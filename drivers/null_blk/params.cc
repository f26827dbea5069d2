#include "params.h"

#include <algorithm>
#include <climits>
#include <set>
#include <type_traits>

#include <fmt/format.h>

namespace zbl::null_blk {
namespace {

constexpr uint64_t kMb = uint64_t{1} << 20;
constexpr uint32_t kSector = 512;

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

Status Invalid(const std::string& why) { return Status(EINVAL, why); }

// A parameter the user gave, through its declaration (range included), recorded as given.
template <typename V>
Status Take(const Options& o, const OptionSpec& spec, V* out, Params& p) {
  if (!o.Has(spec.name)) {
    return Status::Ok();
  }
  if constexpr (std::is_same_v<V, bool>) {
    auto v = o.GetFlag(spec);
    if (!v.ok()) {
      return v.status();
    }
    *out = *v;
  } else {
    auto v = o.Get(spec);
    if (!v.ok()) {
      return v.status();
    }
    *out = static_cast<V>(*v);  // the declared range fits V
  }
  p.given.emplace_back(spec.name);
  return Status::Ok();
}

// Writing a zone's sector to zone_readonly (zone_offline) toggles the condition: a zone named
// an odd number of times ends up in it.
std::set<uint64_t> Toggled(const std::vector<uint64_t>& zones) {
  std::set<uint64_t> s;
  for (uint64_t z : zones) {
    if (!s.erase(z)) {
      s.insert(z);
    }
  }
  return s;
}

// null_init_zoned_dev, step by step (drivers/block/null_blk/zoned.c, Linux 6.12).
Status ResolveZoned(const Params& p, Geometry& g) {
  // zone_size must be a power of two (MB); the kernel checks this in null_validate_conf too.
  if (!IsPowerOfTwo(p.zone_size_mb)) {
    return Invalid(fmt::format("zone_size must be power-of-two (zone_size={} MB)", p.zone_size_mb));
  }
  // A zone larger than the device is refused.
  if (p.zone_size_mb > p.size_mb) {
    return Invalid(
        fmt::format("Zone size larger than device capacity (zone_size={} MB, size={} MB)",
                    p.zone_size_mb, p.size_mb));
  }
  // zone_capacity 0 means "the zone size".
  const uint64_t cap_mb = p.zone_capacity_mb ? p.zone_capacity_mb : p.zone_size_mb;
  // Capacity above the zone size is refused.
  if (cap_mb > p.zone_size_mb) {
    return Invalid(
        fmt::format("zone capacity ({} MB) larger than zone size ({} MB)", cap_mb, p.zone_size_mb));
  }
  // A smaller last zone together with a capacity below the zone size is refused: no real
  // device looks like that.
  if (cap_mb != p.zone_size_mb && p.size_mb % p.zone_size_mb != 0) {
    return Invalid(
        fmt::format("A smaller last zone is not allowed with zone capacity smaller than zone size "
                    "(size={} MB is not a multiple of zone_size={} MB, zone_capacity={} MB)",
                    p.size_mb, p.zone_size_mb, cap_mb));
  }
  g.zone_size = p.zone_size_mb * kMb;
  g.zone_capacity = cap_mb * kMb;
  // nr_zones rounds up: the last zone may be smaller.
  const uint64_t nr = (p.size_mb + p.zone_size_mb - 1) / p.zone_size_mb;
  if (nr > UINT32_MAX) {
    return Invalid(fmt::format("too many zones ({})", nr));
  }
  g.nr_zones = static_cast<uint32_t>(nr);
  // At least one zone stays sequential: zone_nr_conv >= nr_zones becomes nr_zones - 1.
  g.nr_conv = p.zone_nr_conv;
  if (g.nr_conv >= g.nr_zones) {
    g.nr_conv = g.nr_zones - 1;
    g.notices.push_back(fmt::format("changed the number of conventional zones to {}", g.nr_conv));
  }
  const uint32_t nr_seq = g.nr_zones - g.nr_conv;
  // zone_append_max_sectors is aligned down to the block size and capped at the capacity.
  const uint64_t bs_sects = p.blocksize / kSector;
  const uint64_t cap_sects = g.zone_capacity / kSector;
  const uint64_t zams =
      std::min<uint64_t>(p.zone_append_max_sectors / bs_sects * bs_sects, cap_sects);
  // An active limit at or above the sequential zone count cannot be reached: disabled.
  g.max_active = p.zone_max_active;
  if (g.max_active >= nr_seq) {
    g.max_active = 0;
    g.notices.push_back("zone_max_active limit disabled, limit >= zone count");
  }
  // max_open may not exceed max_active: lowered to it. Otherwise an open limit at or above the
  // sequential zone count is disabled.
  g.max_open = p.zone_max_open;
  if (g.max_active && g.max_open > g.max_active) {
    g.max_open = g.max_active;
    g.notices.push_back(fmt::format("changed the maximum number of open zones to {}", g.max_open));
  } else if (g.max_open >= nr_seq) {
    g.max_open = 0;
    g.notices.push_back("zone_max_open limit disabled, limit >= zone count");
  }
  // disk_update_zone_resources: without open/active limits, max_open_zones shows the write
  // plug pool size when the device has more sequential zones than the pool.
  g.reported_max_open = g.max_open;
  if (!g.max_open && !g.max_active && nr_seq > kZoneWritePlugPool) {
    g.reported_max_open = kZoneWritePlugPool;
  }
  // The block layer (blk_validate_zoned_limits) caps append at max_hw_sectors and the zone
  // size. zone_append_max_sectors=0 asks the block layer to emulate append with writes, still
  // within one request.
  const uint64_t hw_sects = g.max_hw_bytes / kSector;
  const uint64_t zone_sects = g.zone_size / kSector;
  g.append_emulated = zams == 0;
  const uint64_t append_sects =
      g.append_emulated ? std::min(hw_sects, zone_sects) : std::min({hw_sects, zams, zone_sects});
  g.max_append_bytes = append_sects * kSector;
  // zone_readonly / zone_offline: sector out of range and conventional zones are refused
  // (zone_cond_store). A zone made offline after read-only ends offline.
  std::set<uint64_t> ro = Toggled(p.zone_readonly), off = Toggled(p.zone_offline);
  for (const auto* s : {&ro, &off}) {
    const char* what = s == &ro ? "zone_readonly" : "zone_offline";
    for (uint64_t z : *s) {
      if (z >= g.nr_zones) {
        return Invalid(fmt::format("{}: Sector out of range (zone {} of {})", what, z, g.nr_zones));
      }
      if (z < g.nr_conv) {
        return Invalid(
            fmt::format("{}: Can not change condition of conventional zones (zone {})", what, z));
      }
    }
  }
  for (uint64_t z : off) {
    ro.erase(z);
  }
  g.readonly_zones.assign(ro.begin(), ro.end());
  g.offline_zones.assign(off.begin(), off.end());
  g.zone_full = p.zone_full;
  return Status::Ok();
}

}  // namespace

bool Params::Given(std::string_view key) const {
  return std::find(given.begin(), given.end(), key) != given.end();
}

Result<Params> ParseParams(const Options& o) {
  Params p;
  ZBL_RETURN_IF_ERROR(Take(o, opt::kSize, &p.size_mb, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kBlocksize, &p.blocksize, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kZoned, &p.zoned, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kZoneSize, &p.zone_size_mb, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kZoneCapacity, &p.zone_capacity_mb, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kZoneNrConv, &p.zone_nr_conv, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kZoneMaxOpen, &p.zone_max_open, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kZoneMaxActive, &p.zone_max_active, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kZoneAppendMaxSectors, &p.zone_append_max_sectors, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kMaxSectors, &p.max_sectors, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kMemoryBacked, &p.memory_backed, p));
  ZBL_RETURN_IF_ERROR(Take(o, opt::kZoneFull, &p.zone_full, p));
  for (auto [spec, list] : {std::pair{&opt::kZoneReadonly, &p.zone_readonly},
                            std::pair{&opt::kZoneOffline, &p.zone_offline}}) {
    const std::string_view key = spec->name;
    if (!o.Has(key)) {
      continue;
    }
    auto v = o.GetList(*spec);
    if (!v.ok()) {
      return v.status();
    }
    *list = *v;
    p.given.emplace_back(key);
  }
  return p;
}

Result<Geometry> Resolve(const Params& p) {
  Geometry g;
  // null_validate_conf: blk_validate_block_size wants a power of two in [512, PAGE_SIZE].
  if (p.blocksize < 512 || p.blocksize > kPageSize || !IsPowerOfTwo(p.blocksize)) {
    return Invalid(
        fmt::format("blocksize {} must be a power of two between 512 and {} (the page size)",
                    p.blocksize, kPageSize));
  }
  // null_validate_conf: a zoned device needs a non-zero power-of-two zone size.
  if (p.zoned && !IsPowerOfTwo(p.zone_size_mb)) {
    return Invalid(fmt::format("zone_size must be power-of-two (zone_size={} MB)", p.zone_size_mb));
  }
  // blk_validate_limits: max_hw_sectors 0 becomes BLK_SAFE_MAX_SECTORS, less than a page is
  // refused, and it is rounded down to whole logical blocks.
  const uint32_t bs_sects = p.blocksize / kSector;
  uint64_t hw = p.max_sectors ? p.max_sectors : kSafeMaxSectors;
  if (hw < kPageSize / kSector) {
    return Invalid(
        fmt::format("max_sectors {} is below one page ({} sectors)", hw, kPageSize / kSector));
  }
  hw = hw / bs_sects * bs_sects;
  g.max_hw_bytes = hw * kSector;
  // max_sectors, the size the block layer splits requests at, is max_hw_sectors capped at
  // BLK_DEF_MAX_SECTORS_CAP.
  g.max_io_bytes = std::min<uint64_t>(hw, kDefMaxSectorsCap) * kSector;
  g.size = p.size_mb * kMb;
  g.block_size = p.blocksize;
  g.zoned = p.zoned;
  g.store_data = p.memory_backed;
  if (p.zoned) {
    ZBL_RETURN_IF_ERROR(ResolveZoned(p, g));
  } else if (!p.zone_readonly.empty() || !p.zone_offline.empty()) {
    // zone_cond_store refuses a device that is not zoned.
    return Invalid("zone_readonly/zone_offline: null_blk device is not zoned");
  }
  return g;
}

Result<emulated::EngineConfig> ToEngineConfig(const Geometry& g) {
  emulated::EngineConfig c;
  // The engine keeps whole logical blocks of 512 or 4096 bytes; null_blk also takes 1024 and
  // 2048, which the twin cannot model yet.
  if (g.block_size != 512 && g.block_size != 4096) {
    return Error(ENOTSUP,
                 "blocksize {} is valid for the kernel's null_blk, but the user twin supports only "
                 "512 and 4096 (use backend=kernel)",
                 g.block_size);
  }
  // The kernel makes an empty disk for size=0; the engine has no empty device.
  if (g.size == 0) {
    return Error(ENOTSUP, "size=0 (an empty disk) is not supported by the user twin");
  }
  c.profile = &emulated::NullBlkProfile();
  c.size = g.size;
  c.block_size = g.block_size;
  c.store_data = g.store_data;
  if (!g.zoned) {
    c.model = ZoneModel::kNone;
    c.zone_size = std::min<uint64_t>(g.size, uint64_t{256} << 20);  // internal chunk only
    return c;
  }
  c.model = ZoneModel::kHostManaged;
  c.zone_size = g.zone_size;
  c.zone_capacity = g.zone_capacity;
  c.conventional_zones = g.nr_conv;
  c.max_open_zones = g.max_open;
  c.max_active_zones = g.max_active;
  c.max_append_bytes = g.max_append_bytes;
  c.read_only_zones = g.readonly_zones;
  c.offline_zones = g.offline_zones;
  return c;
}

}  // namespace zbl::null_blk
