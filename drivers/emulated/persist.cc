#include "persist.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "emulated.h"
#include "persist_queue.h"
#include "zbl/buffer.h"
#include "zbl/format.h"

namespace zbl::emulated {
namespace {

using ZC = ZoneCondition;

constexpr char kMagic[8] = {'Z', 'B', 'L', 'E', 'M', 'U', '0', '1'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderBytes = 4096;
constexpr uint64_t kRecordBytes = 32;
constexpr uint64_t kMetaBlock = 4096;
constexpr uint64_t kDataAlign = uint64_t{1} << 20;
constexpr size_t kHeaderCrcAt = 128;

constexpr uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
    }
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

// CRC-32C; the all-zero record does not check (so never-written records read as invalid).
uint32_t Crc32c(const uint8_t* p, size_t n) {
  uint32_t c = ~0u;
  for (size_t i = 0; i < n; ++i) {
    c = kCrcTable[(c ^ p[i]) & 0xff] ^ (c >> 8);
  }
  return ~c;
}

void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}
void Put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}
uint32_t Get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= uint32_t{p[i]} << (8 * i);
  }
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= uint64_t{p[i]} << (8 * i);
  }
  return v;
}

std::string_view ModelKey(ZoneModel m) {
  return m == ZoneModel::kHostManaged ? "hm" : m == ZoneModel::kHostAware ? "ha" : "none";
}

// Memory for child I/O, aligned for O_DIRECT children.
using AlignedBuf = AlignedBuffer;
AlignedBuffer AllocAligned(uint64_t n) { return AlignedBuffer(n); }

struct Header {
  ZoneModel model = ZoneModel::kHostManaged;
  std::string profile;
  uint64_t size = 0, zone_size = 0, zone_capacity = 0, max_append = 0;
  uint32_t conventional_zones = 0, max_open = 0, max_active = 0, block_size = 0, nr_zones = 0;
  uint64_t meta_offset = 0, copy_bytes = 0, data_offset = 0;

  uint64_t image_bytes() const { return data_offset + size; }
};

Header FromConfig(const EngineConfig& c) {
  Header h;
  h.model = c.model;
  h.profile = std::string(c.profile->name);
  h.size = c.size;
  h.zone_size = c.zone_size;
  h.zone_capacity = c.zone_capacity;
  h.max_append = c.max_append_bytes;
  h.conventional_zones = c.conventional_zones;
  h.max_open = c.max_open_zones;
  h.max_active = c.max_active_zones;
  h.block_size = c.block_size;
  h.nr_zones = static_cast<uint32_t>((c.size + c.zone_size - 1) / c.zone_size);
  h.meta_offset = kHeaderBytes;
  h.copy_bytes = RoundUp(uint64_t{h.nr_zones} * kRecordBytes, kMetaBlock);
  h.data_offset = RoundUp(h.meta_offset + 2 * h.copy_bytes, kDataAlign);
  return h;
}

void EncodeHeader(const Header& h, uint8_t* b) {
  std::memset(b, 0, kHeaderBytes);
  std::memcpy(b, kMagic, sizeof kMagic);
  Put32(b + 8, kVersion);
  b[12] = static_cast<uint8_t>(h.model);
  const size_t plen = std::min<size_t>(h.profile.size(), 32);
  b[13] = static_cast<uint8_t>(plen);
  std::memcpy(b + 14, h.profile.data(), plen);
  Put64(b + 48, h.size);
  Put64(b + 56, h.zone_size);
  Put64(b + 64, h.zone_capacity);
  Put32(b + 72, h.conventional_zones);
  Put32(b + 76, h.max_open);
  Put32(b + 80, h.max_active);
  Put32(b + 84, h.block_size);
  Put64(b + 88, h.max_append);
  Put32(b + 96, h.nr_zones);
  Put64(b + 104, h.meta_offset);
  Put64(b + 112, h.copy_bytes);
  Put64(b + 120, h.data_offset);
  Put32(b + kHeaderCrcAt, Crc32c(b, kHeaderCrcAt));
}

Result<Header> DecodeHeader(const uint8_t* b, std::string_view image) {
  const uint32_t version = Get32(b + 8);
  if (version != kVersion) {
    return Error(EINVAL, "image {} has format version {}; this build reads version {}", image,
                 version, kVersion);
  }
  if (Get32(b + kHeaderCrcAt) != Crc32c(b, kHeaderCrcAt)) {
    return Error(EIO, "image {}: header checksum mismatch (corrupt image)", image);
  }
  Header h;
  h.model = static_cast<ZoneModel>(b[12]);
  h.profile.assign(reinterpret_cast<const char*>(b + 14), std::min<size_t>(b[13], 32));
  h.size = Get64(b + 48);
  h.zone_size = Get64(b + 56);
  h.zone_capacity = Get64(b + 64);
  h.conventional_zones = Get32(b + 72);
  h.max_open = Get32(b + 76);
  h.max_active = Get32(b + 80);
  h.block_size = Get32(b + 84);
  h.max_append = Get64(b + 88);
  h.nr_zones = Get32(b + 96);
  h.meta_offset = Get64(b + 104);
  h.copy_bytes = Get64(b + 112);
  h.data_offset = Get64(b + 120);
  if (h.model != ZoneModel::kNone && h.model != ZoneModel::kHostManaged &&
      h.model != ZoneModel::kHostAware) {
    return Error(EIO, "image {}: header has an unknown zoned model {}", image, b[12]);
  }
  if (!FindProfile(h.profile)) {
    return Error(EIO, "image {}: header names an unknown profile '{}'", image, h.profile);
  }
  return h;
}

struct Record {
  uint64_t seq = 0, wp = 0, data_end = 0;
  ZC cond = ZC::kEmpty;
};

void EncodeRecord(const Record& r, uint8_t* p) {
  Put64(p, r.seq);
  Put64(p + 8, r.wp);
  Put64(p + 16, r.data_end);
  p[24] = static_cast<uint8_t>(r.cond);
  p[25] = p[26] = p[27] = 0;
  Put32(p + 28, Crc32c(p, 28));
}

bool DecodeRecord(const uint8_t* p, Record* r) {
  if (Get32(p + 28) != Crc32c(p, 28)) {
    return false;
  }
  r->seq = Get64(p);
  r->wp = Get64(p + 8);
  r->data_end = Get64(p + 16);
  r->cond = static_cast<ZC>(p[24]);
  return r->seq != 0;
}

// ---- the backing: data and metadata in the child ----

class Backing final : public EngineBacking {
 public:
  Backing(Node& child, const Header& h, std::string image)
      : child_(child),
        h_(h),
        image_(std::move(image)),
        zm_(std::make_unique<ZoneMeta[]>(h.nr_zones)) {}

  Status Init() {
    meta_ = AllocAligned(2 * h_.copy_bytes);
    if (!meta_) {
      return Error(ENOMEM, "allocating {} bytes of zone metadata", 2 * h_.copy_bytes);
    }
    return Status::Ok();
  }

  // A new image: one valid record per zone, then the header (the commit point), each synced.
  Status Create(const Engine& e) {
    for (uint32_t z = 0; z < h_.nr_zones; ++z) {
      ZoneState st = e.GetZoneState(z);
      ZoneMeta& m = zm_[z];
      m.cond = IsFault(st.cond) ? ZC::kEmpty : st.cond;
      StageRecord(z);
    }
    blocks_.clear();
    ZBL_RETURN_IF_ERROR(child_.Write(h_.meta_offset, meta_.data(), 2 * h_.copy_bytes));
    ZBL_RETURN_IF_ERROR(child_.Flush());
    AlignedBuf hb = AllocAligned(kHeaderBytes);
    if (!hb) {
      return Error(ENOMEM, "allocating the image header");
    }
    EncodeHeader(h_, hb.data());
    ZBL_RETURN_IF_ERROR(child_.Write(0, hb.data(), kHeaderBytes));
    return child_.Flush();
  }

  // An existing image: the newest valid record of each zone into the engine.
  Status Load(Engine& e, const EngineConfig& cfg) {
    ZBL_RETURN_IF_ERROR(child_.Read(h_.meta_offset, meta_.data(), 2 * h_.copy_bytes));
    std::set<uint64_t> faulty(cfg.read_only_zones.begin(), cfg.read_only_zones.end());
    faulty.insert(cfg.offline_zones.begin(), cfg.offline_zones.end());
    for (uint32_t z = 0; z < h_.nr_zones; ++z) {
      Record a, b;
      const bool va = DecodeRecord(meta_.data() + z * kRecordBytes, &a);
      const bool vb = DecodeRecord(meta_.data() + h_.copy_bytes + z * kRecordBytes, &b);
      if (!va && !vb) {
        return Error(EIO, "image {}: both metadata records of zone {} are corrupt", image_, z);
      }
      const Record& r = !vb || (va && a.seq > b.seq) ? a : b;
      ZoneMeta& m = zm_[z];
      m.seq = r.seq;
      if (faulty.count(z) || r.cond == ZC::kNotWritePointer || IsFault(r.cond)) {
        SetMeta(m, e.GetZoneState(z));
        continue;
      }
      if (r.cond != ZC::kEmpty && !IsActive(r.cond) && r.cond != ZC::kFull) {
        return Error(EIO, "image {}: zone {} record has an invalid condition {:#x}", image_, z,
                     static_cast<unsigned>(r.cond));
      }
      ZBL_RETURN_IF_ERROR(e.RestoreZone(z, {r.cond, r.wp, r.data_end}).Annotate("image " + image_));
      const ZoneState now = e.GetZoneState(z);
      SetMeta(m, now);
      if (now.cond != r.cond) {
        m.dirty.store(true, std::memory_order_relaxed);
      }
    }
    return Status::Ok();
  }

  Status WriteData(uint64_t offset, const void* buf, size_t len) override {
    return child_.Write(h_.data_offset + offset, buf, len);
  }
  Status ReadData(uint64_t offset, void* buf, size_t len) override {
    return child_.Read(h_.data_offset + offset, buf, len);
  }

  void ZoneChanged(uint32_t zone, ZoneCondition cond, uint64_t wp, uint64_t data_end) override {
    ZoneMeta& m = zm_[zone];
    {
      std::lock_guard<std::mutex> lk(m.mu);
      m.cond = cond;
      m.wp = wp;
      m.data_end = data_end;
    }
    m.dirty.store(true, std::memory_order_release);
  }

  // The reset must be durable before the hole is punched and new data lands in the zone; an
  // error here fails the reset with the zone unchanged (the engine checks). Once the EMPTY
  // record is durable, the hole is only space given back: a child that cannot discard keeps
  // the old bytes (never read: the zone's data ends at 0), and a failed discard is counted
  // and shown by `info`, not a failed reset.
  Status DiscardZone(uint32_t zone, uint64_t offset, uint64_t len) override {
    {
      std::lock_guard<std::mutex> meta(meta_mu_);
      ZoneMeta& m = zm_[zone];
      const ZoneState before = GetMeta(m);
      const uint64_t before_seq = m.seq;
      const uint64_t at = ((before_seq + 1) & 1) * h_.copy_bytes + zone * kRecordBytes;
      uint8_t saved[kRecordBytes];
      std::memcpy(saved, meta_.data() + at, kRecordBytes);
      SetMeta(m, {ZC::kEmpty, 0, 0});
      StageRecord(zone);
      Status st = WriteStaged();
      if (st.ok()) {
        st = child_.Flush();
      }
      if (!st.ok()) {
        // The zone stays as it was: the next flush rewrites its record over the attempt, and a
        // block write for another zone cannot carry the unacknowledged EMPTY record.
        std::memcpy(meta_.data() + at, saved, kRecordBytes);
        m.seq = before_seq;
        SetMeta(m, before);
        m.dirty.store(true, std::memory_order_release);
        // No hole: the old record may still be the durable one.
        return st.Annotate(fmt::format("persisting the reset of zone {}", zone));
      }
    }
    if (!discard_) {
      return Status::Ok();
    }
    Status st = child_.Discard(h_.data_offset + offset, len);
    if (!st.ok()) {
      std::lock_guard<std::mutex> lk(discard_mu_);
      ++discard_failures_;
      discard_error_ = st.ToString();
    }
    return Status::Ok();
  }

  // What a reset does with the zone's data in the child, for `info`.
  std::string ResetNote() const {
    if (!discard_) {
      return fmt::format("data left in the image (the '{}' child cannot discard)",
                         child_.driver_name());
    }
    std::lock_guard<std::mutex> lk(discard_mu_);
    if (discard_failures_ == 0) {
      return fmt::format("the zone's data is discarded in the '{}' child (hole punched)",
                         child_.driver_name());
    }
    return fmt::format("discard in the '{}' child failed {} times (last: {}); data left in place",
                       child_.driver_name(), discard_failures_, discard_error_);
  }

  Status Flush() override {
    std::lock_guard<std::mutex> meta(meta_mu_);
    // Snapshot first, values included: each value was set after its data was written, so the
    // data sync below covers it. (A value read after the sync could describe data written
    // meanwhile and not yet synced; queued writes complete while a flush runs.)
    snap_.clear();
    for (uint32_t z = 0; z < h_.nr_zones; ++z) {
      if (zm_[z].dirty.load(std::memory_order_acquire) && zm_[z].dirty.exchange(false)) {
        snap_.emplace_back(z, GetMeta(zm_[z]));
      }
    }
    Status st = child_.Flush();
    if (st.ok() && !snap_.empty()) {
      for (const auto& [z, state] : snap_) {
        StageRecord(z, state);
      }
      st = WriteStaged();
      if (st.ok()) {
        st = child_.Flush();
      }
    }
    if (!st.ok()) {
      for (const auto& e : snap_) {
        zm_[e.first].dirty.store(true, std::memory_order_relaxed);
      }
    }
    if (st.ok()) {
      ++flushes_;
    }
    return st;
  }

  const Header& header() const { return h_; }
  uint64_t flushes() const { return flushes_; }

 private:
  struct alignas(64) ZoneMeta {
    std::mutex mu;
    ZC cond = ZC::kEmpty;
    uint64_t wp = 0, data_end = 0;
    uint64_t seq = 0;  // under meta_mu_
    std::atomic<bool> dirty{false};
  };

  static bool IsFault(ZC c) { return c == ZC::kReadOnly || c == ZC::kOffline; }
  static ZoneState GetMeta(ZoneMeta& m) {
    std::lock_guard<std::mutex> lk(m.mu);
    return {m.cond, m.wp, m.data_end};
  }
  static void SetMeta(ZoneMeta& m, const ZoneState& s) {
    std::lock_guard<std::mutex> lk(m.mu);
    m.cond = s.cond;
    m.wp = s.wp;
    m.data_end = s.data_end;
  }

  // Encodes zone z's current state as its next record (under meta_mu_ or before sharing).
  void StageRecord(uint32_t z) { StageRecord(z, GetMeta(zm_[z])); }
  void StageRecord(uint32_t z, const ZoneState& s) {
    ZoneMeta& m = zm_[z];
    Record r;
    r.cond = s.cond;
    r.wp = s.wp;
    r.data_end = s.data_end;
    r.seq = ++m.seq;
    const uint64_t at = (r.seq & 1) * h_.copy_bytes + z * kRecordBytes;
    EncodeRecord(r, meta_.data() + at);
    blocks_.push_back(at / kMetaBlock);
  }

  // Writes the staged metadata blocks, adjacent ones in one request.
  Status WriteStaged() {
    std::sort(blocks_.begin(), blocks_.end());
    blocks_.erase(std::unique(blocks_.begin(), blocks_.end()), blocks_.end());
    Status result;
    for (size_t i = 0; i < blocks_.size();) {
      size_t j = i + 1;
      while (j < blocks_.size() && blocks_[j] == blocks_[j - 1] + 1) {
        ++j;
      }
      const uint64_t off = blocks_[i] * kMetaBlock;
      Status st = child_.Write(h_.meta_offset + off, meta_.data() + off, (j - i) * kMetaBlock);
      if (!st.ok() && result.ok()) {
        result = std::move(st);
      }
      i = j;
    }
    blocks_.clear();
    return result;
  }

  Node& child_;
  const bool discard_ = child_.Supports(Cap::kDiscard);
  mutable std::mutex discard_mu_;
  uint64_t discard_failures_ = 0;  // under discard_mu_
  std::string discard_error_;      // under discard_mu_
  const Header h_;
  const std::string image_;
  std::unique_ptr<ZoneMeta[]> zm_;
  std::mutex meta_mu_;  // before any ZoneMeta::mu
  AlignedBuf meta_;     // both copies of the record arrays, as on disk
  std::vector<uint64_t> blocks_;
  std::vector<std::pair<uint32_t, ZoneState>> snap_;
  uint64_t flushes_ = 0;
};

// ---- the node ----

class PersistentNode final : public EngineNode {
 public:
  PersistentNode(const DriverSpec& spec, std::unique_ptr<Engine> engine,
                 std::unique_ptr<Backing> backing, bool created)
      : EngineNode(spec, std::move(engine)), backing_(std::move(backing)), created_(created) {}
  // A clean close persists every write pointer.
  ~PersistentNode() override {
    Status st = engine_->Flush();
    (void)st;
  }

  Result<Limits> ComputeLimits() override {
    return MergeLimits(engine_->limits(), file()->limits(), LimitsMerge::kOwnGeometry);
  }

  // Its own queue over the child's (persist_queue.h): zones' writes overlap.
  Result<std::unique_ptr<IoQueue>> CreateQueue(unsigned depth) override {
    return CreatePersistQueue(*this, *engine_, *file(), backing_->header().data_offset, depth);
  }

  // The engine's, with what the image keeps as the child keeps it.
  Capabilities capabilities() const override {
    const Capabilities child = file()->capabilities();
    return EngineNode::capabilities()
        .With(Cap::kKeepsData, child.Has(Cap::kKeepsData))
        .With(Cap::kPersistent, child.Has(Cap::kPersistent))
        .With(Cap::kNativeQueue, child.Has(Cap::kNativeQueue));  // its queue overlaps the child's
  }

  void Describe(NodeInfo& info) const override {
    const Header& h = backing_->header();
    DescribeZones(info);
    info.Add("data", fmt::format("persistent image ({}), data at {:#x}",
                                 created_ ? "created" : "reopened", h.data_offset));
    info.Add("metadata",
             fmt::format("2 copies of {} zone records at {:#x}", h.nr_zones, h.meta_offset));
    info.Add("zone reset", backing_->ResetNote());
    info.Add("image size", grow_note_);
    info.Add("queue", "own: writes to different zones in parallel through the child's queue, "
                      "ordered at the write pointer within a zone");
  }

  void set_grow_note(std::string s) { grow_note_ = std::move(s); }

 private:
  std::unique_ptr<Backing> backing_;
  const bool created_;
  std::string grow_note_;
};

constexpr std::string_view kGeometryKeys[] = {
    "model",          "profile",          "size",
    "zone-size",      "zone-capacity",    "conventional-zones",
    "max-open-zones", "max-active-zones", "max-append-bytes",
    "block-size"};

// The header's value of a geometry option, as option text and as shown in messages.
std::string HeaderValue(const Header& h, std::string_view key, bool human) {
  auto num = [&](uint64_t v) { return human ? SizeText(v) : std::to_string(v); };
  if (key == "model") {
    return std::string(ModelKey(h.model));
  }
  if (key == "profile") {
    return h.profile;
  }
  if (key == "size") {
    return num(h.size);
  }
  if (key == "zone-size") {
    return num(h.zone_size);
  }
  if (key == "zone-capacity") {
    return num(h.zone_capacity ? h.zone_capacity : h.zone_size);
  }
  if (key == "conventional-zones") {
    return std::to_string(h.conventional_zones);
  }
  if (key == "max-open-zones") {
    return std::to_string(h.max_open);
  }
  if (key == "max-active-zones") {
    return std::to_string(h.max_active);
  }
  if (key == "max-append-bytes") {
    return num(h.max_append);
  }
  return num(h.block_size);
}

// Options not given take the image's geometry; given ones must agree with it.
void FillFromHeader(Options& o, const Header& h, std::vector<std::string_view>* given) {
  for (std::string_view key : kGeometryKeys) {
    if (o.Has(key)) {
      given->push_back(key);
      continue;
    }
    if (key == "zone-capacity" && h.zone_capacity == 0) {
      continue;
    }
    o.Set(std::string(key), HeaderValue(h, key, false));
  }
}

Status CheckConflicts(const Header& image, const Header& opts,
                      const std::vector<std::string_view>& given, std::string_view name) {
  for (std::string_view key : given) {
    const std::string a = HeaderValue(image, key, true), b = HeaderValue(opts, key, true);
    if (a != b) {
      return Error(EINVAL, "image {} was created with {} {}, options say {}", name, key, a, b);
    }
  }
  return Status::Ok();
}

// Grows the child to the image's size when it can; says what happened, for `info`.
Result<std::string> EnsureSize(Node& child, uint64_t need, std::string_view name) {
  const uint64_t have = child.limits().size;
  if (have >= need) {
    return fmt::format("{} bytes needed, the '{}' child has {}", need, child.driver_name(), have);
  }
  if (!child.Supports(Cap::kResize)) {
    return Error(ENOSPC, "image {} needs {} bytes; the '{}' child has {} and cannot grow", name,
                 need, child.driver_name(), have);
  }
  ZBL_RETURN_IF_ERROR(child.Truncate(need));
  return fmt::format("grown from {} to {} bytes (the '{}' child resizes)", have, need,
                     child.driver_name());
}

bool AllZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t c) { return c == 0; });
}

}  // namespace

Result<std::unique_ptr<Node>> OpenPersistent(OpenContext& ctx, const DriverSpec& spec) {
  Options& o = ctx.options();
  // A missing image file is created (then initialised), as null_blk needs no setup either.
  auto child = ctx.OpenChild("file", true, OpenFlags{.create = true});
  if (!child.ok()) {
    return child.status();
  }
  Node& c = **child;
  const std::string where = c.filename();
  const std::string name = fmt::format("'{}'", where.empty() ? c.driver_name() : where);

  AlignedBuf hb = AllocAligned(kHeaderBytes);
  if (!hb) {
    return Error(ENOMEM, "allocating the image header");
  }
  ZBL_RETURN_IF_ERROR(c.Read(0, hb.data(), kHeaderBytes).Annotate("reading the image header"));
  const bool existing = std::memcmp(hb.data(), kMagic, sizeof kMagic) == 0;
  if (!existing && !AllZero(hb.data(), kHeaderBytes)) {
    return Error(EINVAL,
                 "{}: {} is not a zbl emulated image (no header) and not empty; "
                 "refusing to overwrite it",
                 o.context(), name);
  }
  Header image;
  std::vector<std::string_view> given;
  if (existing) {
    auto h = DecodeHeader(hb.data(), name);
    if (!h.ok()) {
      return h.status();
    }
    image = *h;
    FillFromHeader(o, image, &given);
  }
  auto cfg = ParseEngineConfig(o);
  if (!cfg.ok()) {
    return cfg.status();
  }
  const Header want = FromConfig(*cfg);
  if (existing) {
    ZBL_RETURN_IF_ERROR(CheckConflicts(image, want, given, name).Annotate(o.context()));
    if (image.nr_zones != want.nr_zones || image.data_offset != want.data_offset) {
      return Error(EIO, "{}: image {} header layout is inconsistent", o.context(), name);
    }
  }
  const uint32_t align = c.limits().request_alignment;
  if (cfg->block_size % align != 0 || kMetaBlock % align != 0) {
    return Error(EINVAL, "{}: block-size {} is not a multiple of the child's {}-byte alignment",
                 o.context(), cfg->block_size, align);
  }
  auto grown = EnsureSize(c, want.image_bytes(), name);
  if (!grown.ok()) {
    return grown.status().Annotate(o.context());
  }

  auto backing = std::make_unique<Backing>(c, want, name);
  ZBL_RETURN_IF_ERROR(backing->Init());
  auto engine = Engine::Create(*cfg, backing.get());
  if (!engine.ok()) {
    return engine.status().Annotate(o.context());
  }
  if (existing) {
    ZBL_RETURN_IF_ERROR(backing->Load(**engine, *cfg).Annotate(o.context()));
  } else {
    ZBL_RETURN_IF_ERROR(backing->Create(**engine).Annotate(o.context() + ": creating the image"));
  }
  auto node =
      std::make_unique<PersistentNode>(spec, std::move(*engine), std::move(backing), !existing);
  node->set_grow_note(std::move(*grown));
  node->AddChild("file", std::move(*child));
  return std::unique_ptr<Node>(std::move(node));
}

}  // namespace zbl::emulated
