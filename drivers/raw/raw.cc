#include "raw.h"
#include "zbl/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace zbl::raw {
namespace {

constexpr OptionSpec kOffset{"offset", OptionType::kSize, "0", "start of the window in the child",
                             "bytes"};
constexpr OptionSpec kSize{"size", OptionType::kSize, "",
                           "length of the window (default: the rest of the child)", "bytes"};
constexpr OptionSpec kOptions[] = {kOffset, kSize};


// The child's queue under a window: each request is shifted by the window's offset while in
// flight (its offset, done and user fields belong to the queue until it completes) and restored,
// with an append's result shifted back, before the caller's callback runs.
class WindowQueue final : public IoQueue {
 public:
  WindowQueue(std::unique_ptr<IoQueue> inner, uint64_t offset)
      : inner_(std::move(inner)), offset_(offset), slots_(inner_->depth()) {
    free_.reserve(slots_.size());
    for (size_t i = slots_.size(); i-- > 0;) {
      slots_[i].queue = this;
      free_.push_back(&slots_[i]);
    }
  }
  ~WindowQueue() override {
    // The caller's requests point at our slots until they complete.
    while (inner_->inflight() > 0) {
      if (!inner_->Reap(1).ok()) {
        break;
      }
    }
  }

  Status Submit(IoRequest* req) override {
    if (free_.empty()) {
      return Error(EAGAIN, "queue full ({} requests)", slots_.size());
    }
    Slot* s = free_.back();
    s->done = req->done;
    s->user = req->user;
    req->offset += offset_;
    req->done = Done;
    req->user = s;
    Status st = inner_->Submit(req);
    if (!st.ok()) {
      Restore(req, s);  // never completes: the caller gets its request back as it was
      return st;
    }
    free_.pop_back();
    return Status::Ok();
  }

  Result<unsigned> Reap(unsigned min) override { return inner_->Reap(min); }
  unsigned inflight() const override { return inner_->inflight(); }
  unsigned depth() const override { return inner_->depth(); }

 private:
  struct Slot {
    WindowQueue* queue = nullptr;
    void (*done)(IoRequest*) = nullptr;
    void* user = nullptr;
  };

  void Restore(IoRequest* req, Slot* s) const {
    req->offset -= offset_;
    req->done = s->done;
    req->user = s->user;
  }

  static void Done(IoRequest* req) {
    auto* s = static_cast<Slot*>(req->user);
    WindowQueue* q = s->queue;
    q->Restore(req, s);
    if (req->op == IoRequest::Op::kAppend && req->error == 0) {
      req->result_offset -= q->offset_;
    }
    q->free_.push_back(s);
    if (req->done) {
      req->done(req);
    }
  }

  std::unique_ptr<IoQueue> inner_;
  const uint64_t offset_;
  std::vector<Slot> slots_;
  std::vector<Slot*> free_;
};

// A filter that shifts requests by the window's offset; what it does not shift is FilterNode's.
class RawNode final : public FilterNode {
 public:
  RawNode(uint64_t offset, uint64_t size, bool whole)
      : FilterNode(kRawDriver), offset_(offset), size_(size), whole_(whole) {}

  Result<Limits> ComputeLimits() override {
    Limits own;
    own.size = size_;
    return MergeLimits(own, file()->limits(), LimitsMerge::kPassThrough);
  }
  Status Read(uint64_t offset, void* buf, size_t len) override {
    return file()->Read(offset + offset_, buf, len);
  }
  Status Write(uint64_t offset, const void* buf, size_t len) override {
    return file()->Write(offset + offset_, buf, len);
  }

  Result<size_t> ReportZones(uint64_t offset, std::span<Zone> zones) override {
    const Limits& l = limits();
    if (!l.zoned()) {
      return file()->ReportZones(offset + offset_, zones);
    }
    const uint64_t first = offset / l.zone_size;
    if (first >= l.nr_zones) {
      return size_t{0};
    }
    const size_t room = std::min<size_t>(zones.size(), l.nr_zones - first);
    auto n = file()->ReportZones(offset + offset_, zones.first(room));
    if (!n.ok()) {
      return n;
    }
    for (size_t i = 0; i < *n; ++i) {
      Zone& z = zones[i];
      z.start -= offset_;
      if (z.write_pointer != kInvalidWritePointer) {
        z.write_pointer -= offset_;
      }
    }
    return n;
  }

  Status ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) override {
    return file()->ZoneMgmt(op, offset + offset_, len);
  }

  Status ZoneResetAll() override {
    if (whole_) {
      return file()->ZoneResetAll();
    }
    // Only the window's zones: reset each sequential zone that holds data, as reset-all does.
    const Limits& l = limits();
    if (!l.zoned()) {
      return file()->ZoneResetAll();
    }
    std::vector<Zone> zones(l.nr_zones);
    auto n = ReportZones(0, zones);
    if (!n.ok()) {
      return n.status();
    }
    for (size_t i = 0; i < *n; ++i) {
      const Zone& z = zones[i];
      if (z.type == ZoneType::kConventional) {
        continue;
      }
      if (z.condition == ZoneCondition::kEmpty || z.condition == ZoneCondition::kReadOnly ||
          z.condition == ZoneCondition::kOffline) {
        continue;
      }
      ZBL_RETURN_IF_ERROR(file()->ZoneMgmt(ZoneOp::kReset, z.start + offset_, z.length));
    }
    return Status::Ok();
  }

  Result<uint64_t> ZoneAppend(uint64_t zone_offset, const void* buf, size_t len) override {
    auto r = file()->ZoneAppend(zone_offset + offset_, buf, len);
    if (!r.ok()) {
      return r;
    }
    return *r - offset_;
  }

  Status Discard(uint64_t offset, uint64_t len) override {
    return file()->Discard(offset + offset_, len);
  }

  // Only the whole child resizes (a window has a fixed size).
  Status Truncate(uint64_t size) override {
    if (!whole_) {
      return Error(ENOTSUP, "driver 'raw': a window ({} bytes at {}) cannot be resized", size_,
                   Hex(offset_));
    }
    ZBL_RETURN_IF_ERROR(file()->Truncate(size));
    size_ = file()->limits().size;
    return RecomputeLimits();
  }

  Capabilities capabilities() const override {
    return FilterNode::capabilities().With(Cap::kResize, whole_ && file()->Supports(Cap::kResize));
  }

  Result<std::unique_ptr<IoQueue>> CreateQueue(unsigned depth) override {
    auto inner = file()->CreateQueue(depth);
    if (!inner.ok() || offset_ == 0) {
      return inner;  // without a window the child's queue serves requests unchanged
    }
    return std::unique_ptr<IoQueue>(std::make_unique<WindowQueue>(std::move(*inner), offset_));
  }

  void Describe(NodeInfo& info) const override {
    info.Add("offset", fmt::format("{} ({} bytes)", Hex(offset_), offset_));
    info.Add("size", fmt::format("{} ({} bytes)", Hex(size_), size_));
  }

 private:
  const uint64_t offset_;
  uint64_t size_;  // changes only by Truncate (at open)
  const bool whole_;
};

Status CheckWindow(const Options& o, const Limits& c, uint64_t offset, uint64_t size) {
  // The whole of an empty child (a new image file) is an empty device, as in QEMU.
  if (offset == 0 && size == 0 && c.size == 0 && !o.Has("size")) {
    return Status::Ok();
  }
  if (offset > c.size) {
    return Error(EINVAL, "{}: offset {} is beyond the end of the child ({})", o.context(), offset,
                 c.size);
  }
  if (size > c.size - offset) {
    return Error(EINVAL, "{}: offset {} + size {} is beyond the end of the child ({})", o.context(),
                 offset, size, c.size);
  }
  if (size == 0) {
    return Error(EINVAL, "{}: the window is empty (size 0)", o.context());
  }
  const uint32_t align = std::max(c.logical_block_size, c.request_alignment);
  if (offset % align != 0 || size % align != 0) {
    return Error(EINVAL, "{}: offset {} and size {} must be multiples of the child's block size {}",
                 o.context(), offset, size, align);
  }
  if (!c.zoned()) {
    return Status::Ok();
  }
  if (offset % c.zone_size != 0) {
    return Error(EINVAL, "{}: offset {} is not zone-aligned (zone size {}) on a zoned child",
                 o.context(), offset, c.zone_size);
  }
  if (size % c.zone_size != 0 && offset + size != c.size) {
    return Error(EINVAL, "{}: size {} is not a multiple of the zone size {} on a zoned child",
                 o.context(), size, c.zone_size);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Node>> OpenRaw(OpenContext& ctx) {
  Options& o = ctx.options();
  auto offset = o.Get(kOffset);
  if (!offset.ok()) {
    return offset.status();
  }
  auto child = ctx.OpenChild("file", true);
  if (!child.ok()) {
    return child.status();
  }
  const Limits& c = (*child)->limits();
  const uint64_t rest = *offset <= c.size ? c.size - *offset : 0;
  auto size = o.Get(kSize, rest);
  if (!size.ok()) {
    return size.status();
  }
  ZBL_RETURN_IF_ERROR(CheckWindow(o, c, *offset, *size));
  const bool whole = *offset == 0 && *size == c.size;
  auto node = std::make_unique<RawNode>(*offset, *size, whole);
  node->AddChild("file", std::move(*child));
  return std::unique_ptr<Node>(std::move(node));
}

}  // namespace

const DriverSpec kRawDriver{
    .name = "raw",
    .description =
        "raw format over a file child: pass-through, with an optional offset/size window",
    .options = kOptions,
    .open = OpenRaw,
};

}  // namespace zbl::raw
