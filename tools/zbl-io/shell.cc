#include "shell.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "zbl/driver.h"
#include "zbl/options.h"

#include "padded_io.h"

namespace zbl::io {

int Shell::Execute(std::string_view line) {
  std::vector<std::string> argv = Tokenize(line);
  if (argv.empty()) {
    return 0;
  }
  const CommandSpec* spec = FindCommand(argv[0]);
  if (spec == nullptr) {
    err() << "command \"" << argv[0] << "\" not found\n";
    return -EINVAL;
  }
  // qemu-io checks for an open file before it checks the argument count.
  if (!(spec->flags & (kCommandGlobal | kCommandNoFile)) && device_ == nullptr) {
    err() << "no file open, try 'help open'\n";
    return -EINVAL;
  }
  if (Status st = CheckArgCount(*spec, argv); !st.ok()) {
    err() << st.message() << "\n";
    return -st.code();
  }
  // Completions of aio requests that are ready print before the next command runs.
  ReapAio(0);
  // qemu-io's permission check of commands that write (blk_set_perm fails on a read-only node).
  if ((spec->flags & kCommandWrite) && read_only_) {
    err() << progname_ << ": Block node is read-only\n";
    return -EPERM;
  }
  // After reopen -w qemu-io takes the write permission when a command first needs it; truncate
  // takes it with the resize permission, which QEMU's O_DIRECT size check does not need.
  const bool truncate = std::string_view(spec->name) == "truncate";
  if ((spec->flags & kCommandWrite) && !write_perm_) {
    if (!truncate && !resize_perm_) {
      if (Status st = CheckDirectWrite(device_->option_string(), reopened_direct_); !st.ok()) {
        err() << progname_ << ": " << st.message() << "\n";
        return -EPERM;
      }
    }
    write_perm_ = true;
  }
  resize_perm_ = resize_perm_ || truncate;
  return spec->run(*this, argv);
}

namespace {

void AioDone(IoRequest* req) {
  auto* ctx = static_cast<AioContext*>(req->user);
  ctx->finished = true;
  if (ctx->finish) {
    ctx->finish(*ctx);
  }
}

}  // namespace

Result<IoQueue*> Shell::Queue() {
  if (!queue_) {
    auto q = device_->CreateQueue(kAioDepth);
    if (!q.ok()) {
      return q.status();
    }
    queue_ = std::move(*q);
  }
  return queue_.get();
}

int Shell::SubmitAio(std::unique_ptr<AioContext> ctx) {
  IoRequest& r = ctx->req;
  r.user = ctx.get();
  r.done = AioDone;
  if (Status st = CheckPaddedIo(*device_, r.offset, r.len,
                                r.op == IoRequest::Op::kRead ? "read" : "write");
      !st.ok()) {
    r.error = st.code();  // QEMU's block layer refuses it silently; the completion prints
    done_.push_back(std::move(ctx));
    return 0;
  }
  const uint32_t align = device_->limits().request_alignment;
  const bool aligned = align <= 1 || (r.offset % align == 0 && r.len % align == 0);
  if (!aligned || r.len == 0) {
    // QEMU's block layer pads such a request; the queue takes whole blocks only. Run it here
    // and let it complete at the next reap, as a queued request would.
    Status st = r.op == IoRequest::Op::kRead ? PaddedRead(*device_, r.offset, r.buf, r.len)
                                             : PaddedWrite(*device_, r.offset, r.buf, r.len);
    r.error = st.code();
    if (!st.ok()) {
      ReportDetail(st);
    }
    done_.push_back(std::move(ctx));
    return 0;
  }
  auto q = Queue();
  if (!q.ok()) {
    r.error = q.status().code();
    ReportDetail(q.status());
    done_.push_back(std::move(ctx));
    return 0;
  }
  // A full queue makes room by waiting for the oldest completions.
  while ((*q)->inflight() >= (*q)->depth()) {
    ReapAio(1);
  }
  Status st = (*q)->Submit(&r);
  if (!st.ok()) {
    // Refused at once (out of range, ...): QEMU reports it through the completion.
    r.error = st.code();
    ReportDetail(st);
    done_.push_back(std::move(ctx));
    return 0;
  }
  aio_.push_back(std::move(ctx));
  return 0;
}

void Shell::ReapAio(unsigned min) {
  // Requests that ran synchronously complete first, in submission order.
  std::vector<std::unique_ptr<AioContext>> ready;
  ready.swap(done_);
  for (auto& ctx : ready) {
    AioDone(&ctx->req);
  }
  if (queue_ && queue_->inflight() > 0) {
    auto n = queue_->Reap(std::min(min, queue_->inflight()));
    (void)n;  // a failed reap leaves the requests in flight; Drain waits again
  }
  std::erase_if(aio_, [](const std::unique_ptr<AioContext>& c) { return c->finished; });
}

void Shell::Drain() {
  ReapAio(0);
  while (queue_ && queue_->inflight() > 0) {
    unsigned before = queue_->inflight();
    ReapAio(before);
    if (queue_->inflight() >= before) {
      break;  // the queue cannot make progress; nothing more to wait for
    }
  }
  ReapAio(0);
}

void Shell::ReportDetail(const Status& st) {
  if (!explain_ || st.ok() || st.message().empty()) {
    return;
  }
  err() << progname_ << ": " << st.message() << "\n";
}

void Shell::PrintUsage(const CommandSpec& spec) {
  out_ << spec.name << " " << (spec.args ? spec.args : "(null)") << " -- " << spec.oneline << "\n";
}

Status Shell::SetReadOnly(bool on) {
  if (on || !read_only_) {
    read_only_ = on;
    write_perm_ = write_perm_ && !on;
    return Status::Ok();
  }
  ImageArgs rw = args_;
  rw.read_only = false;
  auto ro_opts = BuildOptionString(args_);
  auto rw_opts = BuildOptionString(rw);
  // Only a file node opened with read-only=on (-r) needs opening again.
  if (have_args_ && args_.read_only && ro_opts.ok() && rw_opts.ok() && *ro_opts != *rw_opts) {
    auto dev = OpenImage(rw, /*check_write=*/false);
    if (!dev.ok()) {
      return dev.status();
    }
    const uint64_t direct = reopened_direct_;
    const bool resize = resize_perm_;
    Adopt(std::move(*dev), &rw);
    reopened_direct_ = direct;
    resize_perm_ = resize;
  }
  read_only_ = false;
  write_perm_ = false;  // taken by the first command that writes
  return Status::Ok();
}

namespace {

// The regular file behind `opts` when the device is that file's bytes, one to one.
Result<std::string> PlainFile(const Backend& dev) {
  auto o = Options::Parse(dev.option_string());
  if (!o.ok()) {
    return o.status();
  }
  const Options* leaf = &*o;
  auto driver = leaf->GetString("driver", "");
  if (driver.ok() && *driver == "raw" && (leaf->Has("offset") || leaf->Has("size"))) {
    return Error(ENOTSUP, "Cannot resize fixed-size raw disks");
  }
  if (driver.ok() && *driver == "raw" && leaf->Child("file") != nullptr) {
    leaf = leaf->Child("file");
    driver = leaf->GetString("driver", "");
  }
  auto name = leaf->GetString("filename", "");
  struct stat st {};
  if (!driver.ok() || *driver != "file" || !name.ok() || name->empty() ||
      stat(name->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error(ENOTSUP, "truncate is not supported by this driver ({}): only a plain file "
                 "image can change size", dev.GraphString());
  }
  return *name;
}

}  // namespace

uint64_t Shell::QemuAlignment() const {
  if (reopened_direct_ != 0) {
    return reopened_direct_;  // QEMU's node is O_DIRECT since a reopen (see reopened_direct)
  }
  auto o = Options::Parse(device_->option_string());
  if (!o.ok()) {
    return 1;
  }
  const Options* n = &*o;
  while (n != nullptr) {
    auto d = n->GetString("driver", "");
    if (d.ok() && *d == "file") {
      const Options* cache = n->Child("cache");
      auto direct = cache ? cache->GetBool("direct", false) : Result<bool>(false);
      auto name = n->GetString("filename", "");
      if (direct.ok() && *direct && name.ok()) {
        return DirectIoAlignment(*name);
      }
      return 1;
    }
    n = n->Child("file");
  }
  return device_->limits().request_alignment;
}

uint64_t Shell::ProbeDirectAlignment() const {
  auto o = Options::Parse(device_->option_string());
  const Options* n = o.ok() ? &*o : nullptr;
  while (n != nullptr) {
    auto d = n->GetString("driver", "");
    auto name = n->GetString("filename", "");
    if (d.ok() && *d == "file" && name.ok()) {
      return DirectIoAlignment(*name);
    }
    n = n->Child("file");
  }
  return 0;
}

Status Shell::Truncate(uint64_t size, const std::string& mode) {
  // In file-posix's order: the node, a shrink with preallocation, then the mode.
  auto path = PlainFile(*device_);
  if (!path.ok()) {
    return path.status();
  }
  const std::string options = device_->option_string();
  struct stat st {};
  if (stat(path->c_str(), &st) != 0) {
    return Error(errno, "Could not stat '{}': {}", *path, std::strerror(errno));
  }
  const uint64_t old_size = static_cast<uint64_t>(st.st_size);
  if (mode != "off" && size < old_size) {
    return Error(ENOTSUP, "Cannot use preallocation for shrinking files");
  }
  if (mode == "metadata") {
    return Error(ENOTSUP, "Unsupported preallocation mode: metadata");
  }
  // file-posix writes its full preallocation from an unaligned buffer, which an O_DIRECT file
  // refuses; the file is left as it was.
  if (mode == "full" && size > old_size && QemuAlignment() > 1) {
    return Error(EINVAL, "Could not write zeros for preallocation: Invalid argument");
  }
  Drain();
  queue_.reset();
  owned_.reset();
  device_ = nullptr;
  Status result = Status::Ok();
  int fd = ::open(path->c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    result = Error(errno, "Could not open '{}': {}", *path, std::strerror(errno));
  } else {
    int r = 0;
    if (mode == "falloc" && size > old_size) {
      r = posix_fallocate(fd, static_cast<off_t>(old_size), static_cast<off_t>(size - old_size));
      if (r != 0) {
        errno = r;
        r = -1;
      }
    } else if (mode == "full" && size > old_size) {
      // Written zeroes, as file-posix's full preallocation does.
      std::vector<char> zeroes(1 << 20, 0);
      uint64_t at = old_size;
      while (r == 0 && at < size) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(size - at, zeroes.size()));
        ssize_t w = pwrite(fd, zeroes.data(), n, static_cast<off_t>(at));
        r = w < 0 ? -1 : 0;
        at += w > 0 ? static_cast<uint64_t>(w) : 0;
      }
    }
    if (r == 0) {
      r = ftruncate(fd, static_cast<off_t>(size));
    }
    if (r != 0) {
      result = Error(errno, "Could not resize file: {}", std::strerror(errno));
    }
    ::close(fd);
  }
  auto dev = Backend::Open(options);
  if (!dev.ok()) {
    return Error(dev.status().code(), "could not open '{}' again after truncate: {}", *path,
                 dev.status().ToString());
  }
  ImageArgs keep = args_;
  bool had = have_args_;
  bool ro = read_only_;
  const uint64_t direct = reopened_direct_;
  Adopt(std::move(*dev), had ? &keep : nullptr);
  reopened_direct_ = direct;
  resize_perm_ = true;
  read_only_ = ro;
  write_perm_ = !ro;  // truncate took the write (and resize) permission
  return result;
}

}  // namespace zbl::io
