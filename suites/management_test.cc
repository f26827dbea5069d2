// Zone management: every operation from every condition, ranges, reset-all, alignment errors.
// The expected transitions are written here from the families' rules; where families differ
// the cell's variant is recorded and judged (families.h).
#include "families.h"
#include "fixture.h"

namespace zbl::suites {
namespace {

using ZC = ZoneCondition;

enum class From { kEmpty, kImpOpen, kExpOpenAtStart, kExpOpen, kClosed, kFull };
constexpr From kAllFrom[] = {From::kEmpty, From::kImpOpen, From::kExpOpenAtStart,
                             From::kExpOpen, From::kClosed, From::kFull};

const char* Name(From f) {
  static const char* n[] = {"EMPTY", "IMP_OPEN", "EXP_OPEN@start", "EXP_OPEN", "CLOSED", "FULL"};
  return n[static_cast<int>(f)];
}

class Management : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!lim().zoned()) GTEST_SKIP() << "not applicable: the device is not zoned (model NONE)";
    if (!SeqZone(2)) GTEST_SKIP() << "not applicable: needs 3 usable sequential zones";
    z_ = *SeqZone(0);
  }

  // Puts zone z_ into `f` from EMPTY.
  void Prepare(From f) {
    const uint64_t at = ZoneStart(z_), zs = lim().zone_size, wb = facts().wblock;
    ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kReset, at, zs));
    switch (f) {
      case From::kEmpty: break;
      case From::kImpOpen: ZBL_ASSERT_OK(WriteP(at, wb)); break;
      case From::kExpOpenAtStart: ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kOpen, at, zs)); break;
      case From::kExpOpen:
        ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kOpen, at, zs));
        ZBL_ASSERT_OK(WriteP(at, wb));
        break;
      case From::kClosed:
        ZBL_ASSERT_OK(WriteP(at, wb));
        ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kClose, at, zs));
        break;
      case From::kFull: ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kFinish, at, zs)); break;
    }
  }
  Status Do(ZoneOp op) { return dev().ZoneMgmt(op, ZoneStart(z_), lim().zone_size); }
  // For an operation that does not apply: "noop" (OK, unchanged) or "error" (failed, unchanged).
  std::string Inapplicable(ZoneOp op) {
    Zone before = Report1(z_);
    Status st = Do(op);
    Zone after = Report1(z_);
    EXPECT_EQ(after, before) << ToString(op) << " changed the zone";
    if (!st.ok()) Variant("transition_errno", ErrnoVariant(st.code()));
    return st.ok() ? "noop" : "error";
  }
  bool Hm() const { return lim().model == ZoneModel::kHostManaged; }

  uint32_t z_ = 0;
};

TEST_P(Management, OpenFromEveryCondition) {
  for (From f : kAllFrom) {
    SCOPED_TRACE(std::string("open from ") + Name(f));
    Prepare(f);
    if (HasFatalFailure()) return;
    const uint64_t wp = WpRel(z_);
    if (f == From::kFull) {
      if (Hm()) Variant("open_full", Inapplicable(ZoneOp::kOpen));
      continue;
    }
    ZBL_ASSERT_OK(Do(ZoneOp::kOpen));
    EXPECT_EQ(Cond(z_), ZC::kExplicitOpen);
    EXPECT_EQ(WpRel(z_), wp);
  }
}

TEST_P(Management, CloseFromEveryCondition) {
  for (From f : kAllFrom) {
    SCOPED_TRACE(std::string("close from ") + Name(f));
    Prepare(f);
    if (HasFatalFailure()) return;
    const uint64_t wp = WpRel(z_);
    switch (f) {
      case From::kEmpty:
        if (Hm()) Variant("close_empty", Inapplicable(ZoneOp::kClose));
        break;
      case From::kFull:
        if (Hm()) Variant("close_full", Inapplicable(ZoneOp::kClose));
        break;
      case From::kExpOpenAtStart: {
        ZBL_ASSERT_OK(Do(ZoneOp::kClose));
        ZC c = Cond(z_);
        EXPECT_TRUE(c == ZC::kEmpty || c == ZC::kClosed) << ToString(c);
        if (Hm()) Variant("close_at_start", c == ZC::kEmpty ? "empty" : c == ZC::kClosed ? "closed" : "other");
        EXPECT_EQ(WpRel(z_), 0u);
        break;
      }
      default:
        ZBL_ASSERT_OK(Do(ZoneOp::kClose));
        EXPECT_EQ(Cond(z_), ZC::kClosed);
        EXPECT_EQ(WpRel(z_), wp);
    }
  }
}

TEST_P(Management, FinishFromEveryCondition) {
  for (From f : kAllFrom) {
    SCOPED_TRACE(std::string("finish from ") + Name(f));
    Prepare(f);
    if (HasFatalFailure()) return;
    const uint64_t wp = WpRel(z_);
    ZBL_ASSERT_OK(Do(ZoneOp::kFinish));
    Zone z = Report1(z_);
    EXPECT_EQ(z.condition, ZC::kFull);
    if (f == From::kFull) {
      EXPECT_EQ(z.write_pointer - z.start, wp) << "finish of a FULL zone moved its write pointer";
    } else {
      uint64_t rel = z.write_pointer - z.start;
      EXPECT_TRUE(rel == z.length || rel == z.capacity) << "write pointer " << rel;
      if (z.capacity != z.length || rel == z.length)
        Variant("full_wp_finished", rel == z.length ? "zone_end" : "capacity_end");
    }
  }
}

TEST_P(Management, ResetFromEveryCondition) {
  for (From f : kAllFrom) {
    SCOPED_TRACE(std::string("reset from ") + Name(f));
    Prepare(f);
    if (HasFatalFailure()) return;
    ZBL_ASSERT_OK(Do(ZoneOp::kReset));
    EXPECT_EQ(Cond(z_), ZC::kEmpty);
    EXPECT_EQ(WpRel(z_), 0u);
  }
  // A reset zone accepts a write at its start again, and its old data is gone.
  ZBL_ASSERT_OK(WriteP(ZoneStart(z_), facts().wblock, 7));
  EXPECT_EQ(CheckP(ZoneStart(z_), facts().wblock, 7), "");
}

TEST_P(Management, RangesApplyToEveryZone) {
  // Three adjacent usable zones.
  uint32_t first = 0;
  bool found = false;
  for (uint32_t i = 0; SeqZone(i + 2); ++i)
    if (*SeqZone(i + 2) == *SeqZone(i) + 2) {
      first = *SeqZone(i);
      found = true;
      break;
    }
  ZBL_REQUIRE(found, "needs 3 adjacent sequential zones");
  const uint64_t at = ZoneStart(first), len = 3 * lim().zone_size;
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kFinish, at, len));
  for (const Zone& z : ReportRange(first, 3)) EXPECT_EQ(z.condition, ZC::kFull) << z.start;
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kReset, at, len));
  for (const Zone& z : ReportRange(first, 3)) {
    EXPECT_EQ(z.condition, ZC::kEmpty) << z.start;
    EXPECT_EQ(z.write_pointer, z.start);
  }
  if (lim().max_open_zones == 0 || lim().max_open_zones >= 3) {
    ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kOpen, at, len));
    for (const Zone& z : ReportRange(first, 3)) EXPECT_EQ(z.condition, ZC::kExplicitOpen) << z.start;
    ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kClose, at, len));
    for (const Zone& z : ReportRange(first, 3)) EXPECT_NE(z.condition, ZC::kExplicitOpen) << z.start;
  }
}

TEST_P(Management, ResetAllAndWholeDeviceReset) {
  const uint32_t a = *SeqZone(0), b = *SeqZone(1), c = *SeqZone(2);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "reset-all" : "reset of the whole device range");
    ZBL_ASSERT_OK(WriteP(ZoneStart(a), facts().wblock));
    ZBL_ASSERT_OK(WriteP(ZoneStart(b), 2 * facts().wblock));
    ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kClose, ZoneStart(b), lim().zone_size));
    ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kFinish, ZoneStart(c), lim().zone_size));
    if (round == 0)
      ZBL_ASSERT_OK(dev().ZoneResetAll());
    else
      ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kReset, 0, lim().size));
    for (uint32_t z : {a, b, c}) {
      EXPECT_EQ(Cond(z), ZC::kEmpty) << "zone " << z;
      EXPECT_EQ(WpRel(z), 0u) << "zone " << z;
    }
  }
}

TEST_P(Management, MisalignedRangesAreRejected) {
  const uint64_t at = ZoneStart(z_), zs = lim().zone_size;
  ZBL_ASSERT_OK(WriteP(at, facts().wblock));
  const Zone before = Report1(z_);
  for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset}) {
    SCOPED_TRACE(std::string(ToString(op)));
    ZBL_EXPECT_ERRNO(dev().ZoneMgmt(op, at + facts().block, zs), EINVAL);
    ZBL_EXPECT_ERRNO(dev().ZoneMgmt(op, at, 0), EINVAL);
    if (zs / 2 % facts().block == 0) {
      ZBL_EXPECT_ERRNO(dev().ZoneMgmt(op, at, zs / 2), EINVAL);
    }
    ZBL_EXPECT_ERRNO(dev().ZoneMgmt(op, ZoneStart(NrZones()), zs), EINVAL);
    EXPECT_EQ(Report1(z_), before);
  }
}

ZBL_INSTANTIATE(Management);

}  // namespace
}  // namespace zbl::suites
