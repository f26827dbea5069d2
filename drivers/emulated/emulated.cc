#include "emulated.h"

#include <fmt/format.h>

#include "persist.h"

namespace zbl::emulated {
namespace {

using T = OptionType;
constexpr uint64_t kU32 = UINT32_MAX;
constexpr OptionSpec kModel{"model", T::kChoice, "hm", "zoned model", {}, 0, 0, "hm|ha|none"};
constexpr OptionSpec kProfile{"profile", T::kChoice, "null_blk",
                              "family whose rules the device follows", {}, 0, 0,
                              "null_blk|zns|zbc"};
constexpr OptionSpec kSize{"size", T::kSize, "1G", "device size", "bytes"};
constexpr OptionSpec kZoneSize{"zone-size", T::kSize, "64M", "zone size", "bytes"};
constexpr OptionSpec kZoneCapacity{"zone-capacity", T::kSize, "",
                                   "writable bytes per zone (default: zone-size)", "bytes"};
constexpr OptionSpec kConventional{"conventional-zones", T::kNumber, "0",
                                   "conventional zones at the start of the device", "zones", 0,
                                   kU32};
constexpr OptionSpec kMaxOpen{"max-open-zones", T::kNumber, "0", "open zone limit (0 = none)",
                              "zones", 0, kU32};
constexpr OptionSpec kMaxActive{"max-active-zones", T::kNumber, "0",
                                "active zone limit (0 = none)", "zones", 0, kU32};
constexpr OptionSpec kMaxAppend{"max-append-bytes", T::kSize, "1M", "largest zone append",
                                "bytes"};
constexpr OptionSpec kBlockSize{"block-size", T::kSize, "4096", "logical block size: 512 or 4096",
                                "bytes", 0, kU32};
constexpr OptionSpec kReadOnlyZones{"read-only-zones", T::kIndexList, "",
                                    "zones to make read-only, e.g. 3:5-7 (fault injection)"};
constexpr OptionSpec kOfflineZones{"offline-zones", T::kIndexList, "",
                                   "zones to make offline, e.g. 4:9 (fault injection)"};
constexpr OptionSpec kOptions[] = {kModel,      kProfile,   kSize,       kZoneSize,
                                   kZoneCapacity, kConventional, kMaxOpen, kMaxActive,
                                   kMaxAppend,  kBlockSize, kReadOnlyZones, kOfflineZones};

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
  auto model = o.GetText(kModel);
  if (!model.ok()) return model.status();
  c.model = *model == "hm" ? ZoneModel::kHostManaged
                           : *model == "ha" ? ZoneModel::kHostAware : ZoneModel::kNone;
  auto profile = o.GetText(kProfile);
  if (!profile.ok()) return profile.status();
  c.profile = FindProfile(*profile);
  // Each value through its declaration (default, range); kU32 ranges make the casts exact.
  for (auto [spec, out] : {std::pair{&kSize, &c.size}, std::pair{&kZoneSize, &c.zone_size},
                           std::pair{&kZoneCapacity, &c.zone_capacity},
                           std::pair{&kMaxAppend, &c.max_append_bytes}}) {
    auto v = o.Get(*spec);
    if (!v.ok()) return v.status();
    *out = *v;
  }
  for (auto [spec, out] :
       {std::pair{&kConventional, &c.conventional_zones}, std::pair{&kMaxOpen, &c.max_open_zones},
        std::pair{&kMaxActive, &c.max_active_zones}, std::pair{&kBlockSize, &c.block_size}}) {
    auto v = o.Get(*spec);
    if (!v.ok()) return v.status();
    *out = static_cast<uint32_t>(*v);
  }
  auto ro = o.GetList(kReadOnlyZones);
  if (!ro.ok()) return ro.status();
  c.read_only_zones = *ro;
  auto off = o.GetList(kOfflineZones);
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
