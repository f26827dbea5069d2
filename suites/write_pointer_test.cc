// Write-pointer rules of host-managed sequential zones: writes only at the write pointer, only
// below capacity, never to a FULL zone; a refused write changes nothing.
#include "families.h"
#include "fixture.h"

namespace zbl::suites {
namespace {

using ZC = ZoneCondition;
constexpr uint64_t kMaxFill = uint64_t{256} << 20;

class WritePointer : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (lim().model != ZoneModel::kHostManaged)
      GTEST_SKIP() << "not applicable: write-pointer rules bind host-managed zones only";
    if (!SeqZone(1)) GTEST_SKIP() << "not applicable: needs 2 usable sequential zones";
    z_ = *SeqZone(0);
    wb_ = facts().wblock;
  }
  // A refused write: its errno is a family cell, and the zone and data stay as they were.
  // `cell` says who judges it on Linux 6.12: the device (write_violation_errno) or the zone
  // write plug, which holds the write pointer of a zone written since it was EMPTY or FULL
  // and refuses writes into the gap after the capacity (write_plug_errno); profile.h.
  void ExpectRefused(uint64_t at, uint64_t len, const char* what,
                     std::string_view cell = "write_violation_errno") {
    SCOPED_TRACE(what);
    const Zone before = Report1(z_);
    Status st = WriteP(at, len, 99);
    EXPECT_FALSE(st.ok()) << "the device accepted it";
    if (!st.ok()) Variant(cell, ErrnoVariant(st.code()));
    EXPECT_EQ(Report1(z_), before);
  }

  uint32_t z_ = 0;
  uint64_t wb_ = 0;
};

TEST_P(WritePointer, WriteAtWritePointerAdvancesIt) {
  const uint64_t at = ZoneStart(z_);
  ZBL_ASSERT_OK(WriteP(at, wb_));
  EXPECT_EQ(WpRel(z_), wb_);
  EXPECT_EQ(Cond(z_), ZC::kImplicitOpen);
  ZBL_ASSERT_OK(WriteP(at + wb_, 3 * wb_));
  EXPECT_EQ(WpRel(z_), 4 * wb_);
  EXPECT_EQ(CheckP(at, 4 * wb_), "");
}

TEST_P(WritePointer, WriteNotAtWritePointerIsRefused) {
  const uint64_t at = ZoneStart(z_);
  ExpectRefused(at + wb_, wb_, "ahead of the write pointer of an EMPTY zone");
  ZBL_ASSERT_OK(WriteP(at, 2 * wb_));
  ExpectRefused(at + 3 * wb_, wb_, "ahead of the write pointer", "write_plug_errno");
  ExpectRefused(at, wb_, "behind the write pointer", "write_plug_errno");
  ExpectRefused(at + wb_, 2 * wb_, "overlapping the write pointer", "write_plug_errno");
  EXPECT_EQ(CheckP(at, 2 * wb_), "");
}

TEST_P(WritePointer, WriteAcrossCapacityIsRefused) {
  const Zone z = Report1(z_);
  ZBL_REQUIRE(z.capacity <= kMaxFill, "zone capacity too large to fill in a test");
  ZBL_ASSERT_OK(Fill(z_, z.capacity - wb_));
  // With capacity == zone size the end of the capacity is the zone boundary: that case is
  // WriteAcrossZonesIsSplitOrRejected.
  if (z.capacity < z.length) ExpectRefused(z.start + z.capacity - wb_, 2 * wb_, "across the zone capacity");
  ZBL_ASSERT_OK(WriteP(z.start + z.capacity - wb_, wb_, 5));
  const Zone full = Report1(z_);
  EXPECT_EQ(full.condition, ZC::kFull);
  const uint64_t rel = full.write_pointer - full.start;
  EXPECT_TRUE(rel == full.capacity || rel == full.length) << "write pointer " << rel;
  if (full.capacity != full.length) {
    Variant("full_wp_written", rel == full.length ? "zone_end" : rel == full.capacity ? "capacity_end" : "other");
    ExpectRefused(z.start + z.capacity, wb_, "beyond the capacity of a FULL zone", "write_plug_errno");
  }
  ExpectRefused(z.start + z.capacity - wb_, wb_, "the last block of a FULL zone");
  EXPECT_EQ(CheckP(z.start + z.capacity - wb_, wb_, 5), "");
}

TEST_P(WritePointer, WriteAcrossZonesIsSplitOrRejected) {
  uint32_t a = 0;
  bool found = false;
  for (uint32_t i = 0; SeqZone(i + 1); ++i)
    if (*SeqZone(i + 1) == *SeqZone(i) + 1) {
      a = *SeqZone(i);
      found = true;
      break;
    }
  ZBL_REQUIRE(found, "needs 2 adjacent sequential zones");
  const Zone za = Report1(a);
  ZBL_REQUIRE(za.capacity == za.length, "capacity < zone size: a zone's end is never writable");
  ZBL_REQUIRE(za.length <= kMaxFill, "zones too large to fill in a test");
  ZBL_ASSERT_OK(Fill(a, za.length - wb_));
  Status st = WriteP(za.start + za.length - wb_, 2 * wb_, 3);
  const Zone a2 = Report1(a), b2 = Report1(a + 1);
  if (st.ok()) {
    Variant("cross_zone_write", "split");
    EXPECT_EQ(a2.condition, ZC::kFull);
    EXPECT_EQ(b2.write_pointer, b2.start + wb_);
    EXPECT_EQ(CheckP(za.start + za.length - wb_, 2 * wb_, 3), "");
  } else {
    // Rejected as a whole: neither zone moved.
    Variant("cross_zone_write", a2.write_pointer == za.start + za.length - wb_ &&
                                        b2.condition == ZC::kEmpty
                                    ? "reject"
                                    : "partial");
  }
}

TEST_P(WritePointer, FinishedZoneRefusesWrites) {
  ZBL_ASSERT_OK(WriteP(ZoneStart(z_), wb_));
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kFinish, ZoneStart(z_), lim().zone_size));
  ExpectRefused(ZoneStart(z_) + wb_, wb_, "at the old write pointer of a finished zone");
  // The last block of the zone: in the gap after the capacity when there is one (the zone
  // write plug's refusal), else below the capacity (the device's).
  const Zone z = Report1(z_);
  const uint64_t last = z.write_pointer - wb_;
  ExpectRefused(last, wb_, "below the end of a finished zone",
                last >= z.start + z.capacity ? "write_plug_errno" : "write_violation_errno");
  EXPECT_EQ(CheckP(ZoneStart(z_), wb_), "");
}

TEST_P(WritePointer, ManyWritesReadBackInOrder) {
  const uint64_t at = ZoneStart(z_);
  const uint64_t cap = std::min<uint64_t>(Report1(z_).capacity, 64 * wb_);
  uint64_t done = 0;
  for (uint64_t n = 1; done + n * wb_ <= cap; ++n) {
    ZBL_ASSERT_OK(WriteP(at + done, n * wb_, 11));
    done += n * wb_;
    ASSERT_EQ(WpRel(z_), done);
  }
  EXPECT_EQ(CheckP(at, done, 11), "");
}

ZBL_INSTANTIATE(WritePointer);

}  // namespace
}  // namespace zbl::suites
