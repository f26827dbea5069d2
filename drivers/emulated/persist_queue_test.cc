// The persistent emulated device's own queue (persist_queue.h): writes to many zones in flight
// at once, appends taking their offsets at submission, ordering at the write pointer within a
// zone, FULL only once the filling write lands, resets refused while writes are in flight, a
// failed data write failing the zone's later ones, and what a flush with writes in flight
// persists (never a write pointer past completed data).
#include "persist_queue.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "file/test_util.h"
#include "persist_pattern.h"
#include "zbl/backend.h"

namespace zbl::emulated {
namespace {

using zbl::testing::TempDir;

constexpr uint64_t kZone = 1 << 20;
constexpr uint64_t kBlock = 4096;
// Zone 0 conventional, 15 sequential zones of 1 MiB; data starts 1 MiB into the image.
const std::string kGeometry = ",size=16M,zone-size=1M,conventional-zones=1";
constexpr uint64_t kDataOffset = 1 << 20;

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};

// Requests with their own aligned buffers, each filled with the pattern of its offset.
class Requests {
 public:
  explicit Requests(size_t n) : reqs_(n), bufs_(n) {
    for (size_t i = 0; i < n; ++i) {
      bufs_[i].reset(static_cast<uint8_t*>(std::aligned_alloc(4096, kBlock * 4)));
      reqs_[i].done = &Requests::Done;
      reqs_[i].user = this;
    }
  }
  IoRequest* Write(size_t i, IoRequest::Op op, uint64_t target, uint64_t data_at, uint64_t len) {
    IoRequest& r = reqs_[i];
    persist_test::Fill(bufs_[i].get(), data_at, len);
    r.op = op;
    r.offset = target;
    r.buf = bufs_[i].get();
    r.len = len;
    r.error = -1;
    r.result_offset = 0;
    return &r;
  }
  IoRequest& operator[](size_t i) { return reqs_[i]; }
  std::vector<IoRequest*> completed;

 private:
  static void Done(IoRequest* r) { static_cast<Requests*>(r->user)->completed.push_back(r); }
  std::vector<IoRequest> reqs_;
  std::vector<std::unique_ptr<uint8_t, AlignedFree>> bufs_;
};

class PersistQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { img_ = dir_.File("disk.img"); }
  std::string Opts(const std::string& child_extra = ",file.cache.direct=on") const {
    return "driver=emulated" + kGeometry + ",file.driver=file,file.filename=" + img_ + child_extra;
  }
  std::unique_ptr<Backend> Open(const std::string& opts) {
    auto b = Backend::Open(opts);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(*b) : nullptr;
  }
  static Zone ZoneAt(Backend& b, uint64_t off) { return (*b.ReportZones(off, 1))[0]; }
  static void ExpectData(Backend& b, uint64_t off, uint64_t len) {
    std::vector<uint8_t> back(len);
    ASSERT_TRUE(b.Read(off, back.data(), len).ok());
    EXPECT_EQ(persist_test::FirstMismatch(back.data(), off, len), off + len) << "at " << off;
  }
  static void ReapAll(IoQueue& q) {
    while (q.inflight() > 0) {
      auto n = q.Reap(1);
      ASSERT_TRUE(n.ok()) << n.status().ToString();
    }
  }
  // The image as a crash right now would leave it (the file's bytes), reopened.
  std::unique_ptr<Backend> OpenCopy() {
    const std::string copy = dir_.File("copy.img");
    std::filesystem::copy_file(img_, copy, std::filesystem::copy_options::overwrite_existing);
    return Open("driver=emulated,file.driver=file,file.filename=" + copy);
  }
  TempDir dir_;
  std::string img_;
};

TEST_F(PersistQueueTest, WritesToManyZonesInFlightLandAndPersist) {
  {
    auto b = Open(Opts());
    ASSERT_TRUE(b);
    auto q = b->CreateQueue(32);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    Requests reqs(32);
    // 8 zones, 4 writes each, all 32 in flight, interleaved across zones.
    for (uint64_t i = 0; i < 4; ++i) {
      for (uint64_t z = 0; z < 8; ++z) {
        const uint64_t off = (2 + z) * kZone + i * kBlock;
        ASSERT_TRUE((*q)->Submit(reqs.Write(i * 8 + z, IoRequest::Op::kWrite, off, off, kBlock)).ok());
      }
    }
    EXPECT_EQ((*q)->inflight(), 32u);
    ReapAll(**q);
    ASSERT_EQ(reqs.completed.size(), 32u);
    for (IoRequest* r : reqs.completed) EXPECT_EQ(r->error, 0) << r->offset;
    for (uint64_t z = 0; z < 8; ++z) {
      EXPECT_EQ(ZoneAt(*b, (2 + z) * kZone).write_pointer, (2 + z) * kZone + 4 * kBlock);
      ExpectData(*b, (2 + z) * kZone, 4 * kBlock);
    }
    IoRequest flush;
    flush.op = IoRequest::Op::kFlush;
    ASSERT_TRUE((*q)->Submit(&flush).ok());
    ReapAll(**q);
    EXPECT_EQ(flush.error, 0);
  }
  auto b = OpenCopy();
  ASSERT_TRUE(b);
  // Its queue overlaps requests when the file's does (io_uring), and says so.
  EXPECT_EQ(b->root().Supports(Cap::kNativeQueue), b->root().file()->Supports(Cap::kNativeQueue));
  for (uint64_t z = 0; z < 8; ++z) {
    EXPECT_EQ(ZoneAt(*b, (2 + z) * kZone).write_pointer, (2 + z) * kZone + 4 * kBlock);
    ExpectData(*b, (2 + z) * kZone, 4 * kBlock);
  }
}

TEST_F(PersistQueueTest, AppendsTakeConsecutiveOffsetsAtSubmission) {
  auto b = Open(Opts());
  ASSERT_TRUE(b);
  auto q = b->CreateQueue(16);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  Requests reqs(16);
  const uint64_t zone = 3 * kZone;
  // Appends of different sizes, then a write at the write pointer they leave: all accepted.
  uint64_t at = zone;
  for (size_t i = 0; i < 15; ++i) {
    const uint64_t len = kBlock * (1 + i % 3);
    ASSERT_TRUE((*q)->Submit(reqs.Write(i, IoRequest::Op::kAppend, zone, at, len)).ok());
    at += len;
  }
  // The write pointer moved at submission: the zone report already shows it.
  EXPECT_EQ(ZoneAt(*b, zone).write_pointer, at);
  ASSERT_TRUE((*q)->Submit(reqs.Write(15, IoRequest::Op::kWrite, at, at, kBlock)).ok());
  ReapAll(**q);
  uint64_t want = zone;
  for (size_t i = 0; i < 15; ++i) {
    EXPECT_EQ(reqs[i].error, 0);
    EXPECT_EQ(reqs[i].result_offset, want) << "append " << i;
    want += reqs[i].len;
  }
  EXPECT_EQ(reqs[15].error, 0);
  EXPECT_EQ(ZoneAt(*b, zone).write_pointer, at + kBlock);
  ExpectData(*b, zone, at + kBlock - zone);
}

TEST_F(PersistQueueTest, AWriteBehindTheAcceptedWritePointerIsRefused) {
  auto b = Open(Opts());
  ASSERT_TRUE(b);
  auto q = b->CreateQueue(4);
  ASSERT_TRUE(q.ok());
  Requests reqs(4);
  const uint64_t zone = 2 * kZone;
  ASSERT_TRUE((*q)->Submit(reqs.Write(0, IoRequest::Op::kWrite, zone, zone, kBlock)).ok());
  // Same offset again: the first one already moved the write pointer.
  ASSERT_TRUE((*q)->Submit(reqs.Write(1, IoRequest::Op::kWrite, zone, zone, kBlock)).ok());
  // A synchronous write behind the queued one is checked against it too.
  std::vector<uint8_t> d(kBlock);
  persist_test::Fill(d.data(), zone, kBlock);
  EXPECT_FALSE(b->Write(zone, d.data(), kBlock).ok());
  persist_test::Fill(d.data(), zone + kBlock, kBlock);
  EXPECT_TRUE(b->Write(zone + kBlock, d.data(), kBlock).ok());
  ReapAll(**q);
  EXPECT_EQ(reqs[0].error, 0);
  EXPECT_NE(reqs[1].error, 0);
  EXPECT_EQ(ZoneAt(*b, zone).write_pointer, zone + 2 * kBlock);
  ExpectData(*b, zone, 2 * kBlock);
}

TEST_F(PersistQueueTest, ZoneIsFullOnlyOnceTheFillingWriteLands) {
  auto b = Open(Opts());
  ASSERT_TRUE(b);
  auto q = b->CreateQueue(32);
  ASSERT_TRUE(q.ok());
  Requests reqs(32);
  const uint64_t zone = 4 * kZone;
  std::vector<uint8_t> d(kZone - 4 * kBlock);
  persist_test::Fill(d.data(), zone, d.size());
  ASSERT_TRUE(b->Write(zone, d.data(), d.size()).ok());
  for (uint64_t i = 0; i < 4; ++i) {
    const uint64_t off = zone + kZone - 4 * kBlock + i * kBlock;
    ASSERT_TRUE((*q)->Submit(reqs.Write(i, IoRequest::Op::kWrite, off, off, kBlock)).ok());
  }
  Zone z = ZoneAt(*b, zone);
  EXPECT_EQ(z.write_pointer, zone + kZone);
  if ((*q)->inflight() == 4) {  // nothing completed yet (completions come only from Reap)
    EXPECT_EQ(z.condition, ZoneCondition::kImplicitOpen);
  }
  // A further append is refused: the zone is taken up to its capacity.
  ASSERT_TRUE((*q)->Submit(reqs.Write(4, IoRequest::Op::kAppend, zone, zone + kZone, kBlock)).ok());
  ReapAll(**q);
  EXPECT_NE(reqs[4].error, 0);
  z = ZoneAt(*b, zone);
  EXPECT_EQ(z.condition, ZoneCondition::kFull);
  ExpectData(*b, zone, kZone);
}

TEST_F(PersistQueueTest, ResetWithWritesInFlightIsRefusedThenWorks) {
  auto b = Open(Opts());
  ASSERT_TRUE(b);
  auto q = b->CreateQueue(8);
  ASSERT_TRUE(q.ok());
  Requests reqs(8);
  const uint64_t zone = 5 * kZone;
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_TRUE((*q)->Submit(reqs.Write(i, IoRequest::Op::kAppend, zone, zone + i * kBlock, kBlock)).ok());
  }
  Status st = b->ZoneMgmt(ZoneOp::kReset, zone, kZone);
  if ((*q)->inflight() == 8) {
    EXPECT_EQ(st.code(), EBUSY) << st.ToString();
    EXPECT_EQ(ZoneAt(*b, zone).write_pointer, zone + 8 * kBlock);  // unchanged
  }
  ReapAll(**q);
  for (uint64_t i = 0; i < 8; ++i) EXPECT_EQ(reqs[i].error, 0);
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kReset, zone, kZone).ok());
  EXPECT_EQ(ZoneAt(*b, zone).condition, ZoneCondition::kEmpty);
}

TEST_F(PersistQueueTest, FlushWithWritesInFlightPersistsOnlyCompletedData) {
  auto b = Open(Opts());
  ASSERT_TRUE(b);
  const uint64_t zone = 6 * kZone, empty = 8 * kZone;
  std::vector<uint8_t> d(2 * kBlock);
  persist_test::Fill(d.data(), zone, d.size());
  ASSERT_TRUE(b->Write(zone, d.data(), d.size()).ok());
  auto q = b->CreateQueue(16);
  ASSERT_TRUE(q.ok());
  Requests reqs(16);
  // Half into the open zone behind the synchronous write, half into an empty zone (which the
  // first of them opens, a change the backing records at submission).
  for (uint64_t i = 0; i < 8; ++i) {
    const uint64_t off = zone + (2 + i) * kBlock, off2 = empty + i * kBlock;
    ASSERT_TRUE((*q)->Submit(reqs.Write(i, IoRequest::Op::kWrite, off, off, kBlock)).ok());
    ASSERT_TRUE((*q)->Submit(reqs.Write(8 + i, IoRequest::Op::kWrite, off2, off2, kBlock)).ok());
  }
  const unsigned pending = (*q)->inflight();
  ASSERT_TRUE(b->Flush().ok());  // covers the synchronous write; the queued ones are not done
  {
    auto c = OpenCopy();
    ASSERT_TRUE(c);
    const Zone z = ZoneAt(*c, zone), e = ZoneAt(*c, empty);
    EXPECT_GE(z.write_pointer, zone + 2 * kBlock) << "a flushed write was lost";
    if (pending == 16) {  // completions come only from Reap
      EXPECT_EQ(z.write_pointer, zone + 2 * kBlock) << "persisted past completed data";
      EXPECT_EQ(e.write_pointer, empty) << "persisted past completed data";
      EXPECT_EQ(e.condition, ZoneCondition::kEmpty);
    }
    ExpectData(*c, zone, z.write_pointer - zone);
    ExpectData(*c, empty, e.write_pointer - empty);
  }
  ReapAll(**q);
  IoRequest flush;
  flush.op = IoRequest::Op::kFlush;
  ASSERT_TRUE((*q)->Submit(&flush).ok());
  ReapAll(**q);
  ASSERT_EQ(flush.error, 0);
  auto c = OpenCopy();
  ASSERT_TRUE(c);
  EXPECT_EQ(ZoneAt(*c, zone).write_pointer, zone + 10 * kBlock);
  EXPECT_EQ(ZoneAt(*c, empty).write_pointer, empty + 8 * kBlock);
  ExpectData(*c, zone, 10 * kBlock);
  ExpectData(*c, empty, 8 * kBlock);
}

TEST_F(PersistQueueTest, AFailedDataWriteFailsTheZonesLaterWritesAndTheZoneResumes) {
  ASSERT_TRUE(Open(Opts()));  // create the image through the file driver
  const uint64_t zone = 7 * kZone;
  // The third block's data write fails once (blkdebug between the device and its file).
  const std::string opts = "driver=emulated" + kGeometry +
                           ",file.driver=blkdebug,file.inject-error.0.event=write,"
                           "file.inject-error.0.once=on,file.inject-error.0.offset=" +
                           std::to_string(kDataOffset + zone + 2 * kBlock) +
                           ",file.inject-error.0.length=4096,file.file.driver=file,"
                           "file.file.filename=" + img_;
  auto b = Open(opts);
  ASSERT_TRUE(b);
  auto q = b->CreateQueue(8);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  Requests reqs(8);
  for (uint64_t i = 0; i < 6; ++i) {
    const uint64_t off = zone + i * kBlock;
    ASSERT_TRUE((*q)->Submit(reqs.Write(i, IoRequest::Op::kWrite, off, off, kBlock)).ok());
  }
  ReapAll(**q);
  EXPECT_EQ(reqs[0].error, 0);
  EXPECT_EQ(reqs[1].error, 0);
  for (int i = 2; i < 6; ++i) EXPECT_NE(reqs[i].error, 0) << "write " << i;
  // The zone resumes after the completed prefix, and takes writes there again.
  EXPECT_EQ(ZoneAt(*b, zone).write_pointer, zone + 2 * kBlock);
  ASSERT_TRUE((*q)->Submit(reqs.Write(6, IoRequest::Op::kAppend, zone, zone + 2 * kBlock, kBlock)).ok());
  ReapAll(**q);
  EXPECT_EQ(reqs[6].error, 0);
  EXPECT_EQ(reqs[6].result_offset, zone + 2 * kBlock);
  ExpectData(*b, zone, 3 * kBlock);
}

TEST_F(PersistQueueTest, AppendsFromFourThreadsQueuesNeverOverlap) {
  auto b = Open(Opts());
  ASSERT_TRUE(b);
  const uint64_t zone = 9 * kZone;
  constexpr int kThreads = 4, kPerThread = 48;  // 192 x 4 KiB < the 1 MiB zone
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> got(kThreads);  // (offset, tag)
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      auto q = b->CreateQueue(8);
      ASSERT_TRUE(q.ok());
      Requests reqs(8);
      std::vector<size_t> free = {0, 1, 2, 3, 4, 5, 6, 7};
      std::vector<uint64_t> tags(8);
      int sent = 0;
      while (sent < kPerThread || (*q)->inflight() > 0) {
        if (sent < kPerThread && !free.empty()) {
          const size_t i = free.back();
          free.pop_back();
          // Each block carries the pattern of its thread and sequence number, not of an offset:
          // the offset is known only when the append completes.
          tags[i] = uint64_t(t + 1) << 32 | uint64_t(sent) << 16;
          IoRequest* r = reqs.Write(i, IoRequest::Op::kAppend, zone, tags[i], kBlock);
          ASSERT_TRUE((*q)->Submit(r).ok());
          ++sent;
          continue;
        }
        ASSERT_TRUE((*q)->Reap(1).ok());
        for (IoRequest* r : reqs.completed) {
          EXPECT_EQ(r->error, 0);
          for (size_t k = 0; k < 8; ++k) {
            if (&reqs[k] == r) {
              free.push_back(k);
              got[t].emplace_back(r->result_offset, tags[k]);
            }
          }
        }
        reqs.completed.clear();
      }
    });
  }
  for (auto& t : ts) t.join();
  std::set<uint64_t> offsets;
  std::vector<uint8_t> back(kBlock);
  for (const auto& v : got) {
    for (const auto& [off, tag] : v) {
      offsets.insert(off);
      ASSERT_TRUE(b->Read(off, back.data(), kBlock).ok());
      EXPECT_EQ(persist_test::FirstMismatch(back.data(), tag, kBlock), tag + kBlock)
          << "the block at " << off << " is not the append that was told it landed there";
    }
  }
  ASSERT_EQ(offsets.size(), size_t(kThreads * kPerThread)) << "two appends got one offset";
  EXPECT_EQ(*offsets.begin(), zone);
  EXPECT_EQ(*offsets.rbegin(), zone + (kThreads * kPerThread - 1) * kBlock);
  EXPECT_EQ(ZoneAt(*b, zone).write_pointer, zone + kThreads * kPerThread * kBlock);
}

}  // namespace
}  // namespace zbl::emulated
