// The io_uring queue of file and host_device: one ring per queue, one slot per request in
// flight. Submit only fills a submission entry; Reap hands every pending entry to the kernel
// with its wait, in one io_uring_enter (about 16 requests per enter at depth 32, where one
// enter per request made 4K writes 1.5-2.4x slower on ext4, buffered and O_DIRECT).
// Zone appends run synchronously through the node (they need the zone's write-pointer lock
// across the write, as QEMU) and complete from the next Reap like the rest. So do reads, writes
// and flushes of a regular file on a memory file system (tmpfs, ramfs): there is no device to
// wait for, and io_uring cannot complete a tmpfs write in the submitting call (shmem has no
// FMODE_BUF_WASYNC; perf shows every write, buffered or O_DIRECT, run by an iou-wrk thread).
// That handover cost more than the copy: 2.8 us of CPU per 4K write at depth 32 against 1.2 us
// done here, and it held every io_uring user (fio, qemu-img bench, this queue) to one rate.
#include <linux/magic.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "file_node.h"

namespace zbl::file {
namespace {

// Ring set-ups, best first; the first the kernel accepts wins. COOP_TASKRUN (5.19): the work
// that posts a completion waits for the task's next kernel entry instead of interrupting it
// (it enters anyway, to wait or to submit). SUBMIT_ALL (5.18) keeps submitting a batch past an
// entry that fails to prepare, so that one bad entry does not hold the others back.
// Measured and left out (tmpfs and ext4 files, depth 32): SINGLE_ISSUER + DEFER_TASKRUN made
// the queue's thread run every completion itself and doubled the context switches of a write
// punted to an io-wq worker (5-30 % fewer IOPS than COOP_TASKRUN), besides tying the ring to one
// thread; TASKRUN_FLAG made liburing's every empty peek enter the kernel.
constexpr unsigned kSetupFlags[] = {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL, 0};

// A regular file only: a device node's fstatfs answers for devtmpfs, a tmpfs too.
bool IsOnMemoryFileSystem(int fd) {
  struct stat st {};
  struct statfs fs {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || fstatfs(fd, &fs) != 0) {
    return false;
  }
  return fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC;
}

class UringQueue final : public IoQueue {
 public:
  UringQueue(FileNode& node, unsigned depth) : node_(node), depth_(depth) {}
  ~UringQueue() override {
    // Requests still in flight own buffers of the caller: wait for them before the ring goes.
    while (ready_ && inflight_ > 0) {
      auto r = Reap(1);
      if (!r.ok()) {
        break;
      }
    }
    if (ready_) {
      io_uring_queue_exit(&ring_);
    }
  }

  Status Init() {
    slots_.resize(depth_);
    free_.reserve(depth_);
    for (unsigned i = depth_; i-- > 0;) {
      free_.push_back(i);
    }
    local_.reserve(depth_);
    return Setup();
  }

  Status Submit(IoRequest* req) override {
    if (inflight_ >= depth_) {
      return Error(EAGAIN, "queue full ({} requests)", depth_);
    }
    if (req->op != IoRequest::Op::kFlush && req->op != IoRequest::Op::kRead && node_.read_only()) {
      return Error(EROFS, "write refused: '{}' was opened with read-only=on", node_.path());
    }
    if (req->op == IoRequest::Op::kWrite && node_.zoned()) {
      ZBL_RETURN_IF_ERROR(CheckSplitWrite(node_, node_.limits(), req->offset, req->len));
    }
    if (req->op == IoRequest::Op::kAppend || in_memory_) {
      RunNow(req);
      return Status::Ok();
    }
    io_uring_sqe* sqe = GetSqe();
    if (!sqe) {
      return Error(EAGAIN, "io_uring submission queue full");
    }
    const unsigned slot = free_.back();
    free_.pop_back();
    slots_[slot] = Slot{req, 0};
    Prep(sqe, slot);
    ++inflight_;
    return Status::Ok();
  }

  Result<unsigned> Reap(unsigned min) override {
    unsigned done = DrainLocal();
    done += DrainRing();
    if (min > done + inflight_) {
      min = done + inflight_;
    }
    // Pending entries go to the kernel even when nothing is awaited (Reap(0) is how a caller
    // polls), and together with the wait when something is.
    while (io_uring_sq_ready(&ring_) > 0 || done < min) {
      const unsigned in_ring = inflight_ - static_cast<unsigned>(local_.size());
      if (in_ring == 0) {  // callbacks submitted requests that ran in Submit
        const unsigned n = DrainLocal();
        if (n == 0) {
          break;
        }
        done += n;
        continue;
      }
      // Waiting for all the completions still short of `min` at once spares a wake-up per
      // completion; never for more than the ring holds, or the wait would not end.
      const unsigned wait = done < min ? std::min(min - done, in_ring) : 0;
      int r = io_uring_submit_and_wait(&ring_, wait);
      if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
        return ErrnoStatus(-r, "io_uring_submit_and_wait");
      }
      done += DrainRing();
      if (r < 0 && wait == 0) {
        break;  // the entries stay in the ring: the next Reap submits them
      }
    }
    if (min == 0 && inflight_ > local_.size()) {
      io_uring_get_events(&ring_);  // a poll: run the completion work COOP_TASKRUN holds back
      done += DrainRing();
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

  Status Setup() {
    int r = -EINVAL;
    for (unsigned flags : kSetupFlags) {
      io_uring_params p{};
      p.flags = flags;
      r = io_uring_queue_init_params(depth_, &ring_, &p);
      if (r != -EINVAL) {
        break;
      }
    }
    if (r < 0) {
      return ErrnoStatus(-r, fmt::format("io_uring_queue_init({})", depth_));
    }
    ready_ = true;
    in_memory_ = IsOnMemoryFileSystem(node_.fd());
    // A registered file spares the kernel looking the descriptor up for every request; where
    // registration is refused the plain descriptor works the same.
    const int fd = node_.fd();
    fixed_ = io_uring_register_files(&ring_, &fd, 1) == 0;
    return Status::Ok();
  }

  // Runs `req` through the node's synchronous calls; it completes from the next Reap.
  void RunNow(IoRequest* req) {
    Status st;
    switch (req->op) {
      case IoRequest::Op::kRead:
        st = node_.Read(req->offset, req->buf, req->len);
        break;
      case IoRequest::Op::kWrite:
        st = node_.Write(req->offset, req->buf, req->len);
        break;
      case IoRequest::Op::kFlush:
        st = node_.Flush();
        break;
      case IoRequest::Op::kAppend: {
        auto r = node_.ZoneAppend(req->offset, req->buf, req->len);
        if (r.ok()) {
          req->result_offset = *r;
        }
        st = r.status();
        break;
      }
    }
    req->error = st.code();
    local_.push_back(req);
    ++inflight_;
  }

  // The ring has at least depth_ entries and holds at most one per request in flight, so it is
  // full only if the kernel has not consumed entries of an earlier batch yet: push them.
  io_uring_sqe* GetSqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void Prep(io_uring_sqe* sqe, unsigned slot) {
    const Slot& s = slots_[slot];
    IoRequest* r = s.req;
    auto* p = static_cast<uint8_t*>(r->buf) + s.done;
    const unsigned left = static_cast<unsigned>(r->len - s.done);
    const int fd = fixed_ ? 0 : node_.fd();
    switch (r->op) {
      case IoRequest::Op::kRead:
        io_uring_prep_read(sqe, fd, p, left, r->offset + s.done);
        break;
      case IoRequest::Op::kWrite:
        io_uring_prep_write(sqe, fd, p, left, r->offset + s.done);
        break;
      default:
        io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
        break;
    }
    if (fixed_) {
      sqe->flags |= IOSQE_FIXED_FILE;
    }
    io_uring_sqe_set_data64(sqe, slot);
  }

  // By index: a callback may submit another append, which lands in local_ meanwhile.
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

  // Completes what the ring has; queues short or interrupted transfers again (the Reap loop
  // submits them).
  unsigned DrainRing() {
    unsigned n = 0;
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0 && cqe) {
      const unsigned slot = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
      const int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      if (Complete(slot, res)) {
        ++n;
      }
    }
    return n;
  }

  // True when the request finished (and its callback ran).
  bool Complete(unsigned slot, int res) {
    Slot& s = slots_[slot];
    IoRequest* r = s.req;
    const bool data = r->op != IoRequest::Op::kFlush;
    if (res == -EINTR || res == -EAGAIN || (data && res > 0 && s.done + res < r->len)) {
      if (res > 0) {
        s.done += static_cast<size_t>(res);
      }
      if (io_uring_sqe* sqe = GetSqe()) {
        Prep(sqe, slot);
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
    if (r->error == ENOTTY || r->error == EOPNOTSUPP) {
      r->error = ENOTSUP;
    }
    if (r->op == IoRequest::Op::kWrite) {
      node_.NoteWriteDone(r->offset, r->len, r->error == 0);
    }
    s.req = nullptr;
    free_.push_back(slot);
    --inflight_;
    if (r->done) {
      r->done(r);
    }
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
  bool fixed_ = false;  // the node's descriptor is registered file 0
  bool in_memory_ = false;  // a regular file on tmpfs or ramfs: see the top of this file
};

bool ProbeIoUring() {
  io_uring ring{};
  if (io_uring_queue_init(2, &ring, 0) < 0) {
    return false;
  }
  io_uring_queue_exit(&ring);
  return true;
}

}  // namespace

bool OnMemoryFileSystem(int fd) { return IsOnMemoryFileSystem(fd); }

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
