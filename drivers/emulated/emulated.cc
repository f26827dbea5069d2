#include "emulated.h"

#include <fmt/format.h>

#include "persist.h"

namespace zbl::emulated {
namespace {

constexpr OptionSpec kOptions[] = {
    {"model", "hm", "zoned model: hm (host-managed), ha (host-aware) or none"},
    {"profile", "null_blk", "family whose rules the device follows: null_blk, zns or zbc"},
    {"size", "1G", "device size in bytes (k/M/G/T suffixes)"},
    {"zone-size", "64M", "zone size in bytes"},
    {"zone-capacity", "", "writable bytes per zone (default: zone-size)"},
    {"conventional-zones", "0", "number of conventional zones at the start of the device"},
    {"max-open-zones", "0", "open zone limit (0 = none)"},
    {"max-active-zones", "0", "active zone limit (0 = none)"},
    {"max-append-bytes", "1M", "largest zone append in bytes"},
    {"block-size", "4096", "logical block size: 512 or 4096"},
    {"read-only-zones", "", "zones to make read-only, e.g. 3:5-7 (fault injection)"},
    {"offline-zones", "", "zones to make offline, e.g. 4:9 (fault injection)"},
};

Result<std::unique_ptr<Node>> OpenEmulated(OpenContext& ctx) {
  Options& o = ctx.options();
  // Over a file child the image's header may supply the geometry: persist.cc parses.
  if (o.HasChild("file")) return OpenPersistent(ctx, kEmulatedDriver);
  auto cfg = ParseEngineConfig(o);
  if (!cfg.ok()) return cfg.status();
  auto engine = Engine::Create(*cfg);
  if (!engine.ok()) return engine.status().Annotate(o.context());
  return std::unique_ptr<Node>(std::make_unique<EngineNode>(kEmulatedDriver, std::move(*engine)));
}

}  // namespace

const DriverSpec kEmulatedDriver{
    .name = "emulated",
    .description = "userspace zoned device (HM/HA/NONE) in memory, with a family profile",
    .options = kOptions,
    .open = OpenEmulated,
};

Result<EngineConfig> ParseEngineConfig(const Options& o) {
  EngineConfig c;
  auto model = o.GetChoice("model", "hm", {"hm", "ha", "none"});
  if (!model.ok()) return model.status();
  c.model = *model == "hm" ? ZoneModel::kHostManaged
                           : *model == "ha" ? ZoneModel::kHostAware : ZoneModel::kNone;
  auto profile = o.GetChoice("profile", "null_blk", {"null_blk", "zns", "zbc"});
  if (!profile.ok()) return profile.status();
  c.profile = FindProfile(*profile);
#define ZBL_GET(var, getter, key, def)     \
  {                                        \
    auto v = o.getter(key, def);           \
    if (!v.ok()) return v.status();        \
    var = *v;                              \
  }
  ZBL_GET(c.size, GetSize, "size", uint64_t{1} << 30);
  ZBL_GET(c.zone_size, GetSize, "zone-size", uint64_t{64} << 20);
  ZBL_GET(c.zone_capacity, GetSize, "zone-capacity", 0);
  uint64_t n = 0;
  ZBL_GET(n, GetNumber, "conventional-zones", 0);
  if (n > UINT32_MAX) return Error(EINVAL, "{}: option 'conventional-zones': too large", o.context());
  c.conventional_zones = static_cast<uint32_t>(n);
  ZBL_GET(n, GetNumber, "max-open-zones", 0);
  if (n > UINT32_MAX) return Error(EINVAL, "{}: option 'max-open-zones': too large", o.context());
  c.max_open_zones = static_cast<uint32_t>(n);
  ZBL_GET(n, GetNumber, "max-active-zones", 0);
  if (n > UINT32_MAX) return Error(EINVAL, "{}: option 'max-active-zones': too large", o.context());
  c.max_active_zones = static_cast<uint32_t>(n);
  ZBL_GET(c.max_append_bytes, GetSize, "max-append-bytes", uint64_t{1} << 20);
  ZBL_GET(n, GetSize, "block-size", 4096);
  c.block_size = static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
#undef ZBL_GET
  auto ro = o.GetIndexList("read-only-zones");
  if (!ro.ok()) return ro.status();
  c.read_only_zones = *ro;
  auto off = o.GetIndexList("offline-zones");
  if (!off.ok()) return off.status();
  c.offline_zones = *off;
  if (c.model == ZoneModel::kNone) {
    // A flat device: zones are only the engine's internal chunks.
    if (c.zone_size > c.size) c.zone_size = c.size;
  }
  if (Status st = c.Validate(); !st.ok()) return st.Annotate(o.context());
  return c;
}

Result<Limits> EngineNode::ComputeLimits() { return engine_->limits(); }
Status EngineNode::Read(uint64_t offset, void* buf, size_t len) { return engine_->Read(offset, buf, len); }
Status EngineNode::Write(uint64_t offset, const void* buf, size_t len) {
  return engine_->Write(offset, buf, len);
}
Status EngineNode::Flush() { return engine_->Flush(); }
Result<size_t> EngineNode::ReportZones(uint64_t offset, std::span<Zone> zones) {
  return engine_->Report(offset, zones);
}
Status EngineNode::ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) {
  return engine_->ZoneMgmt(op, offset, len);
}
Status EngineNode::ZoneResetAll() { return engine_->ResetAll(); }
Result<uint64_t> EngineNode::ZoneAppend(uint64_t zone_offset, const void* buf, size_t len) {
  return engine_->Append(zone_offset, buf, len);
}

Capabilities EngineNode::capabilities() const {
  const EngineConfig& c = engine_->config();
  Capabilities caps;
  caps.Set(Cap::kKeepsData, c.store_data);
  caps.Set(Cap::kZoneAppend, c.model != ZoneModel::kNone && c.max_append_bytes > 0);
  return caps;
}

void EngineNode::DescribeZones(NodeInfo& info) const {
  const EngineConfig& c = engine_->config();
  info.Add("profile", std::string(c.profile->name));
  info.Add("model", std::string(ToString(c.model)));
  if (c.model != ZoneModel::kNone) {
    info.Add("zone capacity", fmt::format("{:#x}", c.zone_capacity ? c.zone_capacity : c.zone_size));
    info.Add("conventional zones", std::to_string(c.conventional_zones));
  }
}

void EngineNode::Describe(NodeInfo& info) const {
  const EngineConfig& c = engine_->config();
  DescribeZones(info);
  info.Add("data", c.store_data ? "memory (sparse)" : "discarded (reads return zeros)");
  info.Add("resident bytes", std::to_string(engine_->resident_bytes()));
}

}  // namespace zbl::emulated
