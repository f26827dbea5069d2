#include "zbl/driver.h"

#include <algorithm>
#include <deque>

namespace zbl {
namespace {

Status NotSupported(const Node& n, std::string_view what) {
  return Error(ENOTSUP, "driver '{}' does not support {}", n.driver_name(), what);
}

// Runs each request synchronously at Submit and completes it at Reap: the async contract
// holds for every driver, without overlap.
class SyncQueue final : public IoQueue {
 public:
  SyncQueue(Node& node, unsigned depth) : node_(node), depth_(depth) {}

  Status Submit(IoRequest* req) override {
    if (pending_.size() >= depth_) return Error(EAGAIN, "queue full ({} requests)", depth_);
    Status st;
    switch (req->op) {
      case IoRequest::Op::kRead: st = node_.Read(req->offset, req->buf, req->len); break;
      case IoRequest::Op::kWrite: st = node_.Write(req->offset, req->buf, req->len); break;
      case IoRequest::Op::kFlush: st = node_.Flush(); break;
      case IoRequest::Op::kAppend: {
        auto r = node_.ZoneAppend(req->offset, req->buf, req->len);
        if (r.ok()) req->result_offset = *r;
        st = r.status();
        break;
      }
    }
    req->error = st.code();
    pending_.push_back(req);
    return Status::Ok();
  }

  Result<unsigned> Reap(unsigned min) override {
    (void)min;  // everything submitted is already complete
    unsigned n = 0;
    while (!pending_.empty()) {
      IoRequest* r = pending_.front();
      pending_.pop_front();
      ++n;
      if (r->done) r->done(r);
    }
    return n;
  }

  unsigned inflight() const override { return static_cast<unsigned>(pending_.size()); }
  unsigned depth() const override { return depth_; }

 private:
  Node& node_;
  unsigned depth_;
  std::deque<IoRequest*> pending_;
};

}  // namespace

// A filter's queue: the child's, with Admit() run at submission. A refused request completes
// from the next Reap with the refusal's errno, never reaching the child.
class FilterQueue final : public IoQueue {
 public:
  FilterQueue(FilterNode& f, std::unique_ptr<IoQueue> inner) : f_(f), inner_(std::move(inner)) {}

  Status Submit(IoRequest* req) override {
    if (inflight() >= inner_->depth())
      return Error(EAGAIN, "queue full ({} requests)", inner_->depth());
    const Limits& l = f_.limits();
    Status st;
    switch (req->op) {
      case IoRequest::Op::kRead: st = f_.Admit(FilterOp::kRead, req->offset, req->len); break;
      case IoRequest::Op::kWrite: st = f_.Admit(FilterOp::kWrite, req->offset, req->len); break;
      case IoRequest::Op::kFlush: st = f_.Admit(FilterOp::kFlush, 0, l.size); break;
      case IoRequest::Op::kAppend:
        st = f_.Admit(FilterOp::kAppend, req->offset, std::max<uint64_t>(l.zone_size, 1));
        break;
    }
    if (st.ok()) return inner_->Submit(req);
    req->error = st.code();
    refused_.push_back(req);
    return Status::Ok();
  }

  Result<unsigned> Reap(unsigned min) override {
    unsigned n = 0;
    while (!refused_.empty()) {
      IoRequest* r = refused_.front();
      refused_.pop_front();
      ++n;
      if (r->done) r->done(r);
    }
    if (inner_->inflight() == 0 && n > 0) return n;
    auto more = inner_->Reap(min > n ? min - n : 0);
    if (!more.ok()) return n > 0 ? Result<unsigned>(n) : more;
    return n + *more;
  }

  unsigned inflight() const override {
    return inner_->inflight() + static_cast<unsigned>(refused_.size());
  }
  unsigned depth() const override { return inner_->depth(); }

 private:
  FilterNode& f_;
  std::unique_ptr<IoQueue> inner_;
  std::deque<IoRequest*> refused_;
};

namespace {
constexpr Cap kAllCaps[] = {Cap::kDiscard,    Cap::kResize,      Cap::kNativeQueue,
                            Cap::kKeepsData,  Cap::kZoneAppend,  Cap::kPersistent};
constexpr std::string_view kFilterOpNames[] = {
    "read", "write", "append", "flush", "report", "open", "close", "finish", "reset",
    "reset-all", "discard", "truncate"};
}  // namespace

std::span<const Cap> AllCaps() { return kAllCaps; }

std::string_view CapName(Cap c) {
  switch (c) {
    case Cap::kDiscard: return "discard";
    case Cap::kResize: return "resize";
    case Cap::kNativeQueue: return "native-queue";
    case Cap::kKeepsData: return "keeps-data";
    case Cap::kZoneAppend: return "zone-append";
    case Cap::kPersistent: return "persistent";
  }
  return "?";
}

std::string Capabilities::ToString() const {
  std::string s;
  for (Cap c : kAllCaps)
    if (Has(c)) s += (s.empty() ? "" : ", ") + std::string(CapName(c));
  return s.empty() ? "none" : s;
}

std::string_view ToString(FilterOp op) { return kFilterOpNames[static_cast<size_t>(op)]; }

Status Node::Flush() { return Status::Ok(); }

Result<size_t> Node::ReportZones(uint64_t, std::span<Zone>) {
  return NotSupported(*this, "zone report");
}
Status Node::ZoneMgmt(ZoneOp op, uint64_t, uint64_t) {
  return NotSupported(*this, fmt::format("zone {}", ToString(op)));
}
Status Node::ZoneResetAll() { return NotSupported(*this, "zone reset-all"); }
Result<uint64_t> Node::ZoneAppend(uint64_t, const void*, size_t) {
  return NotSupported(*this, "zone append");
}

Status Node::Discard(uint64_t, uint64_t) { return NotSupported(*this, "discard"); }
Status Node::Truncate(uint64_t) { return NotSupported(*this, "resizing"); }

Status Node::RecomputeLimits() {
  auto limits = ComputeLimits();
  if (!limits.ok()) return limits.status();
  if (auto why = limits->Validate(); !why.empty())
    return Error(EINVAL, "driver '{}': invalid limits: {}", driver_name(), why);
  set_limits(*limits);
  return Status::Ok();
}

// ---- FilterNode: everything to the child, after Admit ----

Result<Limits> FilterNode::ComputeLimits() {
  return MergeLimits(Limits{}, child().limits(), LimitsMerge::kPassThrough);
}
Status FilterNode::Read(uint64_t offset, void* buf, size_t len) {
  ZBL_RETURN_IF_ERROR(Admit(FilterOp::kRead, offset, len));
  return child().Read(offset, buf, len);
}
Status FilterNode::Write(uint64_t offset, const void* buf, size_t len) {
  ZBL_RETURN_IF_ERROR(Admit(FilterOp::kWrite, offset, len));
  return child().Write(offset, buf, len);
}
Status FilterNode::Flush() {
  ZBL_RETURN_IF_ERROR(Admit(FilterOp::kFlush, 0, limits().size));
  return child().Flush();
}
Result<size_t> FilterNode::ReportZones(uint64_t offset, std::span<Zone> zones) {
  const uint64_t size = limits().size;
  ZBL_RETURN_IF_ERROR(Admit(FilterOp::kReport, offset, size - std::min(offset, size)));
  return child().ReportZones(offset, zones);
}
Status FilterNode::ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) {
  const auto fop = static_cast<FilterOp>(static_cast<int>(FilterOp::kZoneOpen) + static_cast<int>(op));
  ZBL_RETURN_IF_ERROR(Admit(fop, offset, len));
  return child().ZoneMgmt(op, offset, len);
}
Status FilterNode::ZoneResetAll() {
  ZBL_RETURN_IF_ERROR(Admit(FilterOp::kZoneResetAll, 0, limits().size));
  return child().ZoneResetAll();
}
Result<uint64_t> FilterNode::ZoneAppend(uint64_t zone_offset, const void* buf, size_t len) {
  ZBL_RETURN_IF_ERROR(Admit(FilterOp::kAppend, zone_offset, std::max<uint64_t>(limits().zone_size, 1)));
  return child().ZoneAppend(zone_offset, buf, len);
}
Status FilterNode::Discard(uint64_t offset, uint64_t len) {
  ZBL_RETURN_IF_ERROR(Admit(FilterOp::kDiscard, offset, len));
  return child().Discard(offset, len);
}
Status FilterNode::Truncate(uint64_t size) {
  ZBL_RETURN_IF_ERROR(Admit(FilterOp::kTruncate, 0, size));
  ZBL_RETURN_IF_ERROR(child().Truncate(size));
  return RecomputeLimits();
}
Result<std::unique_ptr<IoQueue>> FilterNode::CreateQueue(unsigned depth) {
  auto inner = child().CreateQueue(depth);
  if (!inner.ok()) return inner;
  return std::unique_ptr<IoQueue>(std::make_unique<FilterQueue>(*this, std::move(*inner)));
}
Capabilities FilterNode::capabilities() const { return child().capabilities(); }

Result<std::unique_ptr<IoQueue>> Node::CreateQueue(unsigned depth) {
  if (depth == 0) return Error(EINVAL, "queue depth must be at least 1");
  return std::unique_ptr<IoQueue>(std::make_unique<SyncQueue>(*this, depth));
}

Node* Node::child(std::string_view name) const {
  for (const auto& [n, c] : children_)
    if (n == name) return c.get();
  return nullptr;
}

const DriverSpec* FindDriver(std::string_view name) {
  for (const DriverSpec* d : BuiltinDrivers())
    if (d->name == name) return d;
  return nullptr;
}

const OptionSpec* FindOption(const DriverSpec& spec, std::string_view key) {
  for (const OptionSpec& o : spec.options)
    if (o.name == key) return &o;
  return nullptr;
}

std::string FormatDriverList() {
  std::string out;
  for (const DriverSpec* d : BuiltinDrivers()) {
    out += fmt::format("{}: {}\n", d->name, d->description);
    for (const OptionSpec& o : d->options) out += FormatOption(o) + "\n";
  }
  return out;
}

namespace {
// The framework's part of every open: each own key is declared, and its value has the declared
// type and range (the driver reads it through the same declaration).
Status CheckDeclared(const Options& options, const DriverSpec& spec) {
  for (const auto& [key, text] : options.values()) {
    if (key == "driver") continue;
    const OptionSpec* o = FindOption(spec, key);
    if (!o) {
      std::string known;
      for (const OptionSpec& k : spec.options)
        if (k.name.find('.') == std::string_view::npos)
          known += (known.empty() ? "" : ", ") + std::string(k.name);
      return Error(EINVAL, "{}: unknown option '{}' (driver '{}' takes: {})", options.context(),
                   key, spec.name, known.empty() ? "no options" : known);
    }
    ZBL_RETURN_IF_ERROR(CheckOptionValue(*o, text, options.context()));
  }
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<Node>> OpenContext::OpenChild(std::string_view name, bool required,
                                                     OpenFlags add) {
  Options* child = options_.Child(name);
  if (!child) {
    if (required)
      return Error(EINVAL, "{}: missing child '{}' (give {}.driver=...)", options_.context(), name,
                   name);
    return std::unique_ptr<Node>();
  }
  child->set_context(fmt::format("{} child '{}'", options_.context(), name));
  OpenFlags flags = flags_;
  flags.create = flags.create || add.create;
  auto node = OpenNode(*child, flags);
  if (!node.ok()) return node.status();
  return node;
}

Result<std::unique_ptr<Node>> OpenNode(Options& options, OpenFlags flags) {
  const std::string where = options.context().empty() ? std::string("option string")
                                                      : options.context();
  auto driver_name = options.GetString("driver", "");
  if (driver_name->empty()) return Error(EINVAL, "{}: missing 'driver='", where);
  const DriverSpec* spec = FindDriver(*driver_name);
  if (!spec) {
    std::string known;
    for (const DriverSpec* d : BuiltinDrivers()) known += (known.empty() ? "" : ", ") + std::string(d->name);
    return Error(EINVAL, "unknown driver '{}' (known: {})", *driver_name, known);
  }
  // Messages name the driver (and the child path, for children).
  options.set_context(options.context().empty()
                          ? fmt::format("driver '{}'", spec->name)
                          : fmt::format("driver '{}' ({})", spec->name, options.context()));
  ZBL_RETURN_IF_ERROR(CheckDeclared(options, *spec));
  OpenContext ctx(options, flags);
  auto node = spec->open(ctx);
  if (!node.ok()) return node.status();
  ZBL_RETURN_IF_ERROR(options.CheckAllUsed());
  // A subtree nobody opened is an unknown option too.
  for (const auto& name : options.ChildNames()) {
    if (!(*node)->child(name) && !options.ChildUsed(name))
      return Error(EINVAL, "{}: unknown option '{}.*' (driver takes no child '{}')",
                   options.context(), name, name);
  }
  (*node)->set_options_string(options.ToString());
  auto limits = (*node)->ComputeLimits();
  if (!limits.ok()) return limits.status().Annotate(options.context());
  if (auto why = limits->Validate(); !why.empty())
    return Error(EINVAL, "{}: invalid limits: {}", options.context(), why);
  (*node)->set_limits(*limits);
  return node;
}

Status RefreshLimits(Node& node) {
  for (const auto& [name, child] : node.children()) ZBL_RETURN_IF_ERROR(RefreshLimits(*child));
  auto limits = node.ComputeLimits();
  if (!limits.ok()) return limits.status();
  if (auto why = limits->Validate(); !why.empty())
    return Error(EINVAL, "driver '{}': invalid limits: {}", node.driver_name(), why);
  node.set_limits(*limits);
  return Status::Ok();
}

}  // namespace zbl
