// Zone append: the device picks the offset (the write pointer) and returns it; size, capacity
// and zone-type limits refuse an append whole.
#include "families.h"
#include "fixture.h"

namespace zbl::suites {
namespace {

using ZC = ZoneCondition;

class Append : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!lim().zoned()) GTEST_SKIP() << "not applicable: the device is not zoned (model NONE)";
    if (lim().max_append_bytes == 0) GTEST_SKIP() << "not applicable: the device has no zone append";
    if (!SeqZone(0)) GTEST_SKIP() << "not applicable: needs a usable sequential zone";
    z_ = *SeqZone(0);
    wb_ = facts().wblock;
  }
  Result<uint64_t> App(uint64_t zone_off, uint64_t len, uint32_t seed) {
    auto b = Pattern(0, len, seed);
    return dev().ZoneAppend(zone_off, b.data(), len);
  }
  uint32_t z_ = 0;
  uint64_t wb_ = 0;
};

TEST_P(Append, ReturnsOffset) {
  const uint64_t at = ZoneStart(z_);
  auto a = App(at, wb_, 1);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, at);
  auto b = App(at, 3 * wb_, 2);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(*b, at + wb_);
  EXPECT_EQ(WpRel(z_), 4 * wb_);
  // The data is where the returned offsets say.
  if (!DataKept()) return;
  std::vector<uint8_t> got(3 * wb_);
  ZBL_ASSERT_OK(dev().Read(*b, got.data(), got.size()));
  EXPECT_EQ(got, Pattern(0, 3 * wb_, 2));
  ZBL_ASSERT_OK(dev().Read(*a, got.data(), wb_));
  EXPECT_TRUE(std::equal(got.begin(), got.begin() + static_cast<long>(wb_), Pattern(0, wb_, 1).begin()));
}

TEST_P(Append, AfterWritesGoesToWritePointer) {
  ZBL_REQUIRE_HM();
  const uint64_t at = ZoneStart(z_);
  ZBL_ASSERT_OK(WriteP(at, 2 * wb_));
  auto a = App(at, wb_, 3);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, at + 2 * wb_);
  ZBL_ASSERT_OK(WriteP(at + 3 * wb_, wb_));
  EXPECT_EQ(WpRel(z_), 4 * wb_);
}

TEST_P(Append, MaxSizeIsEnforced) {
  const uint64_t max = lim().max_append_bytes;
  const uint64_t at = ZoneStart(z_);
  const Zone before = Report1(z_);
  auto big = App(at, max + facts().block, 4);
  EXPECT_EQ(big.status().code(), EINVAL) << big.status().ToString();
  EXPECT_EQ(Report1(z_), before);
  ZBL_REQUIRE(max <= Cap(z_) && max <= (uint64_t{64} << 20), "max append exceeds the zone capacity");
  auto ok = App(at, max, 4);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, at);
}

TEST_P(Append, CapacityIsEnforced) {
  ZBL_REQUIRE_HM();
  const Zone z = Report1(z_);
  ZBL_REQUIRE(z.capacity <= (uint64_t{256} << 20), "zone capacity too large to fill in a test");
  ZBL_REQUIRE(2 * wb_ <= lim().max_append_bytes, "max append is below two blocks");
  ZBL_ASSERT_OK(Fill(z_, z.capacity - wb_));
  const Zone before = Report1(z_);
  auto over = App(z.start, 2 * wb_, 5);
  EXPECT_FALSE(over.ok()) << "an append past capacity was accepted at " << (over.ok() ? *over : 0);
  EXPECT_EQ(Report1(z_), before);
  auto last = App(z.start, wb_, 5);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, z.start + z.capacity - wb_);
  EXPECT_EQ(Cond(z_), ZC::kFull);
  auto full = App(z.start, wb_, 6);
  EXPECT_FALSE(full.ok()) << "an append to a FULL zone was accepted";
}

TEST_P(Append, FinishedZoneRefuses) {
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kFinish, ZoneStart(z_), lim().zone_size));
  const Zone before = Report1(z_);
  auto a = App(ZoneStart(z_), wb_, 1);
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(Report1(z_), before);
}

TEST_P(Append, NotAtZoneStartIsRefused) {
  const Zone before = Report1(z_);
  auto a = App(ZoneStart(z_) + wb_, wb_, 1);
  EXPECT_FALSE(a.ok()) << "an append inside a zone was accepted";
  if (!a.ok()) Variant("append_not_zone_start", ErrnoVariant(a.status().code()));
  EXPECT_EQ(Report1(z_), before);
}

TEST_P(Append, ConventionalZoneRefuses) {
  ZBL_REQUIRE(facts().conventional > 0, "the device has no conventional zone");
  std::vector<uint8_t> before(wb_), after(wb_);
  ZBL_ASSERT_OK(dev().Read(0, before.data(), wb_));
  auto a = App(0, wb_, 1);
  EXPECT_FALSE(a.ok()) << "an append to a conventional zone was accepted";
  // As QEMU's block layer answers for every device (qemu-io 10 on kernel null_blk and
  // scsi_debug: "zone append failed: Invalid argument"; ci/vm/errno-cells.sh conv_append).
  EXPECT_EQ(a.status().code(), EINVAL) << a.status().ToString();
  ZBL_ASSERT_OK(dev().Read(0, after.data(), wb_));
  EXPECT_EQ(before, after);
}

ZBL_INSTANTIATE(Append);

}  // namespace
}  // namespace zbl::suites
