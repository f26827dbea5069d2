// Open and active zone resources: limits hold, implicit opens make room by closing an
// implicitly-open zone, explicit opens and active zones fail with their errno when exhausted.
#include "families.h"
#include "fixture.h"

namespace zbl::suites {
namespace {

using ZC = ZoneCondition;

class Resources : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (lim().model != ZoneModel::kHostManaged)
      GTEST_SKIP() << "not applicable: resource limits bind host-managed zones";
    if (!lim().max_open_zones && !lim().max_active_zones)
      GTEST_SKIP() << "not applicable: the device limits neither open nor active zones";
  }
  // Open/active counts over the first window of sequential zones.
  std::pair<uint32_t, uint32_t> Counts(uint32_t n) {
    uint32_t open = 0, active = 0;
    for (uint32_t i = 0; i < n; ++i) {
      auto z = SeqZone(i);
      if (!z) break;
      ZC c = Cond(*z);
      open += IsOpen(c);
      active += IsActive(c);
    }
    return {open, active};
  }
  uint32_t M() const { return lim().max_open_zones; }
  uint32_t A() const { return lim().max_active_zones; }
};

TEST_P(Resources, ImplicitOpenClosesAnotherAtTheLimit) {
  ZBL_REQUIRE(M() > 0, "the device has no open zone limit");
  ZBL_REQUIRE(!A() || A() > M(), "every active slot is needed by the open zones");
  ZBL_REQUIRE_SEQ(M() + 1);
  std::vector<uint32_t> zs = ImplicitlyOpen(M());
  auto z = *SeqZone(M());
  ZBL_ASSERT_OK(WriteP(ZoneStart(z), facts().wblock));
  EXPECT_EQ(Cond(z), ZC::kImplicitOpen);
  uint32_t closed = 0;
  for (uint32_t o : zs) closed += Cond(o) == ZC::kClosed;
  EXPECT_EQ(closed, 1u) << "exactly one implicitly-open zone should have been closed";
  EXPECT_EQ(Counts(M() + 1).first, M());
}

TEST_P(Resources, OpenLimitHoldsUnderManyWrites) {
  ZBL_REQUIRE(M() > 0, "the device has no open zone limit");
  const uint32_t n = std::min<uint32_t>(3 * M(), A() ? A() : 3 * M());
  ZBL_REQUIRE_SEQ(n);
  for (uint32_t i = 0; i < n; ++i) {
    Status st = WriteP(ZoneStart(*SeqZone(i)), facts().wblock);
    ASSERT_TRUE(st.ok()) << "write to zone " << i << ": " << st.ToString();
    auto [open, active] = Counts(n);
    ASSERT_LE(open, M()) << "after " << i + 1 << " writes";
    if (A()) {
      ASSERT_LE(active, A());
    }
  }
}

TEST_P(Resources, ExplicitOpenLimit) {
  ZBL_REQUIRE(M() > 0, "the device has no open zone limit");
  // With max-active == max-open both limits are hit at once and the errno depends on the
  // family's order of checks.
  ZBL_REQUIRE(!A() || A() > M(), "max-active equals max-open");
  ZBL_REQUIRE_SEQ(M() + 2);
  for (uint32_t i = 0; i < M(); ++i)
    ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kOpen, ZoneStart(*SeqZone(i)), lim().zone_size));
  const uint32_t extra = *SeqZone(M());
  ZBL_EXPECT_ERRNO(dev().ZoneMgmt(ZoneOp::kOpen, ZoneStart(extra), lim().zone_size), ETOOMANYREFS);
  EXPECT_EQ(Cond(extra), ZC::kEmpty);
  // No implicitly-open zone can make room: a write to an EMPTY zone fails too.
  ZBL_EXPECT_ERRNO(WriteP(ZoneStart(extra), facts().wblock), ETOOMANYREFS);
  EXPECT_EQ(Cond(extra), ZC::kEmpty);
  // Writes to the explicitly-open zones still go through.
  ZBL_ASSERT_OK(WriteP(ZoneStart(*SeqZone(0)), facts().wblock));
}

TEST_P(Resources, ActiveLimit) {
  ZBL_REQUIRE(A() > 0, "the device has no active zone limit");
  ZBL_REQUIRE_SEQ(A() + 1);
  // CLOSED zones hold an active resource and no open one.
  for (uint32_t i = 0; i < A(); ++i) {
    const uint64_t at = ZoneStart(*SeqZone(i));
    ZBL_ASSERT_OK(WriteP(at, facts().wblock));
    ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kClose, at, lim().zone_size));
  }
  const uint32_t extra = *SeqZone(A());
  ZBL_EXPECT_ERRNO(WriteP(ZoneStart(extra), facts().wblock), EOVERFLOW);
  ZBL_EXPECT_ERRNO(dev().ZoneMgmt(ZoneOp::kOpen, ZoneStart(extra), lim().zone_size), EOVERFLOW);
  EXPECT_EQ(Cond(extra), ZC::kEmpty);
  // A CLOSED zone needs no new active resource to be written again.
  ZBL_ASSERT_OK(WriteP(ZoneStart(*SeqZone(0)) + facts().wblock, facts().wblock));
}

TEST_P(Resources, FullAndResetReleaseResources) {
  const uint32_t limit = M() ? M() : A();
  ZBL_REQUIRE_SEQ(limit + 1);
  for (uint32_t i = 0; i < limit; ++i)
    ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kOpen, ZoneStart(*SeqZone(i)), lim().zone_size));
  const uint32_t extra = *SeqZone(limit);
  EXPECT_FALSE(dev().ZoneMgmt(ZoneOp::kOpen, ZoneStart(extra), lim().zone_size).ok());
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kFinish, ZoneStart(*SeqZone(0)), lim().zone_size));
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kOpen, ZoneStart(extra), lim().zone_size));
  EXPECT_FALSE(dev().ZoneMgmt(ZoneOp::kOpen, ZoneStart(*SeqZone(0)), lim().zone_size).ok() &&
               Cond(*SeqZone(0)) == ZC::kExplicitOpen)
      << "a FULL zone was reopened";
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kReset, ZoneStart(*SeqZone(1)), lim().zone_size));
  ZBL_ASSERT_OK(WriteP(ZoneStart(*SeqZone(0 + 1)), facts().wblock));
}

TEST_P(Resources, FinishWithoutResourcesIsAFamilyCell) {
  ZBL_REQUIRE(M() > 0, "the device has no open zone limit");
  ZBL_REQUIRE_SEQ(M() + 1);
  for (uint32_t i = 0; i < M(); ++i)
    ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kOpen, ZoneStart(*SeqZone(i)), lim().zone_size));
  const uint32_t z = *SeqZone(M());
  Status st = dev().ZoneMgmt(ZoneOp::kFinish, ZoneStart(z), lim().zone_size);
  const ZC c = Cond(z);
  if (st.ok()) {
    EXPECT_EQ(c, ZC::kFull);
    Variant("finish_without_resources", "succeeds");
  } else {
    EXPECT_EQ(c, ZC::kEmpty) << "a failed finish changed the zone";
    // null_blk (the family whose finish needs resources) checks the active limit before the
    // open limit: EOVERFLOW when the explicitly-open zones also use every active resource.
    const uint32_t a = lim().max_active_zones;
    EXPECT_EQ(st.code(), a != 0 && M() >= a ? EOVERFLOW : ETOOMANYREFS) << st.ToString();
    Variant("finish_without_resources", "fails");
  }
}

ZBL_INSTANTIATE(Resources);

}  // namespace
}  // namespace zbl::suites
