#include "ublk.h"

#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace zbl::ublk {
namespace {

constexpr const char* kControl = "/dev/ublk-control";
// DevInfo::ublksrv_flags of a device added by zbl-ublk: this tag in the high half, the server's
// pid in the low half, so that a later start can find devices whose server was killed.
constexpr uint64_t kOwnerTag = 0x7a626c75ull << 32;  // "zblu"
constexpr uint64_t kEventUserData = ~uint64_t{0};

Status Sys(int err, std::string_view what) { return ErrnoStatus(err, what); }

// The control ring: SQE128, one command at a time.
class Control {
 public:
  static Result<std::unique_ptr<Control>> Open() {
    auto c = std::unique_ptr<Control>(new Control);
    c->fd_ = open(kControl, O_RDWR | O_CLOEXEC);
    if (c->fd_ < 0) {
      int e = errno;
      if (e == ENOENT) {
        return Error(ENOENT,
                     "{} is missing: the ublk driver is not loaded (run `modprobe ublk_drv` as "
                     "root; Linux >= 6.6 with CONFIG_BLK_DEV_UBLK for zoned devices)",
                     kControl);
      }
      if (e == EACCES || e == EPERM) {
        return Error(e,
                     "cannot open {}: zbl-ublk must run as root (zoned ublk devices need "
                     "UBLK_F_USER_COPY, which Linux grants only to CAP_SYS_ADMIN)",
                     kControl);
      }
      return Sys(e, fmt::format("open {}", kControl));
    }
    int r = io_uring_queue_init(4, &c->ring_, IORING_SETUP_SQE128);
    if (r < 0) return Sys(-r, "io_uring_queue_init (control ring, SQE128)");
    c->ring_ok_ = true;
    return c;
  }
  ~Control() {
    if (ring_ok_) io_uring_queue_exit(&ring_);
    if (fd_ >= 0) close(fd_);
  }
  // Sends one command; returns the kernel's result (>= 0) or -errno.
  int Send(uint32_t op, const CtrlCmd& cmd) {
    std::lock_guard<std::mutex> lock(mu_);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return -EBUSY;
    std::memset(static_cast<void*>(sqe), 0, 128);
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = fd_;
    sqe->cmd_op = op;
    sqe->user_data = op;
    std::memcpy(sqe->cmd, &cmd, sizeof(cmd));
    int r = io_uring_submit(&ring_);
    if (r < 0) return r;
    io_uring_cqe* cqe = nullptr;
    do {
      r = io_uring_wait_cqe(&ring_, &cqe);
    } while (r == -EINTR);
    if (r < 0) return r;
    int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    return res;
  }
  int GetInfo(uint32_t id, DevInfo& info) {
    CtrlCmd c{};
    c.dev_id = id;
    c.queue_id = kNoQueue;
    c.addr = reinterpret_cast<uintptr_t>(&info);
    c.len = sizeof(info);
    return Send(kCmdGetDevInfo, c);
  }
  int Simple(uint32_t op, uint32_t id, uint64_t data0 = 0) {
    CtrlCmd c{};
    c.dev_id = id;
    c.queue_id = kNoQueue;
    c.data[0] = data0;
    return Send(op, c);
  }

 private:
  Control() = default;
  int fd_ = -1;
  io_uring ring_{};
  bool ring_ok_ = false;
  std::mutex mu_;
};

bool PidAlive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

std::vector<uint32_t> ListDevices() {
  std::vector<uint32_t> ids;
  DIR* d = opendir("/sys/class/ublk-char");
  if (d == nullptr) return ids;
  while (dirent* e = readdir(d)) {
    unsigned id = 0;
    if (std::sscanf(e->d_name, "ublkc%u", &id) == 1) ids.push_back(id);
  }
  closedir(d);
  return ids;
}

// A device is stale when zbl-ublk added it and that server process no longer exists.
bool Stale(const DevInfo& info) {
  if ((info.ublksrv_flags & 0xffffffff00000000ull) != kOwnerTag) return false;
  const auto pid = static_cast<pid_t>(info.ublksrv_flags & 0xffffffffu);
  return !PidAlive(pid);
}

Result<int> CleanStale(Control& ctl, std::FILE* log) {
  int n = 0;
  for (uint32_t id : ListDevices()) {
    DevInfo info{};
    if (ctl.GetInfo(id, info) < 0 || !Stale(info)) continue;
    // A stale device's disk was stopped when its server died; STOP is harmless if not.
    ctl.Simple(kCmdStopDev, id);
    int r = ctl.Simple(kCmdDelDev, id);
    if (r < 0) return Sys(-r, fmt::format("deleting stale ublk device {}", id));
    if (log != nullptr) {
      fmt::print(log, "zbl-ublk: removed stale device {} (its server, pid {}, is gone)\n", id,
                 info.ublksrv_flags & 0xffffffffu);
    }
    ++n;
  }
  return n;
}

struct Job {
  uint16_t tag;
  IoDesc desc;
};
struct Done {
  uint16_t tag;
  Reply reply;
};

class ChannelFd final : public DataChannel {
 public:
  ChannelFd(int fd, uint64_t base) : fd_(fd), base_(base) {}
  long ToKernel(const void* buf, size_t len) override {
    return Loop(const_cast<void*>(buf), len, true);
  }
  long FromKernel(void* buf, size_t len) override { return Loop(buf, len, false); }

 private:
  long Loop(void* buf, size_t len, bool write) {
    size_t done = 0;
    auto* p = static_cast<unsigned char*>(buf);
    while (done < len) {
      ssize_t n = write ? pwrite(fd_, p + done, len - done, static_cast<off_t>(base_ + done))
                        : pread(fd_, p + done, len - done, static_cast<off_t>(base_ + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return -errno;
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return static_cast<long>(done);
  }
  int fd_;
  uint64_t base_;
};

}  // namespace

struct Server::Impl {
  Backend* dev = nullptr;
  Plan plan;
  ServerOptions opt;
  std::unique_ptr<Control> ctl;
  uint32_t id = 0;
  bool added = false, started = false, stopped = false;
  int cdev = -1;
  std::atomic<bool> quit{false};
  std::atomic<bool> failed{false};
  std::mutex fail_mu;
  std::string failure;

  struct Queue {
    Impl* s = nullptr;
    uint16_t q = 0;
    io_uring ring{};
    bool ring_ok = false;
    const IoDesc* descs = nullptr;
    size_t desc_bytes = 0;
    int efd = -1;
    uint64_t efd_buf = 0;
    std::thread thread;
    std::vector<std::thread> workers;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Job> jobs;
    std::vector<Done> done;
    bool stop_workers = false;
    std::atomic<int> fetched{-1};  // tags fetched, or -errno
  };
  std::vector<std::unique_ptr<Queue>> queues;

  void Fail(std::string why) {
    std::lock_guard<std::mutex> lock(fail_mu);
    if (failure.empty()) failure = std::move(why);
    failed = true;
  }

  void Worker(Queue& q) {
    std::vector<unsigned char> scratch;
    for (;;) {
      Job j;
      {
        std::unique_lock<std::mutex> lock(q.mu);
        q.cv.wait(lock, [&] { return q.stop_workers || !q.jobs.empty(); });
        if (q.jobs.empty()) return;
        j = q.jobs.front();
        q.jobs.pop_front();
      }
      ChannelFd ch(cdev, BufferOffset(q.q, j.tag));
      Reply r = Handle(*dev, plan, j.desc, ch, scratch);
      {
        std::lock_guard<std::mutex> lock(q.mu);
        q.done.push_back({j.tag, r});
      }
      uint64_t one = 1;
      if (write(q.efd, &one, sizeof(one)) < 0)
        Fail(fmt::format("eventfd write: {}", strerror(errno)));
    }
  }

  // The ring has room for every tag's command plus the eventfd read, so this only submits
  // early when a burst of commits meets a full submission queue.
  io_uring_sqe* GetSqe(Queue& q) {
    for (int i = 0; i < 3; ++i) {
      if (io_uring_sqe* sqe = io_uring_get_sqe(&q.ring)) return sqe;
      io_uring_submit(&q.ring);
    }
    Fail(fmt::format("queue {}: no free submission entry", q.q));
    return nullptr;
  }

  void PrepIo(Queue& q, uint32_t op, uint16_t tag, int32_t result, uint64_t addr) {
    io_uring_sqe* sqe = GetSqe(q);
    if (sqe == nullptr) return;
    std::memset(static_cast<void*>(sqe), 0, sizeof(*sqe));
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = cdev;
    sqe->cmd_op = op;
    sqe->user_data = tag;
    IoCmd c{};
    c.q_id = q.q;
    c.tag = tag;
    c.result = result;
    c.addr = addr;
    static_assert(sizeof(IoCmd) <= 16);
    std::memcpy(sqe->cmd, &c, sizeof(c));
  }

  void ArmEvent(Queue& q) {
    io_uring_sqe* sqe = GetSqe(q);
    if (sqe == nullptr) return;
    io_uring_prep_read(sqe, q.efd, &q.efd_buf, sizeof(q.efd_buf), 0);
    sqe->user_data = kEventUserData;
  }

  void Commit(Queue& q, uint16_t tag, const Reply& r) {
    PrepIo(q, kIoCommitAndFetchReq, tag, r.result, r.append_sector);
  }

  void QueueLoop(Queue& q) {
    const unsigned depth = opt.serve.depth;
    for (unsigned t = 0; t < depth; ++t) PrepIo(q, kIoFetchReq, static_cast<uint16_t>(t), -1, 0);
    ArmEvent(q);
    int r = io_uring_submit(&q.ring);
    if (r < 0) {
      q.fetched = r;
      Fail(fmt::format("queue {}: submitting the fetch commands: {}", q.q, strerror(-r)));
      return;
    }
    q.fetched = static_cast<int>(depth);
    for (unsigned i = 0; i < opt.workers; ++i) q.workers.emplace_back([this, &q] { Worker(q); });
    std::vector<unsigned char> scratch;
    std::vector<Job> batch;
    batch.reserve(depth);
    unsigned aborted = 0;
    bool event_armed = true;
    while (aborted < depth) {
      if (quit && !started)
        break;  // START_DEV failed: nothing will come; leave (cancels the fetches)
      r = io_uring_submit_and_wait(&q.ring, 1);
      if (r < 0 && r != -EINTR) {
        Fail(fmt::format("queue {}: io_uring_submit_and_wait: {}", q.q, strerror(-r)));
        break;
      }
      io_uring_cqe* cqe = nullptr;
      unsigned head = 0, seen = 0;
      io_uring_for_each_cqe(&q.ring, head, cqe) {
        ++seen;
        if (cqe->user_data == kEventUserData) {
          event_armed = false;
          continue;
        }
        const auto tag = static_cast<uint16_t>(cqe->user_data);
        if (cqe->res == kIoResOk) {
          batch.push_back({tag, q.descs[tag]});
        } else if (cqe->res == -ENODEV) {
          ++aborted;  // cancelled: the device is stopping
        } else {
          Fail(fmt::format("queue {} tag {}: the kernel refused a command: {}", q.q, tag,
                           strerror(-cqe->res)));
          ++aborted;
        }
      }
      io_uring_cq_advance(&q.ring, seen);
      // New requests: all but the first go to the workers (so that they run concurrently), the
      // first is served here, which spares a lone request (QD1) two thread hand-offs.
      if (!batch.empty()) {
        if (opt.workers > 0 && batch.size() > 1) {
          {
            std::lock_guard<std::mutex> lock(q.mu);
            q.jobs.insert(q.jobs.end(), batch.begin() + 1, batch.end());
          }
          q.cv.notify_all();
        }
        const size_t inline_count = opt.workers > 0 ? 1 : batch.size();
        for (size_t i = 0; i < inline_count; ++i) {
          ChannelFd ch(cdev, BufferOffset(q.q, batch[i].tag));
          Commit(q, batch[i].tag, Handle(*dev, plan, batch[i].desc, ch, scratch));
        }
        batch.clear();
      }
      // Replies of the workers (the eventfd read only wakes this thread up for them).
      std::vector<Done> done;
      {
        std::lock_guard<std::mutex> lock(q.mu);
        done.swap(q.done);
      }
      for (const Done& d : done) Commit(q, d.tag, d.reply);
      if (!event_armed) {
        ArmEvent(q);
        event_armed = true;
      }
    }
    {
      std::lock_guard<std::mutex> lock(q.mu);
      q.stop_workers = true;
    }
    q.cv.notify_all();
    for (auto& w : q.workers) w.join();
    q.workers.clear();
  }

  Status Add() {
    DevInfo info{};
    info.nr_hw_queues = static_cast<uint16_t>(opt.serve.queues);
    info.queue_depth = static_cast<uint16_t>(opt.serve.depth);
    info.max_io_buf_bytes = plan.max_io;
    info.dev_id = opt.dev_id < 0 ? kAnyDevId : static_cast<uint32_t>(opt.dev_id);
    info.flags = kFlagUserCopy | kFlagCmdIoctlEncode | (plan.zoned ? kFlagZoned : 0);
    info.ublksrv_flags = kOwnerTag | static_cast<uint32_t>(getpid());
    CtrlCmd c{};
    c.dev_id = info.dev_id;
    c.queue_id = kNoQueue;
    c.addr = reinterpret_cast<uintptr_t>(&info);
    c.len = sizeof(info);
    int r = ctl->Send(kCmdAddDev, c);
    if (r == -EEXIST) {
      return Error(EEXIST,
                   "ublk device {} exists and its server is running (pick another --dev-id)",
                   opt.dev_id);
    }
    if (r == -EPERM)
      return Error(EPERM, "ADD_DEV refused: zbl-ublk must run as root (CAP_SYS_ADMIN)");
    if (r < 0) return Sys(-r, "ADD_DEV");
    added = true;
    id = info.dev_id;
    if (plan.zoned && (info.flags & kFlagZoned) == 0) {
      return Error(ENOTSUP, "this kernel's ublk has no zoned devices (UBLK_F_ZONED: Linux >= 6.6)");
    }
    if ((info.flags & kFlagUserCopy) == 0) {
      return Error(ENOTSUP, "this kernel's ublk has no user copy (UBLK_F_USER_COPY: Linux >= 6.5)");
    }
    if (info.nr_hw_queues != opt.serve.queues) {
      return Error(EINVAL, "the kernel allows only {} queues here (--queues {})", info.nr_hw_queues,
                   opt.serve.queues);
    }
    return Status::Ok();
  }

  Status SetParams() {
    Params p = plan.params;
    CtrlCmd c{};
    c.dev_id = id;
    c.queue_id = kNoQueue;
    c.addr = reinterpret_cast<uintptr_t>(&p);
    c.len = sizeof(p);
    int r = ctl->Send(kCmdSetParams, c);
    if (r < 0) return Sys(-r, "SET_PARAMS (the kernel refused the device's geometry)");
    return Status::Ok();
  }

  Status OpenCdev() {
    const std::string path = fmt::format("/dev/ublkc{}", id);
    for (int i = 0; i < 100; ++i) {  // udev / devtmpfs may take a moment
      cdev = open(path.c_str(), O_RDWR | O_CLOEXEC);
      if (cdev >= 0) return Status::Ok();
      if (errno != ENOENT) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Sys(errno, fmt::format("open {}", path));
  }

  Status StartQueues() {
    const long page = sysconf(_SC_PAGESIZE);
    for (unsigned i = 0; i < opt.serve.queues; ++i) {
      auto q = std::make_unique<Queue>();
      q->s = this;
      q->q = static_cast<uint16_t>(i);
      q->desc_bytes = (opt.serve.depth * sizeof(IoDesc) + page - 1) / page * page;
      void* m = mmap(nullptr, q->desc_bytes, PROT_READ, MAP_SHARED | MAP_POPULATE, cdev,
                     static_cast<off_t>(DescOffset(q->q, page)));
      if (m == MAP_FAILED) return Sys(errno, fmt::format("mmap of queue {}'s descriptors", i));
      q->descs = static_cast<const IoDesc*>(m);
      q->efd = eventfd(0, EFD_CLOEXEC);
      if (q->efd < 0) return Sys(errno, "eventfd");
      int r = io_uring_queue_init(opt.serve.depth * 2 + 8, &q->ring, 0);
      if (r < 0) return Sys(-r, fmt::format("io_uring_queue_init (queue {})", i));
      q->ring_ok = true;
      queues.push_back(std::move(q));
    }
    for (auto& q : queues) {
      Queue* qp = q.get();
      q->thread = std::thread([this, qp] { QueueLoop(*qp); });
    }
    for (auto& q : queues) {
      while (q->fetched.load() == -1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (q->fetched.load() < 0) return Error(EIO, "queue {} could not fetch its tags", q->q);
    }
    return Status::Ok();
  }

  Status StartDev() {
    int r = ctl->Simple(kCmdStartDev, id, static_cast<uint64_t>(getpid()));
    if (r < 0) {
      return Sys(
          -r, "START_DEV (the kernel refused the disk; see dmesg for the zone check that failed)");
    }
    started = true;
    return Status::Ok();
  }

  void JoinQueues() {
    quit = true;
    for (auto& q : queues) {
      if (q->efd >= 0) {
        uint64_t one = 1;
        (void)!write(q->efd, &one, sizeof(one));
      }
    }
    for (auto& q : queues) {
      if (q->thread.joinable()) q->thread.join();
    }
    for (auto& q : queues) {
      if (q->ring_ok) io_uring_queue_exit(&q->ring);
      q->ring_ok = false;
      if (q->descs != nullptr) munmap(const_cast<IoDesc*>(q->descs), q->desc_bytes);
      q->descs = nullptr;
      if (q->efd >= 0) close(q->efd);
      q->efd = -1;
    }
    queues.clear();
  }

  Status Teardown() {
    if (stopped) return Status::Ok();
    stopped = true;
    Status st;
    if (added && started) {
      int r = ctl->Simple(kCmdStopDev, id);
      if (r < 0) st = Sys(-r, "STOP_DEV");
    }
    JoinQueues();
    if (cdev >= 0) close(cdev);
    cdev = -1;
    if (added) {
      // DEL_DEV waits until the character device is released (closed above).
      int r = ctl->Simple(kCmdDelDev, id);
      if (r < 0 && st.ok()) st = Sys(-r, "DEL_DEV");
      added = false;
    }
    if (Status f = dev->Flush(); !f.ok() && st.ok()) st = f.Annotate("flush at exit");
    return st;
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() {
  if (impl_) (void)impl_->Teardown();
}

Result<std::unique_ptr<Server>> Server::Start(Backend& dev, const Plan& plan,
                                              const ServerOptions& o) {
  auto impl = std::make_unique<Impl>();
  impl->dev = &dev;
  impl->plan = plan;
  impl->opt = o;
  if (geteuid() != 0) {
    return Error(EPERM,
                 "zbl-ublk must run as root: zoned ublk devices need UBLK_F_USER_COPY, which "
                 "Linux grants only to CAP_SYS_ADMIN (run it with sudo)");
  }
  auto ctl = Control::Open();
  if (!ctl.ok()) return ctl.status();
  impl->ctl = std::move(*ctl);
  auto cleaned = CleanStale(*impl->ctl, stderr);
  if (!cleaned.ok()) return cleaned.status();
  Status st = impl->Add();
  if (st.ok()) st = impl->SetParams();
  if (st.ok()) st = impl->OpenCdev();
  if (st.ok()) st = impl->StartQueues();
  if (st.ok()) st = impl->StartDev();
  if (!st.ok()) {
    (void)impl->Teardown();
    return st;
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::dev_id() const { return static_cast<int>(impl_->id); }
std::string Server::block_device() const { return fmt::format("/dev/ublkb{}", impl_->id); }
bool Server::failed() const { return impl_->failed.load(); }
std::string Server::failure() const {
  std::lock_guard<std::mutex> lock(impl_->fail_mu);
  return impl_->failure;
}
Status Server::Stop() { return impl_->Teardown(); }

Result<int> CleanStaleDevices() {
  auto ctl = Control::Open();
  if (!ctl.ok()) return ctl.status();
  return CleanStale(**ctl, stderr);
}

}  // namespace zbl::ublk
