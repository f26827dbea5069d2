// The io_uring queue of file and host_device: one ring per queue, one slot per request in
// flight. Reads, writes and flushes go through the ring; zone appends run synchronously
// through the node (they need the zone's write-pointer lock across the write, as QEMU) and
// complete from the next Reap like the rest.
#include <liburing.h>

#include <fmt/format.h>

#include <cstring>
#include <vector>

#include "file_node.h"

namespace zbl::file {
namespace {

class UringQueue final : public IoQueue {
 public:
  UringQueue(FileNode& node, unsigned depth) : node_(node), depth_(depth) {}
  ~UringQueue() override {
    // Requests still in flight own buffers of the caller: wait for them before the ring goes.
    while (ready_ && inflight_ > 0) {
      auto r = Reap(1);
      if (!r.ok()) break;
    }
    if (ready_) io_uring_queue_exit(&ring_);
  }

  Status Init() {
    int r = io_uring_queue_init(depth_, &ring_, 0);
    if (r < 0) return ErrnoStatus(-r, fmt::format("io_uring_queue_init({})", depth_));
    ready_ = true;
    slots_.resize(depth_);
    free_.reserve(depth_);
    for (unsigned i = depth_; i-- > 0;) free_.push_back(i);
    local_.reserve(depth_);
    return Status::Ok();
  }

  Status Submit(IoRequest* req) override {
    if (inflight_ >= depth_) return Error(EAGAIN, "queue full ({} requests)", depth_);
    if (req->op != IoRequest::Op::kFlush && req->op != IoRequest::Op::kRead && node_.read_only())
      return Error(EROFS, "write refused: '{}' was opened with read-only=on", node_.path());
    if (req->op == IoRequest::Op::kAppend) {
      auto r = node_.ZoneAppend(req->offset, req->buf, req->len);
      req->error = r.status().code();
      if (r.ok()) req->result_offset = *r;
      local_.push_back(req);
      ++inflight_;
      return Status::Ok();
    }
    const unsigned slot = free_.back();
    slots_[slot] = Slot{req, 0};
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {
      // Only when earlier entries were not yet submitted: push them and retry once.
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
      if (!sqe) return Error(EAGAIN, "io_uring submission queue full");
    }
    free_.pop_back();
    Prep(sqe, slot);
    ++inflight_;
    // A failed submit leaves the entry in the ring; the next Reap submits it again, so the
    // request is accepted either way and completes exactly once.
    io_uring_submit(&ring_);
    return Status::Ok();
  }

  Result<unsigned> Reap(unsigned min) override {
    unsigned done = 0;
    done += DrainLocal();
    if (min > inflight_ + done) min = inflight_ + done;
    while (true) {
      done += DrainRing();
      if (done >= min || inflight_ == 0) break;
      int r = io_uring_submit_and_wait(&ring_, 1);
      if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
        return ErrnoStatus(-r, "io_uring_submit_and_wait");
    }
    return done;
  }

  unsigned inflight() const override { return inflight_; }
  unsigned depth() const override { return depth_; }

 private:
  struct Slot {
    IoRequest* req = nullptr;
    size_t done = 0;  // bytes already transferred (short transfers are resubmitted)
  };

  void Prep(io_uring_sqe* sqe, unsigned slot) {
    const Slot& s = slots_[slot];
    IoRequest* r = s.req;
    auto* p = static_cast<uint8_t*>(r->buf) + s.done;
    const unsigned left = static_cast<unsigned>(r->len - s.done);
    switch (r->op) {
      case IoRequest::Op::kRead: io_uring_prep_read(sqe, node_.fd(), p, left, r->offset + s.done); break;
      case IoRequest::Op::kWrite: io_uring_prep_write(sqe, node_.fd(), p, left, r->offset + s.done); break;
      default: io_uring_prep_fsync(sqe, node_.fd(), IORING_FSYNC_DATASYNC); break;
    }
    io_uring_sqe_set_data64(sqe, slot);
  }

  unsigned DrainLocal() {
    unsigned n = 0;
    for (IoRequest* r : local_) {
      --inflight_;
      ++n;
      if (r->done) r->done(r);
    }
    local_.clear();
    return n;
  }

  // Completes what the ring has; resubmits short or interrupted transfers.
  unsigned DrainRing() {
    unsigned n = 0;
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0 && cqe) {
      const unsigned slot = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
      const int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      if (Complete(slot, res)) ++n;
    }
    return n;
  }

  // True when the request finished (and its callback ran).
  bool Complete(unsigned slot, int res) {
    Slot& s = slots_[slot];
    IoRequest* r = s.req;
    const bool data = r->op != IoRequest::Op::kFlush;
    if (res == -EINTR || res == -EAGAIN || (data && res > 0 && s.done + res < r->len)) {
      if (res > 0) s.done += static_cast<size_t>(res);
      if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) {
        Prep(sqe, slot);
        io_uring_submit(&ring_);
        return false;
      }
      res = -EAGAIN;
    }
    if (data && res == 0 && s.done < r->len) {
      if (r->op == IoRequest::Op::kRead) {  // end of file: zeros, like the synchronous path
        std::memset(static_cast<uint8_t*>(r->buf) + s.done, 0, r->len - s.done);
      } else {
        res = -EIO;
      }
    }
    r->error = res < 0 ? -res : 0;
    if (r->error == ENOTTY || r->error == EOPNOTSUPP) r->error = ENOTSUP;
    if (r->op == IoRequest::Op::kWrite) node_.NoteWriteDone(r->offset, r->len, r->error == 0);
    s.req = nullptr;
    free_.push_back(slot);
    --inflight_;
    if (r->done) r->done(r);
    return true;
  }

  FileNode& node_;
  const unsigned depth_;
  io_uring ring_{};
  std::vector<Slot> slots_;
  std::vector<unsigned> free_;
  std::vector<IoRequest*> local_;
  unsigned inflight_ = 0;
  bool ready_ = false;
};

bool ProbeIoUring() {
  io_uring ring{};
  if (io_uring_queue_init(2, &ring, 0) < 0) return false;
  io_uring_queue_exit(&ring);
  return true;
}

}  // namespace

bool IoUringAvailable() {
  static const bool available = ProbeIoUring();
  return available;
}

Result<std::unique_ptr<IoQueue>> CreateUringQueue(FileNode& node, unsigned depth) {
  auto q = std::make_unique<UringQueue>(node, depth);
  ZBL_RETURN_IF_ERROR(q->Init());
  return std::unique_ptr<IoQueue>(std::move(q));
}

}  // namespace zbl::file
