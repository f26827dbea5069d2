// driver=blkdebug: rule parsing, when rules fire, and that an injected failure changes nothing.
#include "blkdebug.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "zbl/backend.h"

namespace zbl::blkdebug {
namespace {

constexpr uint64_t kZone = 1 << 20;
const std::string kChild = "file.driver=emulated,file.size=8M,file.zone-size=1M,file.max-open-zones=2";

std::unique_ptr<Backend> Open(const std::string& rules) {
  auto b = Backend::Open("driver=blkdebug," + rules + (rules.empty() ? "" : ",") + kChild);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(*b) : nullptr;
}

std::vector<uint8_t> Block(uint8_t v, size_t n = 4096) { return std::vector<uint8_t>(n, v); }

TEST(Blkdebug, PassesThroughWithoutRules) {
  auto b = Open("");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->GraphString(), "blkdebug -> emulated");
  EXPECT_EQ(b->limits().zone_size, kZone);
  EXPECT_EQ(b->limits().max_open_zones, 2u);
  auto d = Block(7);
  ASSERT_TRUE(b->Write(kZone, d.data(), d.size()).ok());
  auto at = b->ZoneAppend(kZone, d.data(), d.size());
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, kZone + 4096);
  std::vector<uint8_t> back(4096);
  ASSERT_TRUE(b->Read(kZone + 4096, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
}

TEST(Blkdebug, WriteRuleFiresAfterNAndOnce) {
  auto b = Open("inject-error.0.event=write,inject-error.0.errno=28,inject-error.0.once=on,"
                "inject-error.0.after=3");
  ASSERT_TRUE(b);
  auto d = Block(1);
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(b->Write(i * 4096, d.data(), d.size()).ok()) << i;
  Status st = b->Write(3 * 4096, d.data(), d.size());
  EXPECT_EQ(st.code(), 28);
  EXPECT_NE(st.message().find("injected"), std::string::npos) << st.ToString();
  ASSERT_TRUE(b->Write(3 * 4096, d.data(), d.size()).ok());  // once: retired
  EXPECT_EQ(FiredCounts(b->root()), std::vector<uint64_t>{1});
}

TEST(Blkdebug, EveryNthAndEventsAreSeparate) {
  auto b = Open("inject-error.0.event=append,inject-error.0.every=2");
  ASSERT_TRUE(b);
  auto d = Block(2);
  int failed = 0;
  for (int i = 0; i < 6; ++i) failed += !b->ZoneAppend(0, d.data(), d.size()).ok();
  EXPECT_EQ(failed, 3);  // matches 0, 2, 4 fire
  EXPECT_TRUE(b->Write(3 * 4096, d.data(), d.size()).ok());  // appends advanced the wp to 3 blocks
  EXPECT_TRUE(b->ReportZones(0, 0).ok());
}

TEST(Blkdebug, ZoneAndOffsetRestrictRules) {
  auto b = Open("inject-error.0.event=reset,inject-error.0.zone=2,"
                "inject-error.1.event=read,inject-error.1.offset=5M,inject-error.1.length=4k");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->ZoneMgmt(ZoneOp::kReset, kZone, kZone).ok());
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kReset, 2 * kZone, kZone).code(), EIO);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kReset, kZone, 2 * kZone).code(), EIO);  // range touches zone 2
  std::vector<uint8_t> buf(8192);
  EXPECT_TRUE(b->Read(4 * kZone, buf.data(), buf.size()).ok());
  EXPECT_EQ(b->Read(5 * kZone - 4096, buf.data(), buf.size()).code(), EIO);  // overlaps 5M
  EXPECT_TRUE(b->Read(5 * kZone + 4096, buf.data(), buf.size()).ok());
}

TEST(Blkdebug, EveryEventCanFail) {
  const char* events[] = {"read", "write", "append", "open", "close", "finish", "reset",
                          "reset-all", "report", "flush"};
  for (const char* e : events) {
    SCOPED_TRACE(e);
    auto b = Open(std::string("inject-error.0.event=") + e + ",inject-error.0.errno=61");
    ASSERT_TRUE(b);
    auto d = Block(3);
    std::vector<uint8_t> buf(4096);
    std::vector<int> codes = {
        b->Read(0, buf.data(), buf.size()).code(),
        b->Write(0, d.data(), d.size()).code(),
        b->ZoneAppend(0, d.data(), d.size()).status().code(),
        b->ZoneMgmt(ZoneOp::kOpen, kZone, kZone).code(),
        b->ZoneMgmt(ZoneOp::kClose, 0, kZone).code(),  // zone 0: opened by write or append
        b->ZoneMgmt(ZoneOp::kFinish, kZone, kZone).code(),
        b->ZoneMgmt(ZoneOp::kReset, kZone, kZone).code(),
        b->ZoneResetAll().code(),
        b->ReportZones(0, 0).status().code(),
        b->Flush().code(),
    };
    int failures = 0;
    for (size_t i = 0; i < codes.size(); ++i) {
      EXPECT_EQ(codes[i], std::string(events[i]) == e ? 61 : 0) << events[i];
      failures += codes[i] != 0;
    }
    EXPECT_EQ(failures, 1);
  }
}

// An injected write failure changes nothing above or below: the zone report, the data and the
// write pointer are as before, and the same write then succeeds.
TEST(Blkdebug, FailedWriteChangesNothing) {
  auto b = Open("inject-error.0.event=write,inject-error.0.after=1,inject-error.0.once=on");
  ASSERT_TRUE(b);
  auto d1 = Block(0x11), d2 = Block(0x22);
  ASSERT_TRUE(b->Write(kZone, d1.data(), d1.size()).ok());
  auto before = b->ReportZones(0, 0);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(b->Write(kZone + 4096, d2.data(), d2.size()).code(), EIO);
  auto after = b->ReportZones(0, 0);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*before, *after);
  std::vector<uint8_t> back(8192, 0xff);
  ASSERT_TRUE(b->Read(kZone, back.data(), back.size()).ok());
  EXPECT_TRUE(std::equal(d1.begin(), d1.end(), back.begin()));
  EXPECT_FALSE(std::equal(d2.begin(), d2.end(), back.begin() + 4096));  // d2 never landed
  ASSERT_TRUE(b->Write(kZone + 4096, d2.data(), d2.size()).ok());
  EXPECT_EQ((*b->ReportZones(kZone, 1))[0].write_pointer, kZone + 8192);
}

TEST(Blkdebug, RefusesBadRules) {
  const char* bad[] = {
      "inject-error.0.event=nope",
      "inject-error.0.errno=5",               // no event
      "inject-error.0.event=read,inject-error.0.errno=0",
      "inject-error.0.event=read,inject-error.0.every=0",
      "inject-error.0.event=read,inject-error.0.bogus=1",
      "inject-error.x.event=read",
      "inject-error.event=read",
      "inject-error.0.event=read,inject-error.0.deep.key=1",
      "inject-error.0.event=read,inject-error.00.event=write",
  };
  for (const char* r : bad) {
    auto b = Backend::Open(std::string("driver=blkdebug,") + r + "," + kChild);
    EXPECT_FALSE(b.ok()) << r;
    if (!b.ok()) {
      EXPECT_EQ(b.status().code(), EINVAL) << r << ": " << b.status().ToString();
    }
  }
  EXPECT_FALSE(Backend::Open("driver=blkdebug").ok());  // no child
  // Other drivers still refuse an unknown subtree.
  auto b = Backend::Open("driver=emulated,size=8M,zone-size=1M,inject-error.0.event=read");
  EXPECT_EQ(b.status().code(), EINVAL);
}

TEST(Blkdebug, ConcurrentRequestsCountExactly) {
  auto b = Open("inject-error.0.event=read,inject-error.0.every=4");
  ASSERT_TRUE(b);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      std::vector<uint8_t> buf(4096);
      for (int i = 0; i < 1000; ++i) failed += !b->Read(0, buf.data(), buf.size()).ok();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 2000);
  EXPECT_EQ(FiredCounts(b->root()), std::vector<uint64_t>{2000});
}

// Over an io_uring file, blkdebug keeps the child's queue (FilterNode forwards CreateQueue) and
// its rules fire for queued requests too: the refused one completes with the rule's errno.
TEST(Blkdebug, QueuedRequestsKeepTheChildsQueueAndRulesFire) {
  char tmpl[] = "/tmp/zbl-blkdebug-XXXXXX";
  const int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
  close(fd);
  const std::string path = tmpl;
  auto b = Backend::Open("driver=blkdebug,inject-error.0.event=write,inject-error.0.after=1,"
                         "inject-error.0.once=on,file.driver=file,file.filename=" + path);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto child = (*b)->root().file()->capabilities();
  EXPECT_EQ((*b)->capabilities(), child);
  EXPECT_EQ(child.Has(Cap::kNativeQueue), (*b)->root().file()->Supports(Cap::kNativeQueue));
  auto q = (*b)->CreateQueue(4);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  std::vector<uint8_t> d(4096, 3);
  IoRequest r[3];
  for (int i = 0; i < 3; ++i) {
    r[i].op = IoRequest::Op::kWrite;
    r[i].offset = uint64_t(i) * 4096;
    r[i].buf = d.data();
    r[i].len = 4096;
    ASSERT_TRUE((*q)->Submit(&r[i]).ok());
  }
  unsigned n = 0;
  while (n < 3) {
    auto got = (*q)->Reap(1);
    ASSERT_TRUE(got.ok());
    n += *got;
  }
  EXPECT_EQ(r[0].error, 0);
  EXPECT_EQ(r[1].error, EIO);
  EXPECT_EQ(r[2].error, 0);
  EXPECT_EQ(FiredCounts((*b)->root()), std::vector<uint64_t>{1});
  std::vector<uint8_t> back(4096, 0xff);
  ASSERT_TRUE((*b)->Read(4096, back.data(), back.size()).ok());
  EXPECT_EQ(back, std::vector<uint8_t>(4096, 0));  // the refused write never reached the file
  q->reset();
  b->reset();
  unlink(path.c_str());
}

}  // namespace
}  // namespace zbl::blkdebug
