// Helper of persist_test's crash test: writes and appends to a persistent emulated image with
// periodic flushes, forever, and after every successful flush prints the write pointer of each
// zone ("F <zone> <wp>") on stdout; before a reset it prints "R <zone>", and once open "S". The
// test kills it with SIGKILL at random points and checks the reopened image against what was
// printed. With a queue depth, writes, appends and flushes go through Backend::CreateQueue with
// up to that many requests in flight across zones; a flush then vouches for the write pointers
// of the writes completed when it was submitted (each zone's completed prefix).
//   persist_crash_writer <option string> <seed> [queue depth]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "persist_pattern.h"
#include "zbl/backend.h"

namespace {

bool PrintFlushed(const std::vector<uint64_t>& wp, uint64_t zs) {
  std::string msg;
  for (size_t z = 0; z < wp.size(); ++z) {
    msg += "F " + std::to_string(z) + " " + std::to_string(wp[z]) + "\n";
  }
  return write(1, msg.data(), msg.size()) >= 0 && zs > 0;
}

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};

// The queued writer: random zones, up to `qd` requests in flight.
class Queued {
 public:
  Queued(zbl::Backend& dev, std::unique_ptr<zbl::IoQueue> q, unsigned qd, uint64_t seed)
      : dev_(dev), q_(std::move(q)), rng_(seed), slots_(qd) {
    zs_ = dev.limits().zone_size;
    for (Slot& s : slots_) {
      s.buf.reset(static_cast<uint8_t*>(std::aligned_alloc(4096, 64 << 10)));
      s.req.buf = s.buf.get();
      s.req.done = &Queued::Done;
      s.req.user = this;
      free_.push_back(&s);
    }
  }

  int Run() {
    auto zones = dev_.ReportZones(0, 0);
    if (!zones.ok()) return 1;
    zones_ = *zones;
    for (const zbl::Zone& z : zones_) {
      accepted_.push_back(z.write_pointer);
      prefix_.push_back(z.write_pointer);
    }
    done_.resize(zones_.size());
    unsigned since_flush = 0, flush_every = 1 + rng_() % 8;
    for (;;) {
      if (failed_) return 1;
      const uint32_t z = static_cast<uint32_t>(rng_() % zones_.size());
      const zbl::Zone& zd = zones_[z];
      if (zd.type == zbl::ZoneType::kConventional) continue;
      const uint64_t end = zd.start + zd.capacity;
      if (accepted_[z] >= end || rng_() % 100 == 0) {
        if (!Drain()) return 1;  // a reset waits for the zone's writes (else EBUSY)
        std::printf("R %u\n", z);
        std::fflush(stdout);
        if (!dev_.ZoneMgmt(zbl::ZoneOp::kReset, zd.start, zs_).ok()) return 1;
        accepted_[z] = prefix_[z] = zd.start;
        continue;
      }
      Slot* s = Take();
      if (!s) return 1;
      const uint64_t len = std::min<uint64_t>((1 + rng_() % 16) * 4096, end - accepted_[z]);
      zbl::persist_test::Fill(s->buf.get(), accepted_[z], len);
      s->zone = z;
      s->at = accepted_[z];
      s->req.len = len;
      s->req.op = rng_() % 2 ? zbl::IoRequest::Op::kAppend : zbl::IoRequest::Op::kWrite;
      s->req.offset = s->req.op == zbl::IoRequest::Op::kAppend ? zd.start : accepted_[z];
      if (!q_->Submit(&s->req).ok()) return 1;
      accepted_[z] += len;
      if (++since_flush >= flush_every) {
        Slot* f = Take();
        if (!f) return 1;
        f->req.op = zbl::IoRequest::Op::kFlush;
        f->req.len = 0;
        f->vouched = prefix_;  // completed before the flush was submitted
        if (!q_->Submit(&f->req).ok() || !q_->Reap(0).ok()) return 1;  // a poll completes it
        since_flush = 0;
        flush_every = 1 + rng_() % 8;
      }
    }
  }

 private:
  struct Slot {
    std::unique_ptr<uint8_t, AlignedFree> buf;
    zbl::IoRequest req;
    uint32_t zone = 0;
    uint64_t at = 0;
    std::vector<uint64_t> vouched;
  };

  Slot* Take() {
    while (free_.empty()) {
      if (!q_->Reap(1).ok() || failed_) return nullptr;
    }
    Slot* s = free_.back();
    free_.pop_back();
    return s;
  }
  bool Drain() {
    while (q_->inflight() > 0) {
      if (!q_->Reap(1).ok()) return false;
    }
    return !failed_;
  }

  static void Done(zbl::IoRequest* r) {
    auto* self = static_cast<Queued*>(r->user);
    Slot* s = nullptr;
    for (Slot& c : self->slots_) {
      if (&c.req == r) s = &c;
    }
    self->Completed(*s);
    self->free_.push_back(s);
  }

  void Completed(Slot& s) {
    if (s.req.error) {
      failed_ = true;
      return;
    }
    if (s.req.op == zbl::IoRequest::Op::kFlush) {
      if (!PrintFlushed(s.vouched, zs_)) failed_ = true;
      return;
    }
    if (s.req.op == zbl::IoRequest::Op::kAppend && s.req.result_offset != s.at) {
      failed_ = true;
      return;
    }
    // The zone's completed prefix: what a later flush may vouch for.
    auto& ahead = done_[s.zone];
    ahead[s.at] = s.at + s.req.len;
    for (auto it = ahead.find(prefix_[s.zone]); it != ahead.end(); it = ahead.find(prefix_[s.zone])) {
      prefix_[s.zone] = it->second;
      ahead.erase(it);
    }
  }

  zbl::Backend& dev_;
  std::unique_ptr<zbl::IoQueue> q_;
  std::mt19937_64 rng_;
  std::vector<Slot> slots_;
  std::vector<Slot*> free_;
  std::vector<zbl::Zone> zones_;
  std::vector<uint64_t> accepted_, prefix_;
  std::vector<std::map<uint64_t, uint64_t>> done_;
  uint64_t zs_ = 0;
  bool failed_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s <options> <seed> [queue depth]\n", argv[0]);
    return 2;
  }
  auto b = zbl::Backend::Open(argv[1]);
  if (!b.ok()) {
    std::fprintf(stderr, "open: %s\n", b.status().ToString().c_str());
    return 1;
  }
  zbl::Backend& dev = **b;
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  if (argc == 4) {
    const unsigned qd = static_cast<unsigned>(std::strtoul(argv[3], nullptr, 10));
    auto q = dev.CreateQueue(qd);
    if (qd == 0 || !q.ok()) {
      std::fprintf(stderr, "queue: %s\n", q.ok() ? "depth 0" : q.status().ToString().c_str());
      return 1;
    }
    std::printf("S\n");  // open, queue ready: the test's kill timer starts now
    std::fflush(stdout);
    return Queued(dev, std::move(*q), qd, rng()).Run();
  }
  std::printf("S\n");  // open: the test's kill timer starts now (startup time varies, e.g. ASan)
  std::fflush(stdout);
  const uint64_t zs = dev.limits().zone_size;
  const uint32_t nz = dev.limits().nr_zones;
  std::vector<uint8_t> buf(64 << 10);
  unsigned since_flush = 0, flush_every = 1 + rng() % 8;
  for (;;) {
    auto zones = dev.ReportZones(0, 0);
    if (!zones.ok()) {
      return 1;
    }
    const uint32_t z = static_cast<uint32_t>(rng() % nz);
    const zbl::Zone& zd = (*zones)[z];
    if (zd.type == zbl::ZoneType::kConventional) {
      continue;
    }
    const uint64_t end = zd.start + zd.capacity;
    if (zd.write_pointer >= end || rng() % 50 == 0) {
      std::printf("R %u\n", z);
      std::fflush(stdout);
      if (!dev.ZoneMgmt(zbl::ZoneOp::kReset, zd.start, zs).ok()) {
        return 1;
      }
      continue;
    }
    const uint64_t len = std::min<uint64_t>((1 + rng() % 16) * 4096, end - zd.write_pointer);
    zbl::persist_test::Fill(buf.data(), zd.write_pointer, len);
    if (rng() % 2) {
      auto at = dev.ZoneAppend(zd.start, buf.data(), len);
      if (!at.ok() || *at != zd.write_pointer) {
        return 1;
      }
    } else if (!dev.Write(zd.write_pointer, buf.data(), len).ok()) {
      return 1;
    }
    if (++since_flush >= flush_every) {
      if (!dev.Flush().ok()) {
        return 1;
      }
      auto after = dev.ReportZones(0, 0);
      if (!after.ok()) {
        return 1;
      }
      std::string msg;
      for (const zbl::Zone& d : *after) {
        msg += "F " + std::to_string(d.start / zs) + " " + std::to_string(d.write_pointer) + "\n";
      }
      if (write(1, msg.data(), msg.size()) < 0) {
        return 1;
      }
      since_flush = 0;
      flush_every = 1 + rng() % 8;
    }
  }
}
