#include "null_blk.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "configfs.h"
#include "emulated/emulated.h"
#include "file/file.h"
#include "params.h"

namespace zbl::null_blk {
namespace {

constexpr OptionSpec kBackend{"backend", OptionType::kChoice, "auto",
                              "kernel (configfs null_blk), user (userspace twin) or auto", {}, 0,
                              0, "auto|kernel|user"};
constexpr OptionSpec kName{"name", OptionType::kString, "",
                           "configfs item name (default zbl<pid>_<n>)"};
constexpr OptionSpec kKeep{"keep", OptionType::kBool, "off",
                           "on: leave the kernel device in place on close"};
constexpr OptionSpec kLoad{"load", OptionType::kBool, "off",
                           "on: as root, modprobe null_blk and mount configfs when missing"};
constexpr OptionSpec kConfigfs{"configfs", OptionType::kString, kConfigfsRoot,
                               "null_blk's configfs directory (tests use a stand-in tree)"};
constexpr OptionSpec kDevdir{"devdir", OptionType::kString, "/dev",
                             "where the kernel device's node appears (tests)"};
constexpr OptionSpec kOptions[] = {
    opt::kSize,         opt::kBlocksize,     opt::kZoned,         opt::kZoneSize,
    opt::kZoneCapacity, opt::kZoneNrConv,    opt::kZoneMaxOpen,   opt::kZoneMaxActive,
    opt::kZoneAppendMaxSectors, opt::kMaxSectors, opt::kMemoryBacked, opt::kZoneFull,
    opt::kZoneReadonly, opt::kZoneOffline,   kBackend,            kName,
    kKeep,              kLoad,               kConfigfs,           kDevdir,
};

std::string DefaultName() {
  static std::atomic<unsigned> n{0};
  return fmt::format("zbl{}_{}", ::getpid(), n.fetch_add(1));
}

std::string ParamsText(const Params& p) {
  std::string s = fmt::format("size={}MB blocksize={} zoned={} memory_backed={}", p.size_mb,
                              p.blocksize, p.zoned ? 1 : 0, p.memory_backed ? 1 : 0);
  if (p.zoned) {
    s += fmt::format(
        " zone_size={}MB zone_capacity={}MB zone_nr_conv={} zone_max_open={} "
        "zone_max_active={}",
        p.zone_size_mb, p.zone_capacity_mb, p.zone_nr_conv, p.zone_max_open, p.zone_max_active);
  }
  return s;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (const auto& x : v) {
    s += (s.empty() ? "" : std::string(sep)) + x;
  }
  return s;
}

// max_transfer as host_device reads it from the kernel's disk: queue/max_sectors_kb (whole KiB)
// in whole logical blocks. The kernel splits at max_sectors; the twin's splits do too.
uint64_t ReportedMaxTransfer(const Geometry& g) {
  return g.max_io_bytes / 1024 * 1024 / g.block_size * g.block_size;
}

// The user twin: the emulated engine with null_blk's profile and the kernel's geometry.
class UserNode final : public emulated::EngineNode {
 public:
  UserNode(std::unique_ptr<emulated::Engine> e, Params p, Geometry g, std::string why)
      : EngineNode(kNullBlkDriver, std::move(e)),
        p_(std::move(p)),
        g_(std::move(g)),
        why_(std::move(why)) {}

  Result<Limits> ComputeLimits() override {
    Limits l = engine_->limits();
    l.max_open_zones = g_.reported_max_open;  // what Linux reports; the engine enforces max_open
    if (g_.zoned) {
      l.max_transfer = ReportedMaxTransfer(g_);
    }
    return l;
  }

  // What null_blk puts in a read buffer (measured on 6.12): memory_backed=0 completes reads
  // without touching the buffer; memory_backed=1 gives the data, zeros where nothing was
  // written below the write pointer, and 0xFF (nullb_fill_pattern) at and above it. Offline
  // zones fail either way. Write pointers are taken before the data, so a read racing a write
  // sees the zone as it was before the write.
  Status Read(uint64_t offset, void* buf, size_t len) override {
    if (!g_.zoned) {
      return g_.store_data ? engine_->Read(offset, buf, len) : Status::Ok();
    }
    if (len == 0) {
      return Status::Ok();
    }
    const uint64_t first = offset / g_.zone_size, last = (offset + len - 1) / g_.zone_size;
    std::vector<Zone> zones(last - first + 1);
    auto n = engine_->Report(first * g_.zone_size, zones);
    if (!n.ok()) {
      return n.status();
    }
    for (size_t i = 0; i < *n; ++i) {
      if (zones[i].condition == ZoneCondition::kOffline) {
        return Error(EIO, "read of {} bytes at {:#x}: zone {} is offline", len, offset, first + i);
      }
    }
    if (!g_.store_data) {
      return Status::Ok();
    }
    ZBL_RETURN_IF_ERROR(engine_->Read(offset, buf, len));
    auto* dst = static_cast<uint8_t*>(buf);
    for (size_t i = 0; i < *n; ++i) {
      const Zone& z = zones[i];
      if (z.type == ZoneType::kConventional || z.write_pointer == kInvalidWritePointer) {
        continue;
      }
      const uint64_t from = std::max(offset, z.write_pointer);
      const uint64_t to = std::min<uint64_t>(offset + len, z.start + z.length);
      if (from < to) {
        std::memset(dst + (from - offset), 0xFF, to - from);
      }
    }
    return Status::Ok();
  }

  // Linux splits a write into requests of at most max_sectors, and at zone boundaries, and
  // null_blk judges each on its own: a write running past a zone's capacity (or onto a bad
  // zone) fails with EIO after the fragments before the failing one were written. host_device
  // refuses such a write first, changing nothing (file::CheckSplitWrite), and so does the twin:
  // through zbl both answer alike. A write that passes the check and still fails (another
  // thread got to the zone first) is split as the kernel would. (The kernel's exact fragments
  // also depend on how the submitter built its bios; this is the single-bio split.)
  Status Write(uint64_t offset, const void* buf, size_t len) override {
    if (!g_.zoned || len <= g_.max_io_bytes) {
      return engine_->Write(offset, buf, len);
    }
    ZBL_RETURN_IF_ERROR(file::CheckSplitWrite(*this, limits(), offset, len));
    const auto* src = static_cast<const uint8_t*>(buf);
    // The request completes with the status of its last failing fragment, as the kernel's
    // chained bios do (measured in ci/vm: EOVERFLOW on the first fragment, EIO on later ones
    // completes as EIO).
    Status last;
    uint64_t done = 0;
    while (done < len) {
      const uint64_t pos = offset + done;
      const uint64_t zone_left = g_.zone_size - pos % g_.zone_size;
      const uint64_t n = std::min({g_.max_io_bytes, zone_left, uint64_t{len - done}});
      Status st = engine_->Write(pos, src + done, n);
      if (!st.ok()) {
        last = std::move(st);
      }
      done += n;
    }
    return last;
  }

  Capabilities capabilities() const override {
    return EngineNode::capabilities().With(Cap::kZoneAppend, g_.zoned && !g_.append_emulated);
  }

  void Describe(NodeInfo& info) const override {
    info.Add("backend", fmt::format("user ({})", why_));
    info.Add("null_blk parameters", ParamsText(p_));
    if (g_.zoned) {
      info.Add("zone append", g_.append_emulated ? "emulated by the block layer" : "native");
    }
    if (!g_.notices.empty()) {
      info.Add("kernel notices", Join(g_.notices, "; "));
    }
    EngineNode::Describe(info);
  }

 private:
  Params p_;
  Geometry g_;
  std::string why_;
};

// The kernel device: a filter over its disk, opened with driver=host_device (every entry point
// is FilterNode's).
class KernelNode final : public FilterNode {
 public:
  KernelNode(std::unique_ptr<ConfigfsItem> item, Params p, Geometry g, std::string why)
      : FilterNode(kNullBlkDriver),
        item_(std::move(item)),
        p_(std::move(p)),
        g_(std::move(g)),
        why_(std::move(why)) {}

  // The disk must be closed before the device is powered off and removed.
  ~KernelNode() override {
    CloseChildren();
    item_.reset();
  }

  // The disk's, and no data without memory_backed=1 (whatever configfs root the item is in).
  Capabilities capabilities() const override {
    const Capabilities c = FilterNode::capabilities();
    return c.With(Cap::kKeepsData, c.Has(Cap::kKeepsData) && g_.store_data);
  }

  void Describe(NodeInfo& info) const override {
    info.Add("backend", fmt::format("kernel ({})", why_));
    info.Add("configfs item", item_->path());
    info.Add("disk", item_->device_path());
    info.Add("null_blk parameters", ParamsText(p_));
    info.Add("user twin geometry", TwinCheck());
    info.Add("on close", keep_ ? "kept (keep=on)" : "powered off and removed");
  }

  void set_keep(bool k) {
    keep_ = k;
    if (k) {
      item_->Keep();
    }
  }

 private:
  // Where the kernel's device differs from what the twin would build: the first place to
  // look when a twin test fails.
  std::string TwinCheck() const {
    const Limits& l = limits();
    std::vector<std::string> diff;
    auto cmp = [&](const char* what, uint64_t kernel, uint64_t twin) {
      if (kernel != twin) {
        diff.push_back(fmt::format("{} kernel {} twin {}", what, kernel, twin));
      }
    };
    cmp("size", l.size, g_.size);
    cmp("logical block", l.logical_block_size, g_.block_size);
    if (g_.zoned) {
      cmp("zone size", l.zone_size, g_.zone_size);
      cmp("zones", l.nr_zones, g_.nr_zones);
      cmp("max open", l.max_open_zones, g_.reported_max_open);
      cmp("max active", l.max_active_zones, g_.max_active);
      cmp("max append", l.max_append_bytes, g_.max_append_bytes);
      cmp("max transfer", l.max_transfer, ReportedMaxTransfer(g_));
    }
    return diff.empty() ? "matches" : Join(diff, "; ");
  }

  std::unique_ptr<ConfigfsItem> item_;
  Params p_;
  Geometry g_;
  std::string why_;
  bool keep_ = false;
};

struct Choice {
  bool kernel;
  std::string why;
};

Result<Choice> ChooseBackend(const std::string& backend, const std::string& root, bool load) {
  if (backend == "user") {
    return Choice{false, "backend=user"};
  }
  if (load) {
    Status st = LoadNullBlk(root);
    if (!st.ok() && backend == "kernel") {
      return st;
    }
  }
  const std::string why_not = KernelUnavailableReason(root);
  const bool have_host_device = FindDriver("host_device") != nullptr;
  if (backend == "kernel") {
    if (!why_not.empty()) {
      return Status(ENODEV, "backend=kernel: " + why_not);
    }
    return Choice{true, "backend=kernel"};
  }
  if (!why_not.empty()) {
    return Choice{false, "backend=auto: " + why_not};
  }
  if (!have_host_device) {
    return Choice{false,
                  "backend=auto: the host_device driver is not built, so the kernel "
                  "device could not be opened"};
  }
  return Choice{true, fmt::format("backend=auto: {} is present and writable", root)};
}

Result<std::unique_ptr<Node>> OpenUser(const Options& o, Params p, Geometry g, std::string why) {
  auto cfg = ToEngineConfig(g);
  if (!cfg.ok()) {
    return cfg.status().Annotate(o.context());
  }
  auto engine = emulated::Engine::Create(*cfg);
  if (!engine.ok()) {
    return engine.status().Annotate(o.context());
  }
  if (g.zoned && g.zone_full) {
    // null_blk's zone_full: every sequential zone starts FULL with its write pointer at the
    // end of its capacity (read-only and offline zones are set afterwards and win).
    auto& e = **engine;
    for (uint32_t z = g.nr_conv; z < e.nr_zones(); ++z) {
      if (std::find(g.readonly_zones.begin(), g.readonly_zones.end(), z) !=
              g.readonly_zones.end() ||
          std::find(g.offline_zones.begin(), g.offline_zones.end(), z) != g.offline_zones.end()) {
        continue;
      }
      const uint64_t len = std::min<uint64_t>(g.zone_size, g.size - uint64_t{z} * g.zone_size);
      const uint64_t cap = std::min(g.zone_capacity, len);
      ZBL_RETURN_IF_ERROR(e.RestoreZone(z, {ZoneCondition::kFull, cap, 0}));
    }
  }
  return std::unique_ptr<Node>(
      std::make_unique<UserNode>(std::move(*engine), std::move(p), std::move(g), std::move(why)));
}

Result<std::unique_ptr<Node>> OpenKernel(const Options& o, Params p, Geometry g,
                                         const ConfigfsOptions& cfs, const std::string& name,
                                         bool keep, std::string why) {
  if (!FindDriver("host_device")) {
    return Error(ENOTSUP,
                 "{}: driver 'host_device' is not available in this build; the kernel backend "
                 "opens the null_blk disk through it (use backend=user meanwhile)",
                 o.context());
  }
  auto item = ConfigfsItem::Create(cfs, name, p);
  if (!item.ok()) {
    return item.status().Annotate(o.context());
  }
  // Direct I/O: through the page cache a zoned write reaches the device later (or as other
  // requests), so errors and write pointers would not be the device's.
  auto child_opts = Options::Parse("driver=host_device,cache.direct=on,filename=" +
                                   EscapeOptionValue((*item)->device_path()));
  if (!child_opts.ok()) {
    return child_opts.status();
  }
  child_opts->set_context(fmt::format("{} child 'file'", o.context()));
  auto child = OpenNode(*child_opts);
  // On failure the item goes out of scope here: powered off and removed.
  if (!child.ok()) {
    return child.status();
  }
  auto node =
      std::make_unique<KernelNode>(std::move(*item), std::move(p), std::move(g), std::move(why));
  node->AddChild("file", std::move(*child));
  node->set_keep(keep);
  return std::unique_ptr<Node>(std::move(node));
}

Result<std::unique_ptr<Node>> OpenNullBlk(OpenContext& ctx) {
  Options& o = ctx.options();
  auto params = ParseParams(o);
  if (!params.ok()) {
    return params.status();
  }
  auto backend = o.GetText(kBackend);
  if (!backend.ok()) {
    return backend.status();
  }
  auto name = o.GetText(kName);
  if (!name.ok()) {
    return name.status();
  }
  auto keep = o.GetFlag(kKeep);
  if (!keep.ok()) {
    return keep.status();
  }
  auto load = o.GetFlag(kLoad);
  if (!load.ok()) {
    return load.status();
  }
  ConfigfsOptions cfs;
  auto root = o.GetText(kConfigfs);
  if (!root.ok()) {
    return root.status();
  }
  cfs.root = *root;
  auto devdir = o.GetText(kDevdir);
  if (!devdir.ok()) {
    return devdir.status();
  }
  cfs.dev_dir = *devdir;
  if (o.HasChild("file")) {
    return Error(EINVAL, "{}: null_blk makes its own device; it takes no 'file' child",
                 o.context());
  }
  // A typo must not cost a kernel device made and removed again.
  ZBL_RETURN_IF_ERROR(o.CheckAllUsed());
  // The kernel's own checks first: a configuration null_blk would refuse is refused here with
  // its reason, before anything is made.
  auto geometry = Resolve(*params);
  if (!geometry.ok()) {
    return geometry.status().Annotate(o.context());
  }
  auto choice = ChooseBackend(*backend, cfs.root, *load);
  if (!choice.ok()) {
    return choice.status().Annotate(o.context());
  }
  if (!choice->kernel) {
    return OpenUser(o, std::move(*params), std::move(*geometry), choice->why);
  }
  return OpenKernel(o, std::move(*params), std::move(*geometry), cfs,
                    name->empty() ? DefaultName() : *name, *keep, choice->why);
}

}  // namespace

const DriverSpec kNullBlkDriver{
    .name = "null_blk",
    .description = "Linux null_blk: the kernel device via configfs, or its userspace twin",
    .options = kOptions,
    .open = OpenNullBlk,
};

}  // namespace zbl::null_blk
