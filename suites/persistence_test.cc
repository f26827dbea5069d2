// Persistence: data, write pointers and conditions survive closing and reopening the device.
#include "fixture.h"

namespace zbl::suites {
namespace {

using ZC = ZoneCondition;

class Persistence : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!cfg().persistent) GTEST_SKIP() << "not applicable: the device does not persist (memory)";
  }
};

TEST_P(Persistence, DataSurvivesReopen) {
  const uint64_t wb = facts().wblock;
  uint64_t at = 0;
  if (lim().zoned()) {
    ZBL_REQUIRE_SEQ(1);
    at = ZoneStart(*SeqZone(0));
  }
  ZBL_ASSERT_OK(WriteP(at, 4 * wb, 81));
  ZBL_ASSERT_OK(dev().Flush());
  Reopen();
  if (HasFatalFailure()) return;
  EXPECT_EQ(CheckP(at, 4 * wb, 81), "");
}

TEST_P(Persistence, ZoneStateSurvivesReopen) {
  ZBL_REQUIRE_ZONED();
  ZBL_REQUIRE_SEQ(3);
  const uint32_t a = *SeqZone(0), b = *SeqZone(1), c = *SeqZone(2);
  const uint64_t wb = facts().wblock;
  ZBL_ASSERT_OK(WriteP(ZoneStart(a), 3 * wb, 82));
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kFinish, ZoneStart(b), lim().zone_size));
  ZBL_ASSERT_OK(WriteP(ZoneStart(c), wb, 83));
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kReset, ZoneStart(c), lim().zone_size));
  ZBL_ASSERT_OK(dev().Flush());
  const Zone fb = Report1(b);
  Reopen();
  if (HasFatalFailure()) return;
  const Zone za = Report1(a);
  EXPECT_EQ(za.write_pointer, za.start + 3 * wb);
  // An open zone comes back open (no power cycle) or closed (one happened).
  EXPECT_TRUE(za.condition == ZC::kImplicitOpen || za.condition == ZC::kClosed) << ToString(za.condition);
  EXPECT_EQ(Report1(b), fb);
  EXPECT_EQ(Cond(c), ZC::kEmpty);
  EXPECT_EQ(WpRel(c), 0u);
  EXPECT_EQ(CheckP(ZoneStart(a), 3 * wb, 82), "");
  // Writing goes on at the persisted write pointer.
  ZBL_ASSERT_OK(WriteP(za.write_pointer, wb, 84));
  EXPECT_EQ(WpRel(a), 4 * wb);
}

ZBL_INSTANTIATE(Persistence);

}  // namespace
}  // namespace zbl::suites
