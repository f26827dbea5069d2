// zbl-bench-io: the zbl side of zbl-compare. Runs one workload the way fio and qemu-img bench
// run theirs (a fixed number of sequential writes of one block size at one queue depth) and
// prints one JSON object on stdout.
//
//   zbl-bench-io --device OPTIONS [--pattern seqwrite|append] [--bs 4096] [--size BYTES]
//                [--ops N] [--qd 1]
//
// seqwrite writes --ops blocks from offset 0, wrapping at --size; on a zoned device the zones
// it will use are reset first (untimed), and a zone is reset again when the wrap comes back to
// it (timed, as fio's zonemode=zbd resets inside its run). qd 1 uses the synchronous calls; a
// larger depth goes through Backend::CreateQueue. append aims every request at zone 0's start
// and resets it when full.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "workloads.h"
#include "zbl/backend.h"
#include "zbl/options.h"

namespace zbl::bench {
namespace {

struct Args {
  std::string device;
  std::string pattern = "seqwrite";
  uint64_t bs = 4096;
  uint64_t size = 0;  // 0 = the device size
  uint64_t ops = 65536;
  unsigned qd = 1;
};

Result<Args> ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view k = argv[i];
    if (i + 1 >= argc) return Error(EINVAL, "option {} needs a value", k);
    std::string_view v = argv[++i];
    auto num = [&](uint64_t& out) -> Status {
      auto r = ParseSize(v);
      if (!r.ok()) return r.status().Annotate(k);
      out = *r;
      return Status::Ok();
    };
    uint64_t n = 0;
    if (k == "--device") a.device = v;
    else if (k == "--pattern") a.pattern = v;
    else if (k == "--bs") ZBL_RETURN_IF_ERROR(num(a.bs));
    else if (k == "--size") ZBL_RETURN_IF_ERROR(num(a.size));
    else if (k == "--ops") ZBL_RETURN_IF_ERROR(num(a.ops));
    else if (k == "--qd") {
      ZBL_RETURN_IF_ERROR(num(n));
      a.qd = static_cast<unsigned>(n);
    } else {
      return Error(EINVAL, "unknown option {}", k);
    }
  }
  if (a.device.empty()) return Error(EINVAL, "--device is required");
  if (a.pattern != "seqwrite" && a.pattern != "append")
    return Error(EINVAL, "--pattern must be seqwrite or append, not '{}'", a.pattern);
  if (a.bs == 0 || a.ops == 0 || a.qd == 0) return Error(EINVAL, "--bs, --ops and --qd must be positive");
  return a;
}

// Issues writes (or appends) one after another, through the synchronous calls or a queue.
class Issuer {
 public:
  Issuer(Backend& dev, const Args& a, uint8_t* buf) : dev_(dev), a_(a), buf_(buf) {}

  Status Init() {
    if (a_.qd == 1) return Status::Ok();
    auto q = dev_.CreateQueue(a_.qd);
    if (!q.ok()) return q.status();
    q_ = std::move(*q);
    reqs_.resize(a_.qd);
    for (auto& r : reqs_) {
      r.done = &Issuer::Done;
      r.user = this;
      free_.push_back(&r);
    }
    return Status::Ok();
  }

  Status Issue(uint64_t offset) {
    const bool append = a_.pattern == "append";
    if (!q_) {
      if (append) return dev_.ZoneAppend(offset, buf_, a_.bs).status();
      return dev_.Write(offset, buf_, a_.bs);
    }
    while (free_.empty()) ZBL_RETURN_IF_ERROR(ReapOne());
    IoRequest* r = free_.back();
    free_.pop_back();
    r->op = append ? IoRequest::Op::kAppend : IoRequest::Op::kWrite;
    r->offset = offset;
    r->buf = buf_;
    r->len = a_.bs;
    r->error = 0;
    if (Status s = q_->Submit(r); !s.ok()) {
      free_.push_back(r);
      return s;
    }
    return Status::Ok();
  }

  // Waits for everything in flight (before a reset, and at the end).
  Status Drain() {
    while (q_ && q_->inflight() > 0) ZBL_RETURN_IF_ERROR(ReapOne());
    return error_ ? Error(error_, "a queued request failed") : Status::Ok();
  }

 private:
  static void Done(IoRequest* r) {
    auto* self = static_cast<Issuer*>(r->user);
    if (r->error && !self->error_) self->error_ = r->error;
    self->free_.push_back(r);
  }
  Status ReapOne() {
    auto n = q_->Reap(1);
    if (!n.ok()) return n.status();
    return error_ ? Error(error_, "a queued request failed") : Status::Ok();
  }

  Backend& dev_;
  const Args& a_;
  uint8_t* buf_;
  std::unique_ptr<IoQueue> q_;
  std::vector<IoRequest> reqs_;
  std::vector<IoRequest*> free_;
  int error_ = 0;
};

Status ResetRange(Backend& dev, uint64_t start, uint64_t len) {
  if (!dev.limits().zoned() || len == 0) return Status::Ok();
  const uint64_t zs = dev.limits().zone_size;
  const uint64_t end = std::min(dev.size(), (start + len + zs - 1) / zs * zs);
  return dev.ZoneMgmt(ZoneOp::kReset, start, end - start);
}

struct Outcome {
  uint64_t ops = 0;
  double seconds = 0;
};

Result<Outcome> Run(Backend& dev, const Args& a) {
  const bool zoned = dev.limits().zoned();
  const bool append = a.pattern == "append";
  if (append && !zoned) return Error(ENOTSUP, "append needs a zoned device");
  const uint64_t zs = zoned ? dev.limits().zone_size : 0;
  uint64_t span = a.size ? std::min(a.size, dev.size()) : dev.size();
  if (append) span = zs;
  span = span / a.bs * a.bs;
  if (span == 0) return Error(EINVAL, "--size is smaller than one block");
  // Zone capacity may be below the zone size: a write must not cross into the gap.
  uint64_t cap = zs;
  if (zoned) {
    auto z = dev.ReportZones(0, 1);
    if (!z.ok()) return z.status();
    if (!z->empty()) cap = z->front().capacity;
  }
  ZBL_RETURN_IF_ERROR(ResetRange(dev, 0, std::min(span, a.ops * a.bs)));
  Buffer buf(a.bs);
  Issuer io(dev, a, buf.data());
  ZBL_RETURN_IF_ERROR(io.Init());
  uint64_t off = 0;     // seqwrite: next offset; append: bytes appended to zone 0
  bool wrapped = false;  // seqwrite: zones met from now on hold data from the previous pass
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < a.ops; ++i) {
    if (append) {
      if (off + a.bs > cap) {
        ZBL_RETURN_IF_ERROR(io.Drain());
        ZBL_RETURN_IF_ERROR(ResetRange(dev, 0, zs));
        off = 0;
      }
      ZBL_RETURN_IF_ERROR(io.Issue(0));
      off += a.bs;
      continue;
    }
    if (zoned && off % zs + a.bs > cap) off = (off / zs + 1) * zs;  // skip the capacity gap
    if (off + a.bs > span) {
      off = 0;
      wrapped = true;
    }
    if (zoned && wrapped && off % zs == 0) {
      ZBL_RETURN_IF_ERROR(io.Drain());
      ZBL_RETURN_IF_ERROR(ResetRange(dev, off, zs));
    }
    ZBL_RETURN_IF_ERROR(io.Issue(off));
    off += a.bs;
  }
  ZBL_RETURN_IF_ERROR(io.Drain());
  const auto t1 = std::chrono::steady_clock::now();
  return Outcome{a.ops, std::chrono::duration<double>(t1 - t0).count()};
}

int Main(int argc, char** argv) {
  auto args = ParseArgs(argc, argv);
  if (!args.ok()) {
    fmt::print(stderr, "zbl-bench-io: {}\n", args.status().ToString());
    return 2;
  }
  auto dev = Backend::Open(args->device);
  if (!dev.ok()) {
    fmt::print("{}\n", nlohmann::json{{"error", dev.status().ToString()}}.dump());
    return 3;
  }
  auto r = Run(**dev, *args);
  if (!r.ok()) {
    fmt::print("{}\n", nlohmann::json{{"error", r.status().ToString()}}.dump());
    return 3;
  }
  const double iops = static_cast<double>(r->ops) / r->seconds;
  nlohmann::json out = {{"tool", "zbl"},       {"graph", (*dev)->GraphString()},
                        {"pattern", args->pattern}, {"bs", args->bs},
                        {"qd", args->qd},       {"ops", r->ops},
                        {"seconds", r->seconds}, {"iops", iops},
                        {"bw_bytes", iops * static_cast<double>(args->bs)}};
  fmt::print("{}\n", out.dump());
  return 0;
}

}  // namespace
}  // namespace zbl::bench

int main(int argc, char** argv) { return zbl::bench::Main(argc, argv); }
