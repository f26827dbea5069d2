// Concurrency: many threads appending to one zone and writing distinct zones lose nothing and
// never overlap.
#include <atomic>
#include <set>
#include <thread>

#include "fixture.h"

namespace zbl::suites {
namespace {

constexpr unsigned kThreads = 4;

class Concurrency : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    wb_ = facts().wblock;
  }
  uint64_t wb_ = 0;
};

TEST_P(Concurrency, AppendsToOneZoneNeitherOverlapNorLose) {
  ZBL_REQUIRE_ZONED();
  ZBL_REQUIRE(lim().max_append_bytes >= wb_, "the device has no zone append");
  ZBL_REQUIRE_SEQ(1);
  const uint32_t z = *SeqZone(0);
  const uint64_t blocks = std::min<uint64_t>(Cap(z) / wb_, 256);
  const uint64_t per_thread = blocks / kThreads;
  std::vector<std::vector<uint64_t>> offsets(kThreads);
  std::atomic<unsigned> failures{0};
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (uint64_t i = 0; i < per_thread; ++i) {
        // The block's content names its thread and sequence number.
        std::vector<uint8_t> b = Pattern(0, wb_, t * 100000 + static_cast<uint32_t>(i) + 1);
        auto r = dev().ZoneAppend(ZoneStart(z), b.data(), b.size());
        if (!r.ok()) {
          failures.fetch_add(1);
          continue;
        }
        offsets[t].push_back(*r);
      }
    });
  for (auto& th : ts) th.join();
  EXPECT_EQ(failures.load(), 0u);
  std::set<uint64_t> all;
  for (unsigned t = 0; t < kThreads; ++t)
    for (uint64_t off : offsets[t]) {
      EXPECT_EQ((off - ZoneStart(z)) % wb_, 0u);
      EXPECT_TRUE(all.insert(off).second) << "two appends returned offset " << off;
    }
  ASSERT_EQ(all.size(), kThreads * per_thread);
  // Dense: every block below the write pointer was returned to exactly one append.
  EXPECT_EQ(*all.rbegin(), ZoneStart(z) + (all.size() - 1) * wb_);
  EXPECT_EQ(WpRel(z), all.size() * wb_);
  if (!DataKept()) return;
  for (unsigned t = 0; t < kThreads; ++t)
    for (size_t i = 0; i < offsets[t].size(); ++i) {
      std::vector<uint8_t> got(wb_);
      ASSERT_TRUE(dev().Read(offsets[t][i], got.data(), wb_).ok());
      ASSERT_EQ(got, Pattern(0, wb_, t * 100000 + static_cast<uint32_t>(i) + 1))
          << "thread " << t << " append " << i << " at " << offsets[t][i];
    }
}

TEST_P(Concurrency, WritersOnDistinctZones) {
  unsigned n = kThreads;
  if (lim().zoned()) {
    if (lim().max_open_zones) n = std::min(n, lim().max_open_zones);
    if (lim().max_active_zones) n = std::min(n, lim().max_active_zones);
    ZBL_REQUIRE_SEQ(n);
  }
  const uint64_t region = lim().zoned() ? std::min<uint64_t>(Cap(*SeqZone(0)), 64 * wb_) : 64 * wb_;
  auto base = [&](unsigned t) {
    return lim().zoned() ? ZoneStart(*SeqZone(t)) : uint64_t{t} * region;
  };
  std::vector<uint64_t> bases(n);
  for (unsigned t = 0; t < n; ++t) bases[t] = base(t);
  std::atomic<unsigned> failures{0};
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < n; ++t)
    ts.emplace_back([&, t] {
      for (uint64_t done = 0; done + wb_ <= region; done += wb_)
        if (!WriteP(bases[t] + done, wb_, 60 + t).ok()) failures.fetch_add(1);
    });
  for (auto& th : ts) th.join();
  EXPECT_EQ(failures.load(), 0u);
  for (unsigned t = 0; t < n; ++t) {
    EXPECT_EQ(CheckP(bases[t], region / wb_ * wb_, 60 + t), "") << "writer " << t;
    if (lim().zoned()) {
      EXPECT_EQ(WpRel(*SeqZone(t)), region / wb_ * wb_);
    }
  }
}

TEST_P(Concurrency, ReportsDuringWritesSeeMonotonicPointers) {
  ZBL_REQUIRE_HM();
  ZBL_REQUIRE_SEQ(2);
  const uint32_t a = *SeqZone(0), b = *SeqZone(1);
  const uint64_t blocks = std::min<uint64_t>(Cap(a) / wb_, 128);
  std::atomic<bool> done{false};
  std::atomic<unsigned> bad{0};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done.load()) {
      auto r = dev().ReportZones(ZoneStart(a), 2);
      if (!r.ok() || r->size() != 2) {
        bad.fetch_add(1);
        continue;
      }
      uint64_t wp = (*r)[0].write_pointer;
      if (wp < last) bad.fetch_add(1);
      last = wp;
    }
  });
  std::thread writer2([&] {
    for (uint64_t i = 0; i < blocks; ++i)
      if (!WriteP(ZoneStart(b) + i * wb_, wb_, 72).ok()) bad.fetch_add(1);
  });
  for (uint64_t i = 0; i < blocks; ++i)
    if (!WriteP(ZoneStart(a) + i * wb_, wb_, 71).ok()) bad.fetch_add(1);
  writer2.join();
  done.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(CheckP(ZoneStart(a), blocks * wb_, 71), "");
  EXPECT_EQ(CheckP(ZoneStart(b), blocks * wb_, 72), "");
}

ZBL_INSTANTIATE(Concurrency);

}  // namespace
}  // namespace zbl::suites
