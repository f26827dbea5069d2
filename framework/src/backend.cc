#include "zbl/backend.h"
#include "zbl/format.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "zbl/driver.h"

namespace zbl {

// Per-thread shards so that threads appending to different zones do not share a cache line.
struct Backend::Counters {
  struct alignas(64) Shard {
    std::atomic<uint64_t> reads{0}, writes{0}, appends{0}, flushes{0}, reports{0}, zone_ops{0};
    std::atomic<uint64_t> bytes_read{0}, bytes_written{0}, errors{0};
  };
  static constexpr size_t kShards = 16;
  std::array<Shard, kShards> shards;

  Shard& mine() {
    static std::atomic<size_t> next{0};
    thread_local size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kShards;
    return shards[slot];
  }
};

// The conventional zones as sorted, disjoint ranges of zone indexes [first, last], read once
// from the root's zone report (a zone's type never changes). A report that fails leaves the
// set unknown and the appends to the device to judge.
struct Backend::ConventionalZones {
  std::once_flag once;
  bool known = false;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;

  void Load(Node& root, const Limits& l) {
    std::vector<Zone> zones(std::min<uint64_t>(l.nr_zones, 4096));
    for (uint64_t next = 0; next < l.nr_zones;) {
      auto n = root.ReportZones(next * l.zone_size, zones);
      if (!n.ok() || *n == 0) return;
      for (size_t i = 0; i < *n; ++i) {
        if (zones[i].type != ZoneType::kConventional) continue;
        const uint64_t z = zones[i].start / l.zone_size;
        if (!ranges.empty() && ranges.back().second + 1 == z)
          ranges.back().second = z;
        else
          ranges.emplace_back(z, z);
      }
      next = zones[*n - 1].start / l.zone_size + 1;
    }
    known = true;
  }
  bool Contains(uint64_t z) const {
    auto it = std::upper_bound(ranges.begin(), ranges.end(), std::pair{z, UINT64_MAX});
    return it != ranges.begin() && std::prev(it)->second >= z;
  }
};

namespace {

// A relaxed fetch_add on the thread's own shard: exact under any number of threads, and the
// cache line is (nearly always) this thread's alone.
inline void Bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}

// Validates the I/O queue's requests with the backend's rules before the driver's queue sees them.
class CheckedQueue final : public IoQueue {
 public:
  CheckedQueue(const Backend& b, std::unique_ptr<IoQueue> inner) : b_(b), inner_(std::move(inner)) {}
  Status Submit(IoRequest* req) override {
    switch (req->op) {
      case IoRequest::Op::kRead: ZBL_RETURN_IF_ERROR(b_.CheckIo(req->offset, req->len, "read")); break;
      case IoRequest::Op::kWrite:
        ZBL_RETURN_IF_ERROR(b_.CheckIo(req->offset, req->len, "write"));
        break;
      case IoRequest::Op::kAppend: ZBL_RETURN_IF_ERROR(b_.CheckAppend(req->offset, req->len)); break;
      case IoRequest::Op::kFlush: break;
    }
    return inner_->Submit(req);
  }
  Result<unsigned> Reap(unsigned min) override { return inner_->Reap(min); }
  unsigned inflight() const override { return inner_->inflight(); }
  unsigned depth() const override { return inner_->depth(); }

 private:
  const Backend& b_;
  std::unique_ptr<IoQueue> inner_;
};


}  // namespace

Backend::Backend(std::unique_ptr<Node> root)
    : root_(std::move(root)),
      limits_(root_->limits()),
      counters_(std::make_unique<Counters>()),
      conventional_(std::make_unique<ConventionalZones>()) {
  option_string_ = root_->options_string();
}

Backend::~Backend() = default;

Result<std::unique_ptr<Backend>> Backend::Open(std::string_view option_string) {
  auto opts = Options::Parse(option_string);
  if (!opts.ok()) return opts.status();
  auto node = OpenNode(*opts);
  if (!node.ok()) return node.status();
  return FromNode(std::move(*node));
}

Result<std::unique_ptr<Backend>> Backend::FromNode(std::unique_ptr<Node> root) {
  if (!root) return Error(EINVAL, "no device");
  if (auto why = root->limits().Validate(); !why.empty())
    return Error(EINVAL, "driver '{}': invalid limits: {}", root->driver_name(), why);
  return std::unique_ptr<Backend>(new Backend(std::move(root)));
}

Status Backend::CheckIo(uint64_t offset, size_t len, std::string_view what) const {
  const uint64_t align = limits_.request_alignment;
  if (offset % align != 0)
    return Error(EINVAL, "{} offset {} is not aligned to the {}-byte block size", what, Hex(offset),
                 align);
  if (len % align != 0)
    return Error(EINVAL, "{} length {} is not a multiple of the {}-byte block size", what, Hex(len),
                 align);
  if (offset > limits_.size || len > limits_.size - offset)
    return Error(EINVAL, "{} of {} bytes at {} is beyond the end of the device ({})", what,
                 Hex(len), Hex(offset), Hex(limits_.size));
  return Status::Ok();
}

Status Backend::CheckZoneRange(uint64_t offset, uint64_t len, std::string_view what) const {
  if (!limits_.zoned()) return Error(ENOTSUP, "zone {} on a non-zoned device", what);
  if (offset % limits_.zone_size != 0)
    return Error(EINVAL, "zone {} offset {} is not a zone start (zone size {})", what, Hex(offset),
                 Hex(limits_.zone_size));
  if (len == 0) return Error(EINVAL, "zone {} length is 0", what);
  if (offset >= limits_.size || len > limits_.size - offset)
    return Error(EINVAL, "zone {} range {}+{} is beyond the end of the device ({})", what,
                 Hex(offset), Hex(len), Hex(limits_.size));
  if (len % limits_.zone_size != 0 && offset + len != limits_.size)
    return Error(EINVAL, "zone {} length {} is not a multiple of the zone size {}", what, Hex(len),
                 Hex(limits_.zone_size));
  return Status::Ok();
}

Status Backend::CheckAppend(uint64_t zone_offset, size_t len) const {
  if (!limits_.zoned()) return Error(ENOTSUP, "zone append on a non-zoned device");
  if (limits_.max_append_bytes == 0) return Error(ENOTSUP, "the device does not support zone append");
  if (zone_offset % limits_.zone_size != 0)
    return Error(EINVAL, "zone append offset {} is not a zone start (zone size {})", Hex(zone_offset),
                 Hex(limits_.zone_size));
  if (zone_offset >= limits_.size)
    return Error(EINVAL, "zone append offset {} is beyond the end of the device ({})",
                 Hex(zone_offset), Hex(limits_.size));
  if (len == 0) return Error(EINVAL, "zone append length is 0");
  if (len % limits_.request_alignment != 0)
    return Error(EINVAL, "zone append length {} is not a multiple of the {}-byte block size",
                 Hex(len), limits_.request_alignment);
  if (len > limits_.max_append_bytes)
    return Error(EINVAL, "zone append of {} bytes exceeds the device's maximum of {} bytes", len,
                 limits_.max_append_bytes);
  if (IsConventional(zone_offset / limits_.zone_size))
    return Error(EINVAL, "zone append to conventional zone {}: appends need a sequential zone",
                 zone_offset / limits_.zone_size);
  return Status::Ok();
}

bool Backend::IsConventional(uint64_t zone) const {
  std::call_once(conventional_->once, [this] { conventional_->Load(*root_, limits_); });
  return conventional_->known && conventional_->Contains(zone);
}

Status Backend::Read(uint64_t offset, void* buf, size_t len) {
  auto& c = counters_->mine();
  Status st = CheckIo(offset, len, "read");
  if (st.ok() && len != 0) st = root_->Read(offset, buf, len);
  Bump(c.reads);
  if (st.ok()) Bump(c.bytes_read, len); else Bump(c.errors);
  return st;
}

Status Backend::Write(uint64_t offset, const void* buf, size_t len) {
  auto& c = counters_->mine();
  Status st = CheckIo(offset, len, "write");
  if (st.ok() && len != 0) st = root_->Write(offset, buf, len);
  Bump(c.writes);
  if (st.ok()) Bump(c.bytes_written, len); else Bump(c.errors);
  return st;
}

Status Backend::Flush() {
  auto& c = counters_->mine();
  Status st = root_->Flush();
  Bump(c.flushes);
  if (!st.ok()) Bump(c.errors);
  return st;
}

Result<size_t> Backend::ReportZones(uint64_t offset, std::span<Zone> out) {
  auto& c = counters_->mine();
  Bump(c.reports);
  if (!limits_.zoned()) {
    Bump(c.errors);
    return Error(ENOTSUP, "zone report on a non-zoned device");
  }
  // As Linux: reporting from the end of the device or beyond gives no zones.
  if (offset >= limits_.size || out.empty()) return size_t{0};
  auto r = root_->ReportZones(offset, out);
  if (!r.ok()) Bump(c.errors);
  return r;
}

Result<std::vector<Zone>> Backend::ReportZones(uint64_t offset, uint32_t max_zones) {
  if (!limits_.zoned()) return ReportZones(offset, std::span<Zone>()).status();
  uint64_t first = offset / limits_.zone_size;
  uint64_t left = first < limits_.nr_zones ? limits_.nr_zones - first : 0;
  if (max_zones != 0 && max_zones < left) left = max_zones;
  std::vector<Zone> zones(left);
  auto n = ReportZones(offset, std::span<Zone>(zones));
  if (!n.ok()) return n.status();
  zones.resize(*n);
  return zones;
}

Status Backend::ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) {
  auto& c = counters_->mine();
  Bump(c.zone_ops);
  Status st = CheckZoneRange(offset, len, ToString(op));
  // QEMU's block layer refuses management of a range that starts in a conventional zone,
  // unless the range is the whole device, with EIO (file-posix.c raw_co_zone_mgmt), before a
  // device could answer otherwise (scsi_debug: EREMOTEIO for open/close; measured with qemu-io
  // 10 on Linux 6.12, ci/vm/errno-cells.sh conv_zone_ops).
  if (st.ok() && !(offset == 0 && len == limits_.size) && IsConventional(ZoneIndex(offset)))
    st = Error(EIO, "zone {} {}+{}: zone {} is conventional (zone management operations are not "
               "allowed for conventional zones)", ToString(op), Hex(offset), Hex(len),
               ZoneIndex(offset));
  if (st.ok()) {
    // A reset of the whole device is a reset-all, as Linux's blkdev_zone_mgmt does.
    if (op == ZoneOp::kReset && offset == 0 && len == limits_.size)
      st = root_->ZoneResetAll();
    else
      st = root_->ZoneMgmt(op, offset, len);
  }
  if (!st.ok()) Bump(c.errors);
  return st;
}

Status Backend::ZoneResetAll() {
  auto& c = counters_->mine();
  Bump(c.zone_ops);
  Status st = limits_.zoned() ? root_->ZoneResetAll()
                              : Error(ENOTSUP, "zone reset-all on a non-zoned device");
  if (!st.ok()) Bump(c.errors);
  return st;
}

Result<uint64_t> Backend::ZoneAppend(uint64_t zone_offset, const void* buf, size_t len) {
  auto& c = counters_->mine();
  Bump(c.appends);
  Status st = CheckAppend(zone_offset, len);
  if (!st.ok()) {
    Bump(c.errors);
    return st;
  }
  auto r = root_->ZoneAppend(zone_offset, buf, len);
  if (r.ok()) Bump(c.bytes_written, len); else Bump(c.errors);
  return r;
}

Result<std::unique_ptr<IoQueue>> Backend::CreateQueue(unsigned depth) {
  if (depth == 0) return Error(EINVAL, "queue depth must be at least 1");
  auto q = root_->CreateQueue(depth);
  if (!q.ok()) return q.status();
  return std::unique_ptr<IoQueue>(std::make_unique<CheckedQueue>(*this, std::move(*q)));
}

Capabilities Backend::capabilities() const { return root_->capabilities(); }

BackendStats Backend::stats() const {
  BackendStats s;
  for (const auto& sh : counters_->shards) {
    s.reads += sh.reads.load(std::memory_order_relaxed);
    s.writes += sh.writes.load(std::memory_order_relaxed);
    s.appends += sh.appends.load(std::memory_order_relaxed);
    s.flushes += sh.flushes.load(std::memory_order_relaxed);
    s.reports += sh.reports.load(std::memory_order_relaxed);
    s.zone_ops += sh.zone_ops.load(std::memory_order_relaxed);
    s.bytes_read += sh.bytes_read.load(std::memory_order_relaxed);
    s.bytes_written += sh.bytes_written.load(std::memory_order_relaxed);
    s.errors += sh.errors.load(std::memory_order_relaxed);
  }
  return s;
}

namespace {
void GraphInto(const Node& n, std::string& out) {
  out += n.driver_name();
  if (Node* f = n.file()) {
    out += " -> ";
    GraphInto(*f, out);
  }
}

void DescribeInto(const Node& n, int depth, std::string& out) {
  std::string indent(static_cast<size_t>(depth) * 2, ' ');
  out += fmt::format("{}node: {}\n", indent, n.driver_name());
  NodeInfo info;
  n.Describe(info);
  for (const auto& [k, v] : info.items) out += fmt::format("{}  {}: {}\n", indent, k, v);
  for (const auto& [name, child] : n.children()) {
    out += fmt::format("{}  child '{}':\n", indent, name);
    DescribeInto(*child, depth + 2, out);
  }
}
}  // namespace

std::string Backend::GraphString() const {
  std::string s;
  GraphInto(*root_, s);
  return s;
}

std::string Backend::Describe() const {
  const Limits& l = limits_;
  std::string out;
  out += fmt::format("driver graph: {}\n", GraphString());
  out += fmt::format("options: {}\n", option_string_);
  out += fmt::format("zoned model: {}\n", ToString(l.model));
  out += fmt::format("size: {} ({} bytes)\n", Hex(l.size), l.size);
  out += fmt::format("logical block size: {}\n", l.logical_block_size);
  out += fmt::format("request alignment: {}\n", l.request_alignment);
  out += fmt::format("max transfer: {}\n", l.max_transfer ? std::to_string(l.max_transfer) : "unlimited");
  out += fmt::format("capabilities: {}\n", capabilities().ToString());
  if (l.zoned()) {
    out += fmt::format("zone size: {} ({} bytes)\n", Hex(l.zone_size), l.zone_size);
    out += fmt::format("nr zones: {}\n", l.nr_zones);
    out += fmt::format("max open zones: {}\n", l.max_open_zones);
    out += fmt::format("max active zones: {}\n", l.max_active_zones);
    out += fmt::format("max append bytes: {}\n", l.max_append_bytes);
    out += fmt::format("write granularity: {}\n", l.write_granularity);
  }
  DescribeInto(*root_, 0, out);
  return out;
}

}  // namespace zbl
