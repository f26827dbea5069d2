// The benchmark families. Each takes the configuration it runs on; names are
// `<Family>/<config>/<key>:<value>...` (the report generator reads family and config).
//
// Resets: a zone that fills is reset between PauseTiming/ResumeTiming. That pause costs about a
// microsecond, paid once per zone (zone size / block size operations), so it stays far below 1 %
// of the measured time for every block size and zone size registered here.
#include "families.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "workloads.h"

namespace zbl::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Marks the run failed and lets every thread pass the start/stop barrier.
void Fail(benchmark::State& st, const Status& s) {
  st.SkipWithError(s.ToString().c_str());
  for (auto _ : st) {
  }
}

void Unavailable(benchmark::State& st, std::string reason) {
  st.SkipWithError(reason.c_str());
  for (auto _ : st) {
  }
}

void SetThroughput(benchmark::State& st, size_t bs) {
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(bs));
}

Status ResetZone(Backend& dev, const Zone& z) { return dev.ZoneMgmt(ZoneOp::kReset, z.start, z.length); }

// Fills `z` once and resets it (untimed), so that an in-memory zone buffer is resident and
// sits in the engine's recycling pool: the timed loop then sees the steady state.
Status Warm(Backend& dev, const Zone& z, bool in_memory) {
  if (!in_memory) return Status::Ok();
  Buffer chunk(size_t{1} << 20);
  for (uint64_t done = 0; done < z.capacity;) {
    const uint64_t n = std::min<uint64_t>(chunk.size(), z.capacity - done);
    ZBL_RETURN_IF_ERROR(dev.Write(z.start + done, chunk.data(), n));
    done += n;
  }
  return ResetZone(dev, z);
}

// ---- baseline ----

// What a 4 KiB copy into a resident 256 MiB buffer costs: the floor for an in-memory append.
// With threads, each copies into an arena of its own: the machine's memory bandwidth ceiling
// for appends to different zones.
void BaselineMemcpy4k(benchmark::State& st) {
  constexpr size_t kArena = size_t{256} << 20, kBs = 4096;
  Buffer arena(kArena), src(kBs);
  size_t off = 0;
  for (auto _ : st) {
    std::memcpy(arena.data() + off, src.data(), kBs);
    benchmark::ClobberMemory();
    off = off + kBs == kArena ? 0 : off + kBs;
  }
  SetThroughput(st, kBs);
}

// ---- zone report ----

void Report(benchmark::State& st, Backend* dev, uint32_t nzones) {
  const uint32_t total = dev->limits().nr_zones;
  const uint32_t n = nzones == 0 ? total : std::min(nzones, total);
  std::vector<Zone> out(n);
  uint64_t first = 0;
  int64_t zones = 0;
  for (auto _ : st) {
    auto r = dev->ReportZones(dev->ZoneStart(first), std::span<Zone>(out));
    if (!r.ok()) {
      st.SkipWithError(r.status().ToString().c_str());
      break;
    }
    zones += static_cast<int64_t>(*r);
    first = first + 2 * n <= total ? first + n : 0;  // walk the device, never a short report
  }
  st.SetItemsProcessed(zones);
  st.counters["zones"] = n;
}

// ---- zone management latency ----

enum class Mgmt { kOpen, kClose, kFinish, kReset, kResetAll };

// One measured operation on `z`, with untimed preparation and clean-up so that every sample
// starts from the same state: open from EMPTY; close, finish and reset from IMPLICIT OPEN with
// one block written; reset-all with that one zone written.
Status MgmtOnce(Backend& dev, Mgmt op, const Zone& z, const Buffer& blk, int64_t* ns) {
  if (op != Mgmt::kOpen) ZBL_RETURN_IF_ERROR(dev.Write(z.start, blk.data(), blk.size()));
  Status s;
  const auto t0 = Clock::now();
  switch (op) {
    case Mgmt::kOpen: s = dev.ZoneMgmt(ZoneOp::kOpen, z.start, z.length); break;
    case Mgmt::kClose: s = dev.ZoneMgmt(ZoneOp::kClose, z.start, z.length); break;
    case Mgmt::kFinish: s = dev.ZoneMgmt(ZoneOp::kFinish, z.start, z.length); break;
    case Mgmt::kReset: s = ResetZone(dev, z); break;
    case Mgmt::kResetAll: s = dev.ZoneResetAll(); break;
  }
  const auto t1 = Clock::now();
  *ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  ZBL_RETURN_IF_ERROR(s);
  if (op != Mgmt::kReset && op != Mgmt::kResetAll) ZBL_RETURN_IF_ERROR(ResetZone(dev, z));
  return Status::Ok();
}

void ZoneMgmtLatency(benchmark::State& st, Backend* dev, Mgmt op) {
  auto zones = WritableZones(*dev, 64, MinWrite(*dev));
  if (!zones.ok()) return Fail(st, zones.status());
  Buffer blk(MinWrite(*dev));
  std::vector<int64_t> samples;
  samples.reserve(1 << 16);
  size_t i = 0;
  for (auto _ : st) {
    int64_t ns = 0;
    Status s = MgmtOnce(*dev, op, (*zones)[i], blk, &ns);
    if (!s.ok()) {
      st.SkipWithError(s.ToString().c_str());
      break;
    }
    st.SetIterationTime(static_cast<double>(ns) * 1e-9);
    if (samples.size() < (size_t{1} << 22)) samples.push_back(ns);
    i = i + 1 == zones->size() ? 0 : i + 1;
  }
  st.SetItemsProcessed(st.iterations());
  st.counters["p50_ns"] = static_cast<double>(Percentile(samples, 50));
  st.counters["p99_ns"] = static_cast<double>(Percentile(samples, 99));
}

// ---- sequential writes ----

void SeqWrite(benchmark::State& st, Backend* dev, size_t bs, bool in_memory) {
  Buffer buf(bs);
  Zone z{};
  if (dev->limits().zoned()) {
    auto zones = WritableZones(*dev, 1, bs);
    if (!zones.ok()) return Fail(st, zones.status());
    z = zones->front();
    if (Status s = ResetZone(*dev, z); !s.ok()) return Fail(st, s);
    if (Status s = Warm(*dev, z, in_memory); !s.ok()) return Fail(st, s);
  } else {
    // A flat device: write the first GiB over and over.
    z.length = z.capacity = std::min<uint64_t>(dev->size(), uint64_t{1} << 30);
  }
  const uint64_t end = z.start + z.capacity / bs * bs;
  uint64_t off = z.start;
  int64_t resets = 0;
  for (auto _ : st) {
    if (off == end) {
      st.PauseTiming();
      Status s = dev->limits().zoned() ? ResetZone(*dev, z) : Status::Ok();
      st.ResumeTiming();
      if (!s.ok()) {
        st.SkipWithError(s.ToString().c_str());
        break;
      }
      off = z.start;
      ++resets;
    }
    if (Status s = dev->Write(off, buf.data(), bs); !s.ok()) {
      st.SkipWithError(s.ToString().c_str());
      break;
    }
    off += bs;
  }
  if (dev->limits().zoned()) (void)ResetZone(*dev, z);
  SetThroughput(st, bs);
  st.counters["resets"] = static_cast<double>(resets);
}

// ---- zone append ----

// Synchronous appends; every thread appends to a zone of its own.
void AppendSync(benchmark::State& st, Backend* dev, size_t bs, bool in_memory) {
  auto zones = WritableZones(*dev, static_cast<size_t>(st.threads()), bs);
  if (!zones.ok()) return Fail(st, zones.status());
  if (zones->size() < static_cast<size_t>(st.threads()))
    return Fail(st, Error(ENOSPC, "{} threads need as many writable zones", st.threads()));
  const Zone z = (*zones)[static_cast<size_t>(st.thread_index())];
  if (Status s = ResetZone(*dev, z); !s.ok()) return Fail(st, s);
  if (Status s = Warm(*dev, z, in_memory); !s.ok()) return Fail(st, s);
  Buffer buf(bs);
  const uint64_t per_zone = z.capacity / bs;
  uint64_t left = per_zone;
  for (auto _ : st) {
    if (left == 0) {
      st.PauseTiming();
      Status s = ResetZone(*dev, z);
      st.ResumeTiming();
      if (!s.ok()) {
        st.SkipWithError(s.ToString().c_str());
        break;
      }
      left = per_zone;
    }
    auto r = dev->ZoneAppend(z.start, buf.data(), bs);
    if (!r.ok()) {
      st.SkipWithError(r.status().ToString().c_str());
      break;
    }
    --left;
  }
  (void)ResetZone(*dev, z);
  SetThroughput(st, bs);
}

// Completion bookkeeping of a queued benchmark: free requests, the first error.
struct QueueState {
  std::vector<IoRequest*> free;
  int first_error = 0;
};

void OnQueuedDone(IoRequest* r) {
  auto* s = static_cast<QueueState*>(r->user);
  if (r->error && !s->first_error) s->first_error = r->error;
  s->free.push_back(r);
}

Status Drain(IoQueue& q) {
  while (q.inflight() > 0) {
    auto n = q.Reap(1);
    if (!n.ok()) return n.status();
  }
  return Status::Ok();
}

void AppendQueue(benchmark::State& st, Backend* dev, size_t bs, unsigned qd, bool in_memory) {
  auto zones = WritableZones(*dev, 1, bs * qd);
  if (!zones.ok()) return Fail(st, zones.status());
  const Zone z = zones->front();
  if (Status s = ResetZone(*dev, z); !s.ok()) return Fail(st, s);
  if (Status s = Warm(*dev, z, in_memory); !s.ok()) return Fail(st, s);
  auto q = dev->CreateQueue(qd);
  if (!q.ok()) return Fail(st, q.status());
  Buffer buf(bs);
  std::vector<IoRequest> reqs(qd);
  QueueState qs;
  for (auto& r : reqs) {
    r = IoRequest{.op = IoRequest::Op::kAppend, .offset = z.start, .buf = buf.data(), .len = bs,
                  .done = OnQueuedDone, .user = &qs};
    qs.free.push_back(&r);
  }
  const uint64_t per_zone = z.capacity / bs;
  uint64_t left = per_zone;
  Status err;
  for (auto _ : st) {
    if (left == 0) {
      st.PauseTiming();
      err = Drain(**q);
      if (err.ok()) err = ResetZone(*dev, z);
      st.ResumeTiming();
      left = per_zone;
    }
    if (err.ok() && qs.free.empty()) {
      auto n = (*q)->Reap(1);
      if (!n.ok()) err = n.status();
    }
    if (err.ok() && qs.first_error) err = Error(qs.first_error, "zone append completed with an error");
    if (!err.ok()) break;
    IoRequest* r = qs.free.back();
    qs.free.pop_back();
    err = (*q)->Submit(r);
    if (!err.ok()) {
      qs.free.push_back(r);
      break;
    }
    --left;
  }
  if (Status s = Drain(**q); err.ok()) err = s;
  if (err.ok() && qs.first_error) err = Error(qs.first_error, "zone append completed with an error");
  if (!err.ok()) st.SkipWithError(err.ToString().c_str());
  (void)ResetZone(*dev, z);
  SetThroughput(st, bs);
}

// Sequential writes through a queue of depth `qd` on a flat device (its first GiB, wrapping):
// the driver's asynchronous path. Not registered for zoned devices, where writes in flight
// together may reach the device out of order.
void SeqWriteQueue(benchmark::State& st, Backend* dev, size_t bs, unsigned qd) {
  auto q = dev->CreateQueue(qd);
  if (!q.ok()) return Fail(st, q.status());
  Buffer buf(bs);
  std::vector<IoRequest> reqs(qd);
  QueueState qs;
  for (auto& r : reqs) {
    r = IoRequest{.op = IoRequest::Op::kWrite, .buf = buf.data(), .len = bs, .done = OnQueuedDone,
                  .user = &qs};
    qs.free.push_back(&r);
  }
  const uint64_t end = std::min<uint64_t>(dev->size(), uint64_t{1} << 30) / bs * bs;
  uint64_t off = 0;
  Status err;
  for (auto _ : st) {
    if (qs.free.empty()) {
      auto n = (*q)->Reap(1);
      if (!n.ok()) err = n.status();
    }
    if (err.ok() && qs.first_error) err = Error(qs.first_error, "a queued write completed with an error");
    if (!err.ok()) break;
    IoRequest* r = qs.free.back();
    qs.free.pop_back();
    r->offset = off;
    err = (*q)->Submit(r);
    if (!err.ok()) {
      qs.free.push_back(r);
      break;
    }
    off = off + bs >= end ? 0 : off + bs;
  }
  if (Status s = Drain(**q); err.ok()) err = s;
  if (err.ok() && qs.first_error) err = Error(qs.first_error, "a queued write completed with an error");
  if (!err.ok()) st.SkipWithError(err.ToString().c_str());
  SetThroughput(st, bs);
}

// ---- mixed workload ----

// Each thread writes its own `zones_per_thread` zones round-robin (so that many zones are open
// at once, within the device's open limit) and reads back a written block every fourth
// operation.
void Mixed(benchmark::State& st, Backend* dev, size_t bs, uint32_t total_zones) {
  const auto threads = static_cast<uint32_t>(st.threads());
  const uint32_t per_thread = std::max<uint32_t>(1, total_zones / threads);
  auto zones = WritableZones(*dev, size_t{per_thread} * threads, bs);
  if (!zones.ok()) return Fail(st, zones.status());
  if (zones->size() < size_t{per_thread} * threads)
    return Fail(st, Error(ENOSPC, "{} zones needed, {} writable", per_thread * threads, zones->size()));
  std::vector<Zone> mine(zones->begin() + static_cast<std::ptrdiff_t>(per_thread * st.thread_index()),
                         zones->begin() + static_cast<std::ptrdiff_t>(per_thread * (st.thread_index() + 1)));
  std::vector<uint64_t> wp(mine.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    if (Status s = ResetZone(*dev, mine[i]); !s.ok()) return Fail(st, s);
    wp[i] = mine[i].start;
  }
  Buffer wbuf(bs), rbuf(bs);
  uint64_t op = 0;
  int64_t reads = 0;
  for (auto _ : st) {
    const size_t i = op % mine.size();
    const Zone& z = mine[i];
    Status s;
    if (op % 4 == 3 && wp[i] > z.start) {
      s = dev->Read(wp[i] - bs, rbuf.data(), bs);
      ++reads;
    } else {
      if (wp[i] + bs > z.start + z.capacity) {
        st.PauseTiming();
        s = ResetZone(*dev, z);
        wp[i] = z.start;
        st.ResumeTiming();
      }
      if (s.ok()) s = dev->Write(wp[i], wbuf.data(), bs);
      wp[i] += bs;
    }
    if (!s.ok()) {
      st.SkipWithError(s.ToString().c_str());
      break;
    }
    ++op;
  }
  for (const Zone& z : mine) (void)ResetZone(*dev, z);
  SetThroughput(st, bs);
  st.counters["reads"] = static_cast<double>(reads);
}

// ---- registration ----

std::string Name(std::string_view family, const BenchConfig& cfg, std::string_view rest) {
  return rest.empty() ? fmt::format("{}/{}", family, cfg.name) : fmt::format("{}/{}/{}", family, cfg.name, rest);
}

std::vector<int> ThreadCounts() {
  std::vector<int> t = {1, 2};
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  if (hw > 2) t.push_back(std::min(hw, 8));
  return t;
}

void RegisterZoned(const BenchConfig& cfg, Backend* dev) {
  for (uint32_t n : {1u, 64u, 1024u, 0u}) {
    if (n >= dev->limits().nr_zones) continue;  // "all" covers it
    benchmark::RegisterBenchmark(Name("Report", cfg, n ? fmt::format("zones:{}", n) : "zones:all").c_str(),
                                 Report, dev, n)
        ->UseRealTime();
  }
  if (!DestructiveAllowed(cfg)) return;
  const std::pair<const char*, Mgmt> ops[] = {{"open", Mgmt::kOpen},     {"close", Mgmt::kClose},
                                              {"finish", Mgmt::kFinish}, {"reset", Mgmt::kReset},
                                              {"reset-all", Mgmt::kResetAll}};
  for (const auto& [name, op] : ops)
    benchmark::RegisterBenchmark(Name("ZoneMgmt", cfg, fmt::format("op:{}", name)).c_str(),
                                 ZoneMgmtLatency, dev, op)
        ->UseManualTime();
  if (dev->limits().max_append_bytes == 0) return;
  for (size_t bs : {size_t{4096}, size_t{65536}}) {
    if (bs > dev->limits().max_append_bytes) continue;
    auto* b = benchmark::RegisterBenchmark(Name("Append", cfg, fmt::format("bs:{}/mode:sync", bs)).c_str(),
                                           AppendSync, dev, bs, cfg.in_memory);
    b->UseRealTime();
    for (int t : ThreadCounts()) b->Threads(t);
    const std::vector<unsigned> depths =
        cfg.queue_capable ? std::vector<unsigned>{1, 4, 16, 64} : std::vector<unsigned>{1, 16};
    for (unsigned qd : depths)
      benchmark::RegisterBenchmark(Name("Append", cfg, fmt::format("bs:{}/qd:{}", bs, qd)).c_str(),
                                   AppendQueue, dev, bs, qd, cfg.in_memory)
          ->UseRealTime();
  }
  const Limits& l = dev->limits();
  uint32_t open = l.max_open_zones ? l.max_open_zones : 8;
  if (l.max_active_zones) open = std::min(open, l.max_active_zones);
  for (size_t bs : {size_t{4096}, size_t{65536}})
    benchmark::RegisterBenchmark(Name("Mixed", cfg, fmt::format("zones:{}/bs:{}/read:25", open, bs)).c_str(),
                                 Mixed, dev, bs, open)
        ->UseRealTime()
        ->Threads(1)
        ->Threads(2);
}

void RegisterConfig(const BenchConfig& cfg) {
  auto dev = Device(cfg);
  if (!dev.ok()) {
    std::string why = dev.status().ToString();
    benchmark::RegisterBenchmark(Name("Unavailable", cfg, "reason:open").c_str(), Unavailable, why);
    fmt::print(stderr, "zbl-bench: skipping config '{}': {}\n", cfg.name, why);
    return;
  }
  benchmark::AddCustomContext("zbl_config." + cfg.name, cfg.options);
  if ((*dev)->limits().zoned()) RegisterZoned(cfg, *dev);
  if (!DestructiveAllowed(cfg)) {
    benchmark::RegisterBenchmark(Name("Unavailable", cfg, "reason:destructive").c_str(), Unavailable,
                                 "writes and zone management need ZBL_ALLOW_DESTRUCTIVE=1");
    return;
  }
  for (size_t bs : {size_t{4096}, size_t{16384}, size_t{65536}, size_t{262144}, size_t{1048576}})
    benchmark::RegisterBenchmark(Name("SeqWrite", cfg, fmt::format("bs:{}", bs)).c_str(), SeqWrite, *dev, bs,
                                 cfg.in_memory)
        ->UseRealTime();
  if (!cfg.queue_capable || (*dev)->limits().zoned()) return;
  for (size_t bs : {size_t{4096}, size_t{65536}})
    for (unsigned qd : {1u, 4u, 16u, 64u})
      benchmark::RegisterBenchmark(Name("SeqWrite", cfg, fmt::format("bs:{}/qd:{}", bs, qd)).c_str(),
                                   SeqWriteQueue, *dev, bs, qd)
          ->UseRealTime();
}

}  // namespace

void RegisterAll(const std::vector<BenchConfig>& cfgs) {
  auto* b = benchmark::RegisterBenchmark("Baseline/memcpy4k", BaselineMemcpy4k)->UseRealTime();
  for (int t : ThreadCounts()) b->Threads(t);
  for (const auto& cfg : cfgs) RegisterConfig(cfg);
}

}  // namespace zbl::bench
