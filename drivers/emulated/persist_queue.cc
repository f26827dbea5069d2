#include "persist_queue.h"

#include <fmt/format.h>

#include <vector>

namespace zbl::emulated {
namespace {

class PersistQueue final : public IoQueue {
 public:
  PersistQueue(Node& device, Engine& engine, std::unique_ptr<IoQueue> child, uint64_t data_offset,
               unsigned depth)
      : device_(device),
        engine_(engine),
        child_(std::move(child)),
        data_offset_(data_offset),
        depth_(depth),
        slots_(depth) {
    free_.reserve(depth);
    for (unsigned i = depth; i-- > 0;) {
      slots_[i].queue = this;
      free_.push_back(&slots_[i]);
    }
    local_.reserve(depth);
  }

  // Requests in flight hold the caller's buffers (and the engine counts them): wait for them.
  ~PersistQueue() override {
    while (inflight_ > 0) {
      auto r = Reap(1);
      if (!r.ok() || *r == 0) {
        break;
      }
    }
  }

  Status Submit(IoRequest* req) override {
    if (inflight_ >= depth_) {
      return Error(EAGAIN, "queue full ({} requests)", depth_);
    }
    const bool append = req->op == IoRequest::Op::kAppend;
    const bool write = append || req->op == IoRequest::Op::kWrite;
    if (!write || !engine_.Queueable(req->offset, req->len)) {
      RunNow(req);
      return Status::Ok();
    }
    auto t = engine_.BeginWrite(req->offset, req->len, append);
    if (!t.ok()) {  // refused as the device refuses it: completes with its errno
      req->error = t.status().code();
      Local(req);
      return Status::Ok();
    }
    Slot* s = free_.back();
    free_.pop_back();
    s->parent = req;
    s->ticket = *t;
    s->child = IoRequest{};
    s->child.op = IoRequest::Op::kWrite;
    s->child.offset = data_offset_ + t->offset;
    s->child.buf = req->buf;
    s->child.len = req->len;
    s->child.done = &PersistQueue::ChildDone;
    s->child.user = s;
    ++inflight_;
    if (Status st = child_->Submit(&s->child); !st.ok()) {
      // The child never completes it: finish it here, as a failed data write.
      Finish(s, st);
    }
    return Status::Ok();
  }

  Result<unsigned> Reap(unsigned min) override {
    unsigned done = DrainLocal();
    if (min > done + inflight_) {
      min = done + inflight_;
    }
    // Always give the child a turn: its ring takes the entries filled since the last Reap.
    for (bool first = true; first || done < min; first = false) {
      const unsigned below = child_->inflight();
      if (below == 0) {
        const unsigned n = DrainLocal();
        if (n == 0) {
          break;
        }
        done += n;
        continue;
      }
      const unsigned want = done < min ? std::min(min - done, below) : 0;
      auto r = child_->Reap(want);
      if (!r.ok()) {
        return r.status();
      }
      done += *r + DrainLocal();
    }
    return done;
  }

  unsigned inflight() const override { return inflight_; }
  unsigned depth() const override { return depth_; }

 private:
  struct Slot {
    PersistQueue* queue = nullptr;
    IoRequest* parent = nullptr;
    WriteTicket ticket;
    IoRequest child;
  };

  static void ChildDone(IoRequest* c) {
    auto* s = static_cast<Slot*>(c->user);
    s->queue->Finish(s, c->error ? Error(c->error, "writing zone data at image offset {:#x}",
                                         c->offset)
                                 : Status::Ok());
  }

  void Finish(Slot* s, Status data) {
    IoRequest* r = s->parent;
    Status st = engine_.EndWrite(s->ticket, std::move(data));
    r->error = st.code();
    if (r->op == IoRequest::Op::kAppend && st.ok()) {
      r->result_offset = s->ticket.offset;
    }
    s->parent = nullptr;
    free_.push_back(s);
    --inflight_;
    if (r->done) {
      r->done(r);
    }
  }

  // Through the node's synchronous calls; completes from the next Reap.
  void RunNow(IoRequest* req) {
    Status st;
    switch (req->op) {
      case IoRequest::Op::kRead:
        st = device_.Read(req->offset, req->buf, req->len);
        break;
      case IoRequest::Op::kWrite:
        st = device_.Write(req->offset, req->buf, req->len);
        break;
      case IoRequest::Op::kFlush:
        st = device_.Flush();
        break;
      case IoRequest::Op::kAppend: {
        auto r = device_.ZoneAppend(req->offset, req->buf, req->len);
        if (r.ok()) {
          req->result_offset = *r;
        }
        st = r.status();
        break;
      }
    }
    req->error = st.code();
    Local(req);
  }

  void Local(IoRequest* req) {
    local_.push_back(req);
    ++inflight_;
  }

  // By index: a callback may submit requests that land in local_ meanwhile.
  unsigned DrainLocal() {
    unsigned n = 0;
    for (size_t i = 0; i < local_.size(); ++i) {
      IoRequest* r = local_[i];
      --inflight_;
      ++n;
      if (r->done) {
        r->done(r);
      }
    }
    local_.clear();
    return n;
  }

  Node& device_;
  Engine& engine_;
  std::unique_ptr<IoQueue> child_;
  const uint64_t data_offset_;
  const unsigned depth_;
  std::vector<Slot> slots_;
  std::vector<Slot*> free_;
  std::vector<IoRequest*> local_;
  unsigned inflight_ = 0;
};

}  // namespace

Result<std::unique_ptr<IoQueue>> CreatePersistQueue(Node& device, Engine& engine, Node& child,
                                                    uint64_t data_offset, unsigned depth) {
  if (depth == 0) {
    return Error(EINVAL, "queue depth must be positive");
  }
  auto q = child.CreateQueue(depth);
  if (!q.ok()) {
    return q.status().Annotate("creating the child's queue");
  }
  return std::unique_ptr<IoQueue>(
      std::make_unique<PersistQueue>(device, engine, std::move(*q), data_offset, depth));
}

}  // namespace zbl::emulated
