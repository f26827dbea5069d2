// Backend-level request validation, checked through the emulated device.
#include "zbl/backend.h"

#include <gtest/gtest.h>

#include <cstring>
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

}  // namespace
}  // namespace zbl

namespace zbl {
namespace {

// Splits writes into max_transfer pieces applied one by one, as Linux does for a block device:
// without the backend's check, the pieces before a refused one would stay written.
const DriverSpec kSplitterSpec{.name = "splitter", .description = "test: splits writes"};
class Splitter final : public Node {
 public:
  Splitter(std::unique_ptr<Node> inner, uint64_t piece)
      : Node(kSplitterSpec), inner_(std::move(inner)), piece_(piece) {}
  Result<Limits> ComputeLimits() override {
    Limits l = inner_->limits();
    l.max_transfer = piece_;
    return l;
  }
  Status Read(uint64_t off, void* buf, size_t len) override { return inner_->Read(off, buf, len); }
  Status Write(uint64_t off, const void* buf, size_t len) override {
    Status last = Status::Ok();
    for (size_t done = 0; done < len; done += piece_) {
      Status st = inner_->Write(off + done, static_cast<const uint8_t*>(buf) + done,
                                std::min<size_t>(piece_, len - done));
      if (!st.ok()) last = st;
    }
    return last;
  }
  Result<size_t> ReportZones(uint64_t off, std::span<Zone> z) override {
    return inner_->ReportZones(off, z);
  }

 private:
  std::unique_ptr<Node> inner_;
  uint64_t piece_;
};

std::unique_ptr<Backend> SplitDevice() {
  auto o = Options::Parse("driver=emulated,size=16M,zone-size=1M,zone-capacity=768k,block-size=4096");
  EXPECT_TRUE(o.ok());
  auto inner = OpenNode(*o);
  EXPECT_TRUE(inner.ok()) << inner.status().ToString();
  auto node = std::make_unique<Splitter>(std::move(*inner), 64 << 10);
  auto l = node->ComputeLimits();
  node->set_limits(*l);
  auto b = Backend::FromNode(std::move(node));
  EXPECT_TRUE(b.ok());
  return std::move(*b);
}

TEST(BackendSplitWrite, ALongWriteTheDeviceWouldRefuseChangesNothing) {
  auto b = SplitDevice();
  std::vector<uint8_t> buf(kZone, 0x5a);
  ASSERT_TRUE(b->Write(kZone, buf.data(), 8192).ok());
  const auto before = *b->ReportZones(0, 0);
  struct Case { uint64_t off; size_t len; const char* says; };
  for (Case c : {Case{kZone + 8192, 768 << 10, "capacity"},          // past the capacity
                 Case{kZone + 4096, 256 << 10, "write pointer"},     // behind the write pointer
                 Case{2 * kZone + 8192, 256 << 10, "write pointer"},  // ahead, in an EMPTY zone
                 Case{kZone + 8192, kZone, "capacity"}}) {            // into the next zone
    Status st = b->Write(c.off, buf.data(), c.len);
    EXPECT_EQ(st.code(), EIO) << st.ToString();
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
    EXPECT_EQ(*b->ReportZones(0, 0), before) << "a refused write changed zones: " << c.off;
  }
}

TEST(BackendSplitWrite, ValidLongWritesAndShortOnesReachTheDevice) {
  auto b = SplitDevice();
  std::vector<uint8_t> buf(768 << 10, 0x5a);
  ASSERT_TRUE(b->Write(kZone, buf.data(), 512 << 10).ok());
  EXPECT_EQ((*b->ReportZones(kZone, 1))[0].write_pointer, kZone + (512 << 10));
  ASSERT_TRUE(b->Write(kZone + (512 << 10), buf.data(), 256 << 10).ok());
  EXPECT_EQ((*b->ReportZones(kZone, 1))[0].condition, ZoneCondition::kFull);
  // A short one goes to the device unchecked; the device refuses it itself.
  EXPECT_EQ(b->Write(3 * kZone + 4096, buf.data(), 4096).code(), EIO);
}

}  // namespace
}  // namespace zbl
