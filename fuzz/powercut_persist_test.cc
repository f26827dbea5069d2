// Power cuts under the persistent emulated device: driver=emulated over driver=powercut over
// driver=file. A seeded random workload (appends, writes at the write pointer, zone ops, resets,
// flushes) runs until the cut; then the image is reopened without the filter and checked:
//  - nothing acknowledged before the last successful flush is lost (zones not reset since);
//  - no write pointer stands past written data: every byte below a reopened write pointer is
//    what an acknowledged request wrote there;
//  - a reset acknowledged after the last flush left its zone EMPTY;
//  - the report is sane (write pointers inside zones).
// Built only when the persistent emulated device (drivers/emulated/persist.*) and driver=file
// are in the tree.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <vector>

#include "blkdebug/blkdebug.h"
#include "zbl/backend.h"

namespace zbl {
namespace {

constexpr uint64_t kZone = 256 << 10;
constexpr uint32_t kZones = 8;
constexpr uint64_t kBlock = 4096;
constexpr uint64_t kImage = 4 << 20;  // header + metadata + data, rounded up generously

struct ZoneModelState {
  std::vector<uint8_t> data = std::vector<uint8_t>(kZone, 0);  // acknowledged since the reset
  uint64_t wp = 0;                // acknowledged write pointer (relative)
  uint64_t flushed_wp = 0;        // write pointer at the last successful flush
  bool reset_since_flush = false;
  bool reset_acked_since_flush = false;
  bool uncertain = false;         // the cut hit a request on this zone: either outcome is fine
};

class PowercutPersist : public ::testing::TestWithParam<int> {
 protected:
  void MakeImage() {
    image_ = std::filesystem::temp_directory_path() /
             ("zbl-powercut-" + std::to_string(getpid()) + "-" + std::to_string(GetParam()) + ".img");
    int fd = ::open(image_.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, kImage), 0);
    ::close(fd);
  }
  void TearDown() override { std::filesystem::remove(image_); }

  std::string Geometry() const {
    return fmt::format("driver=emulated,size={},zone-size={},max-open-zones=3", kZones * kZone, kZone);
  }

  std::filesystem::path image_;
};

TEST_P(PowercutPersist, NothingFlushedIsLostNoWritePointerPastData) {
  const int seed = GetParam();
  int cuts = 0;
  for (int round = 0; round < 10; ++round) {
    MakeImage();
    const uint64_t cut_seed = uint64_t(seed) * 1000 + round;
    SCOPED_TRACE(cut_seed);
    auto b = Backend::Open(Geometry() + ",file.driver=powercut,file.cut-range=120,file.cut-seed=" +
                           std::to_string(cut_seed) + ",file.file.driver=file,file.file.filename=" +
                           image_.string());
    if (!b.ok()) {
      // The cut came while the image was being created: nothing was acknowledged, and the image
      // must reopen as a fresh device or be refused cleanly.
      EXPECT_EQ(b.status().code(), EIO) << b.status().ToString();
      auto fresh = Backend::Open(Geometry() + ",file.driver=file,file.filename=" + image_.string());
      if (fresh.ok()) {
        auto zones = (*fresh)->ReportZones(0, 0);
        ASSERT_TRUE(zones.ok());
        for (const Zone& z : *zones) EXPECT_EQ(z.condition, ZoneCondition::kEmpty);
      } else {
        EXPECT_EQ(fresh.status().code(), EINVAL) << fresh.status().ToString();
      }
      ++cuts;
      continue;
    }
    Backend& d = **b;
    std::mt19937_64 rng(cut_seed);
    std::vector<ZoneModelState> zs(kZones);
    std::vector<uint8_t> buf;
    Node* cut_node = d.root().file();
    for (int i = 0; i < 400 && !blkdebug::PowerIsCut(*cut_node); ++i) {
      const uint32_t z = rng() % kZones;
      ZoneModelState& m = zs[z];
      const unsigned pick = rng() % 20;
      if (pick < 12) {  // append or write at the write pointer
        const uint64_t len = std::min<uint64_t>(kBlock * (1 + rng() % 4), kZone - m.wp);
        if (len == 0) continue;
        buf.resize(len);
        for (uint64_t k = 0; k < len; k += 8) {
          const uint64_t v = rng();
          std::memcpy(&buf[k], &v, 8);
        }
        uint64_t at = z * kZone + m.wp;
        Status st;
        if (pick < 6) {
          auto r = d.ZoneAppend(z * kZone, buf.data(), len);
          st = r.status();
          if (r.ok()) {
            EXPECT_EQ(*r, at);
          }
        } else {
          st = d.Write(at, buf.data(), len);
        }
        if (st.ok()) {
          std::memcpy(m.data.data() + m.wp, buf.data(), len);
          m.wp += len;
        } else if (blkdebug::PowerIsCut(*cut_node)) {
          m.uncertain = true;
        }
      } else if (pick < 14) {
        Status st = d.ZoneMgmt(static_cast<ZoneOp>(rng() % 3), z * kZone, kZone);
        if (!st.ok() && blkdebug::PowerIsCut(*cut_node)) m.uncertain = true;
        if (st.ok()) {
          auto r = d.ReportZones(z * kZone, 1);  // finish moves the write pointer
          if (r.ok() && (*r)[0].condition == ZoneCondition::kFull) m.wp = kZone;
        }
      } else if (pick < 16) {
        m.reset_since_flush = true;
        Status st = d.ZoneMgmt(ZoneOp::kReset, z * kZone, kZone);
        if (st.ok()) {
          m = ZoneModelState{.reset_since_flush = true, .reset_acked_since_flush = true};
        } else if (blkdebug::PowerIsCut(*cut_node)) {
          m.uncertain = true;
        }
      } else {
        Status st = d.Flush();
        if (st.ok()) {
          for (auto& x : zs) x.flushed_wp = x.wp, x.reset_since_flush = x.reset_acked_since_flush = false;
        } else if (blkdebug::PowerIsCut(*cut_node)) {
          for (auto& x : zs) x.uncertain = true;  // some zones' records may have landed
        }
      }
    }
    if (!blkdebug::PowerIsCut(*cut_node)) {
      ASSERT_TRUE(blkdebug::CutPower(*cut_node));
    }
    ++cuts;
    b->reset();

    auto again = Backend::Open("driver=emulated,file.driver=file,file.filename=" + image_.string());
    ASSERT_TRUE(again.ok()) << "reopen after the cut: " << again.status().ToString();
    auto zones = (*again)->ReportZones(0, 0);
    ASSERT_TRUE(zones.ok());
    ASSERT_EQ(zones->size(), kZones);
    std::vector<uint8_t> back(kZone);
    for (uint32_t z = 0; z < kZones; ++z) {
      const Zone& r = (*zones)[z];
      const ZoneModelState& m = zs[z];
      ASSERT_GE(r.write_pointer, r.start);
      ASSERT_LE(r.write_pointer, r.start + r.length);
      const uint64_t wp = r.write_pointer - r.start;
      if (m.uncertain) continue;
      if (m.reset_acked_since_flush && m.wp == 0) {
        EXPECT_EQ(wp, 0u) << "zone " << z << ": an acknowledged reset was undone";
      }
      if (!m.reset_since_flush) {
        EXPECT_GE(wp, m.flushed_wp) << "zone " << z << ": flushed data lost (write pointer went back)";
      }
      // Below the write pointer only acknowledged data (finish may leave zeros past it).
      const uint64_t check = std::min(wp, m.wp);
      ASSERT_TRUE((*again)->Read(r.start, back.data(), kZone).ok());
      EXPECT_EQ(std::memcmp(back.data(), m.data.data(), check), 0)
          << "zone " << z << ": data below the reopened write pointer differs";
      if (wp > m.wp && r.condition != ZoneCondition::kFull) {
        ADD_FAILURE() << "zone " << z << ": write pointer " << wp << " past written data " << m.wp;
      }
    }
  }
  EXPECT_EQ(cuts, 10);
}

// The same guarantees with the device's own queue (drivers/emulated/persist_queue.h): writes and
// appends to random zones with up to 16 in flight, flushes through the queue (each vouching for
// the writes completed before its submission), resets after the queue drained (a reset with
// writes in flight is refused).
TEST_P(PowercutPersist, QueuedNothingFlushedIsLostNoWritePointerPastData) {
  const int seed = GetParam();
  constexpr unsigned kDepth = 16;
  for (int round = 0; round < 10; ++round) {
    MakeImage();
    {  // the image is created whole first: this test is about the cuts under queued I/O
      auto init = Backend::Open(Geometry() + ",file.driver=file,file.filename=" + image_.string());
      ASSERT_TRUE(init.ok()) << init.status().ToString();
    }
    const uint64_t cut_seed = uint64_t(seed) * 1000 + 500 + round;
    SCOPED_TRACE(cut_seed);
    auto b = Backend::Open(Geometry() + ",file.driver=powercut,file.cut-range=120,file.cut-seed=" +
                           std::to_string(cut_seed) + ",file.file.driver=file,file.file.filename=" +
                           image_.string());
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    Backend& d = **b;
    Node* cut_node = d.root().file();
    auto q = d.CreateQueue(kDepth);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    std::mt19937_64 rng(cut_seed);
    std::vector<ZoneModelState> zs(kZones);
    std::vector<uint64_t> accepted(kZones, 0);  // relative offset the next request takes
    struct Ctx;
    struct Slot {
      IoRequest req;
      Ctx* ctx = nullptr;
      std::vector<uint8_t> data;
      uint32_t zone = 0;
      uint64_t at = 0;
      std::vector<uint64_t> vouched;  // a flush: each zone's completed prefix at submission
    };
    struct Ctx {
      std::vector<ZoneModelState>* zs;
      std::vector<Slot>* slots;
      std::vector<Slot*> free;
      Node* cut;
      std::vector<std::map<uint64_t, uint64_t>> ahead;  // completed ranges past each prefix
    } ctx;
    ctx.ahead.resize(kZones);
    std::vector<Slot> slots(kDepth);
    ctx.zs = &zs;
    ctx.slots = &slots;
    ctx.cut = cut_node;
    for (Slot& s : slots) {
      s.req.user = &s;
      s.ctx = &ctx;
      s.req.done = [](IoRequest* r) {
        Slot* s = static_cast<Slot*>(r->user);
        Ctx* c = s->ctx;
        c->free.push_back(s);
        if (r->op == IoRequest::Op::kFlush) {
          if (r->error == 0) {
            for (uint32_t z = 0; z < kZones; ++z) {
              ZoneModelState& m = (*c->zs)[z];
              if (!m.reset_since_flush) m.flushed_wp = std::max(m.flushed_wp, s->vouched[z]);
            }
          } else {
            for (auto& x : *c->zs) x.uncertain = true;
          }
          return;
        }
        ZoneModelState& m = (*c->zs)[s->zone];
        if (r->error != 0) {
          m.uncertain = true;  // only after the cut (checked below)
          EXPECT_TRUE(blkdebug::PowerIsCut(*c->cut)) << "errno " << r->error << " before the cut";
          return;
        }
        if (r->op == IoRequest::Op::kAppend) {
          EXPECT_EQ(r->result_offset, s->zone * kZone + s->at);
        }
        std::memcpy(m.data.data() + s->at, s->data.data(), s->data.size());
        // Completions of one zone may arrive out of submission order: the model's write pointer
        // is the completed prefix.
        auto& ahead = c->ahead[s->zone];
        ahead[s->at] = s->at + s->data.size();
        for (auto it = ahead.find(m.wp); it != ahead.end(); it = ahead.find(m.wp)) {
          m.wp = it->second;
          ahead.erase(it);
        }
      };
      ctx.free.push_back(&s);
    }
    auto take = [&]() -> Slot* {
      while (ctx.free.empty()) {
        auto n = (*q)->Reap(1);
        EXPECT_TRUE(n.ok());
        if (!n.ok()) return nullptr;
      }
      Slot* s = ctx.free.back();
      ctx.free.pop_back();
      return s;
    };
    auto drain = [&] {
      while ((*q)->inflight() > 0) {
        if (!(*q)->Reap(1).ok()) return false;
      }
      return true;
    };
    for (int i = 0; i < 400 && !blkdebug::PowerIsCut(*cut_node); ++i) {
      const uint32_t z = rng() % kZones;
      ZoneModelState& m = zs[z];
      const unsigned pick = rng() % 20;
      if (pick < 15) {
        const uint64_t len = std::min<uint64_t>(kBlock * (1 + rng() % 4), kZone - accepted[z]);
        if (len == 0) continue;
        Slot* s = take();
        ASSERT_TRUE(s);
        s->data.resize(len);
        for (uint64_t k = 0; k < len; k += 8) {
          const uint64_t v = rng();
          std::memcpy(&s->data[k], &v, 8);
        }
        s->zone = z;
        s->at = accepted[z];
        s->req.op = pick < 8 ? IoRequest::Op::kAppend : IoRequest::Op::kWrite;
        s->req.offset = s->req.op == IoRequest::Op::kAppend ? z * kZone : z * kZone + s->at;
        s->req.buf = s->data.data();
        s->req.len = len;
        ASSERT_TRUE((*q)->Submit(&s->req).ok());
        accepted[z] += len;
      } else if (pick < 17) {
        ASSERT_TRUE(drain());
        m.reset_since_flush = true;
        Status st = d.ZoneMgmt(ZoneOp::kReset, z * kZone, kZone);
        if (st.ok()) {
          m = ZoneModelState{.reset_since_flush = true, .reset_acked_since_flush = true};
          accepted[z] = 0;
          ctx.ahead[z].clear();
        } else if (blkdebug::PowerIsCut(*cut_node)) {
          m.uncertain = true;
        } else {
          ADD_FAILURE() << st.ToString();
        }
      } else {
        Slot* s = take();
        ASSERT_TRUE(s);
        s->req.op = IoRequest::Op::kFlush;
        s->req.len = 0;
        s->vouched.clear();
        for (auto& x : zs) s->vouched.push_back(x.wp);
        // Resets since the last flush are covered by this one once it lands.
        ASSERT_TRUE((*q)->Submit(&s->req).ok());
        for (auto& x : zs) x.reset_acked_since_flush = x.reset_since_flush = false;
      }
    }
    ASSERT_TRUE(drain());
    if (!blkdebug::PowerIsCut(*cut_node)) {
      ASSERT_TRUE(blkdebug::CutPower(*cut_node));
    }
    q->reset();
    b->reset();

    auto again = Backend::Open("driver=emulated,file.driver=file,file.filename=" + image_.string());
    ASSERT_TRUE(again.ok()) << "reopen after the cut: " << again.status().ToString();
    auto zones = (*again)->ReportZones(0, 0);
    ASSERT_TRUE(zones.ok());
    std::vector<uint8_t> back(kZone);
    for (uint32_t z = 0; z < kZones; ++z) {
      const Zone& r = (*zones)[z];
      const ZoneModelState& m = zs[z];
      const uint64_t wp = r.write_pointer - r.start;
      ASSERT_LE(wp, r.length);
      if (m.uncertain) continue;
      if (!m.reset_since_flush) {
        EXPECT_GE(wp, m.flushed_wp) << "zone " << z << ": flushed data lost (write pointer went back)";
      }
      const uint64_t check = std::min(wp, m.wp);
      ASSERT_TRUE((*again)->Read(r.start, back.data(), kZone).ok());
      EXPECT_EQ(std::memcmp(back.data(), m.data.data(), check), 0)
          << "zone " << z << ": data below the reopened write pointer differs";
      if (wp > m.wp && r.condition != ZoneCondition::kFull) {
        ADD_FAILURE() << "zone " << z << ": write pointer " << wp << " past written data " << m.wp;
      }
    }
  }
}

// 11 seeds x 10 rounds = 110 cut points (each test).
INSTANTIATE_TEST_SUITE_P(Seeds, PowercutPersist, ::testing::Range(1, 12));

}  // namespace
}  // namespace zbl
