// Backend-level request validation, checked through the emulated device.
#include "zbl/backend.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "zbl/driver.h"

namespace zbl {
namespace {

constexpr uint64_t kZone = 1 << 20;

std::unique_ptr<Backend> OpenOrDie(const std::string& opts) {
  auto b = Backend::Open(opts);
  EXPECT_TRUE(b.ok()) << opts << ": " << b.status().ToString();
  return b.ok() ? std::move(*b) : nullptr;
}

std::unique_ptr<Backend> Hm() {
  return OpenOrDie("driver=emulated,size=16M,zone-size=1M,conventional-zones=1,block-size=4096");
}

TEST(Backend, LimitsComeFromTheLeaf) {
  auto b = Hm();
  EXPECT_EQ(b->model(), ZoneModel::kHostManaged);
  EXPECT_EQ(b->limits().zone_size, kZone);
  EXPECT_EQ(b->limits().nr_zones, 16u);
  EXPECT_EQ(b->limits().logical_block_size, 4096u);
  EXPECT_EQ(b->GraphString(), "emulated");
  EXPECT_NE(b->Describe().find("zoned model: HM"), std::string::npos);
}

TEST(Backend, MisalignedAndOutOfRangeIoIsEinvalAndChangesNothing) {
  auto b = Hm();
  std::vector<uint8_t> buf(8192, 0xab);
  auto before = b->ReportZones(0, 0);
  ASSERT_TRUE(before.ok());
  struct Case { uint64_t off; size_t len; };
  for (Case c : {Case{kZone + 512, 4096}, Case{kZone, 100}, Case{16 * kZone, 4096},
                 Case{16 * kZone - 4096, 8192}, Case{~uint64_t{0} - 4095, 4096}}) {
    Status w = b->Write(c.off, buf.data(), c.len);
    EXPECT_EQ(w.code(), EINVAL) << w.ToString();
    Status r = b->Read(c.off, buf.data(), c.len);
    EXPECT_EQ(r.code(), EINVAL) << r.ToString();
  }
  EXPECT_EQ(*b->ReportZones(0, 0), *before);
}

TEST(Backend, ZeroLengthIoIsANoOp) {
  auto b = Hm();
  EXPECT_TRUE(b->Write(kZone * 3, nullptr, 0).ok());
  EXPECT_TRUE(b->Read(0, nullptr, 0).ok());
  EXPECT_EQ((*b->ReportZones(kZone * 3, 1))[0].condition, ZoneCondition::kEmpty);
}

TEST(Backend, ZoneRangeRules) {
  auto b = Hm();
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kOpen, kZone + 4096, kZone).code(), EINVAL);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kOpen, kZone, 4096).code(), EINVAL);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kOpen, kZone, 0).code(), EINVAL);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kOpen, 16 * kZone, kZone).code(), EINVAL);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kOpen, 15 * kZone, 2 * kZone).code(), EINVAL);
  EXPECT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 2 * kZone, 2 * kZone).ok());
  auto z = b->ReportZones(2 * kZone, 2);
  EXPECT_EQ((*z)[0].condition, ZoneCondition::kExplicitOpen);
  EXPECT_EQ((*z)[1].condition, ZoneCondition::kExplicitOpen);
}

TEST(Backend, WholeDeviceResetIsResetAll) {
  auto b = Hm();
  std::vector<uint8_t> buf(4096, 1);
  ASSERT_TRUE(b->Write(0, buf.data(), buf.size()).ok());  // conventional zone
  ASSERT_TRUE(b->Write(5 * kZone, buf.data(), buf.size()).ok());
  // Reset of a range that includes a conventional zone fails; the whole device is reset-all.
  EXPECT_TRUE(b->ZoneMgmt(ZoneOp::kReset, 0, b->size()).ok());
  EXPECT_EQ((*b->ReportZones(5 * kZone, 1))[0].condition, ZoneCondition::kEmpty);
  std::vector<uint8_t> back(4096);
  ASSERT_TRUE(b->Read(0, back.data(), back.size()).ok());
  EXPECT_EQ(back, buf);  // conventional data survives reset-all
}

TEST(Backend, AppendChecks) {
  auto b = Hm();
  std::vector<uint8_t> buf(2 << 20, 7);
  EXPECT_EQ(b->ZoneAppend(kZone + 4096, buf.data(), 4096).status().code(), EINVAL);
  EXPECT_EQ(b->ZoneAppend(kZone, buf.data(), 0).status().code(), EINVAL);
  EXPECT_EQ(b->ZoneAppend(kZone, buf.data(), 100).status().code(), EINVAL);
  EXPECT_EQ(b->ZoneAppend(16 * kZone, buf.data(), 4096).status().code(), EINVAL);
  EXPECT_EQ(b->ZoneAppend(kZone, buf.data(), (1 << 20) + 4096).status().code(), EINVAL);
  auto at = b->ZoneAppend(kZone, buf.data(), 4096);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, kZone);
}

TEST(Backend, NonZonedDeviceRefusesZoneCommands) {
  auto b = OpenOrDie("driver=emulated,model=none,size=8M");
  EXPECT_EQ(b->model(), ZoneModel::kNone);
  EXPECT_EQ(b->ReportZones(0, 1).status().code(), ENOTSUP);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kOpen, 0, 1 << 20).code(), ENOTSUP);
  EXPECT_EQ(b->ZoneResetAll().code(), ENOTSUP);
  char buf[4096] = {1};
  EXPECT_EQ(b->ZoneAppend(0, buf, sizeof buf).status().code(), ENOTSUP);
  EXPECT_TRUE(b->Write(12288, buf, sizeof buf).ok());  // writes anywhere
  char back[4096];
  EXPECT_TRUE(b->Read(12288, back, sizeof back).ok());
  EXPECT_EQ(std::memcmp(buf, back, sizeof buf), 0);
}

TEST(Backend, ReportFromTheEndGivesNoZones) {
  auto b = Hm();
  auto z = b->ReportZones(b->size(), 4);
  ASSERT_TRUE(z.ok());
  EXPECT_TRUE(z->empty());
  z = b->ReportZones(15 * kZone + 4096, 4);  // from inside the last zone
  ASSERT_TRUE(z.ok());
  ASSERT_EQ(z->size(), 1u);
  EXPECT_EQ((*z)[0].start, 15 * kZone);
}

TEST(Backend, QueueCompletesEachSubmittedRequestOnce) {
  auto b = Hm();
  auto q = b->CreateQueue(4);
  ASSERT_TRUE(q.ok());
  std::vector<uint8_t> buf(4096, 3);
  int completions = 0;
  IoRequest reqs[4];
  for (int i = 0; i < 4; ++i) {
    reqs[i].op = IoRequest::Op::kAppend;
    reqs[i].offset = 2 * kZone;
    reqs[i].buf = buf.data();
    reqs[i].len = buf.size();
    reqs[i].user = &completions;
    reqs[i].done = [](IoRequest* r) { ++*static_cast<int*>(r->user); };
    ASSERT_TRUE((*q)->Submit(&reqs[i]).ok());
  }
  IoRequest bad = reqs[0];
  bad.offset = 2 * kZone + 4096;  // not a zone start: fails now, never completes
  EXPECT_EQ((*q)->Submit(&bad).code(), EINVAL);
  auto n = (*q)->Reap(4);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(completions, 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(reqs[i].error, 0);
    EXPECT_EQ(reqs[i].result_offset, 2 * kZone + 4096u * i);
  }
  EXPECT_EQ(*(*q)->Reap(0), 0u);
}

TEST(Backend, StatsCountRequestsAndErrors) {
  auto b = Hm();
  char buf[4096] = {};
  ASSERT_TRUE(b->Write(3 * kZone, buf, sizeof buf).ok());
  EXPECT_FALSE(b->Write(3 * kZone, buf, sizeof buf).ok());  // no longer at the write pointer
  BackendStats s = b->stats();
  EXPECT_EQ(s.writes, 2u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.bytes_written, 4096u);
}

// Counts stay exact when threads share a shard (more threads than shards).
TEST(Backend, StatsAreExactUnderManyThreads) {
  auto b = OpenOrDie("driver=emulated,model=none,size=16M");
  constexpr int kThreads = 24, kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      char buf[4096] = {};
      for (int i = 0; i < kEach; ++i) EXPECT_TRUE(b->Write(uint64_t(t) * 4096, buf, sizeof buf).ok());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(b->stats().writes, uint64_t{kThreads} * kEach);
  EXPECT_EQ(b->stats().bytes_written, uint64_t{kThreads} * kEach * 4096);
}

}  // namespace
}  // namespace zbl
