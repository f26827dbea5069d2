#include "zbl/driver.h"

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

Result<std::unique_ptr<Node>> OpenContext::OpenChild(std::string_view name, bool required) {
  Options* child = options_.Child(name);
  if (!child) {
    if (required)
      return Error(EINVAL, "{}: missing child '{}' (give {}.driver=...)", options_.context(), name,
                   name);
    return std::unique_ptr<Node>();
  }
  child->set_context(fmt::format("{} child '{}'", options_.context(), name));
  auto node = OpenNode(*child);
  if (!node.ok()) return node.status();
  return node;
}

Result<std::unique_ptr<Node>> OpenNode(Options& options) {
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
  OpenContext ctx(options);
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
