// Reads, conventional zones, host-aware and non-zoned devices, and fault zones.
#include <algorithm>

#include "families.h"
#include "fixture.h"

namespace zbl::suites {
namespace {

using ZC = ZoneCondition;

// ---- Reads ----
class Reads : public DeviceTest {};

TEST_P(Reads, WrittenDataReadsBack) {
  ZBL_REQUIRE_DATA();
  const uint64_t wb = facts().wblock;
  uint64_t at = 0;
  if (lim().zoned()) {
    ZBL_REQUIRE_SEQ(1);
    at = ZoneStart(*SeqZone(0));
  }
  ZBL_ASSERT_OK(WriteP(at, 8 * wb, 21));
  EXPECT_EQ(CheckP(at, 8 * wb, 21), "");
  EXPECT_EQ(CheckP(at + 3 * wb, 2 * wb, 21), "") << "a read inside written data";
}

TEST_P(Reads, AboveWritePointerIsAFamilyCell) {
  ZBL_REQUIRE_HM();
  ZBL_REQUIRE_SEQ(1);
  const uint64_t at = ZoneStart(*SeqZone(0)), wb = facts().wblock;
  ZBL_ASSERT_OK(WriteP(at, wb));
  std::vector<uint8_t> got(wb, 0xee);
  Status st = dev().Read(at + wb, got.data(), wb);
  Variant("read_unwritten", ReadVariant(st.ok(), got, 0xee));
  EXPECT_EQ(WpRel(*SeqZone(0)), wb) << "a read moved the write pointer";
}

TEST_P(Reads, AcrossZoneBoundary) {
  ZBL_REQUIRE_ZONED();
  uint32_t a = 0;
  bool found = false;
  for (uint32_t i = 0; SeqZone(i + 1); ++i)
    if (*SeqZone(i + 1) == *SeqZone(i) + 1) {
      a = *SeqZone(i);
      found = true;
      break;
    }
  ZBL_REQUIRE(found, "needs 2 adjacent sequential zones");
  ZBL_REQUIRE_DATA();
  const Zone z = Report1(a);
  ZBL_REQUIRE(z.capacity == z.length && z.length <= (uint64_t{64} << 20),
              "needs zones of at most 64 MiB without a capacity gap");
  const uint64_t wb = facts().wblock;
  ZBL_ASSERT_OK(Fill(a, z.length, 8));
  ZBL_ASSERT_OK(WriteP(ZoneStart(a + 1), wb, 8));
  EXPECT_EQ(CheckP(ZoneStart(a + 1) - wb, 2 * wb, 8), "");
}

TEST_P(Reads, ReadsDoNotChangeZones) {
  ZBL_REQUIRE_ZONED();
  ZBL_REQUIRE_SEQ(2);
  const uint64_t wb = facts().wblock;
  ZBL_ASSERT_OK(WriteP(ZoneStart(*SeqZone(0)), wb));
  const auto before = ReportRange(*SeqZone(0), 2);
  std::vector<uint8_t> b(2 * wb);
  ZBL_ASSERT_OK(dev().Read(ZoneStart(*SeqZone(0)), b.data(), wb));
  Status st = dev().Read(ZoneStart(*SeqZone(1)), b.data(), wb);  // EMPTY: zeros or error
  (void)st;
  EXPECT_EQ(ReportRange(*SeqZone(0), 2), before);
}

// ---- Conventional ----
class Conventional : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!lim().zoned() || facts().conventional == 0)
      GTEST_SKIP() << "not applicable: the device has no conventional zone";
  }
};

TEST_P(Conventional, WritesAnywhere) {
  const uint64_t wb = facts().wblock, zs = lim().zone_size;
  const uint32_t z = facts().conventional - 1;
  ZBL_ASSERT_OK(WriteP(ZoneStart(z) + zs / 2 / wb * wb, wb, 31));
  ZBL_ASSERT_OK(WriteP(ZoneStart(z), wb, 31));
  ZBL_ASSERT_OK(WriteP(ZoneStart(z), wb, 32));  // overwrite
  EXPECT_EQ(CheckP(ZoneStart(z) + zs / 2 / wb * wb, wb, 31), "");
  EXPECT_EQ(CheckP(ZoneStart(z), wb, 32), "");
  const Zone r = Report1(z);
  EXPECT_EQ(r.type, ZoneType::kConventional);
  EXPECT_EQ(r.condition, ZC::kNotWritePointer);
}

TEST_P(Conventional, RejectsZoneManagement) {
  const uint32_t z = 0;
  const Zone before = Report1(z);
  for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset}) {
    Status st = dev().ZoneMgmt(op, ZoneStart(z), lim().zone_size);
    EXPECT_FALSE(st.ok()) << ToString(op) << " of a conventional zone succeeded";
    // The Backend refuses them for every device, as QEMU's block layer (qemu-io 10: EIO on
    // null_blk and scsi_debug, whose device would say EREMOTEIO to open/close).
    EXPECT_EQ(st.code(), EIO) << st.ToString();
  }
  EXPECT_EQ(Report1(z), before);
}

TEST_P(Conventional, ResetAllKeepsConventionalData) {
  const uint64_t wb = facts().wblock;
  ZBL_ASSERT_OK(WriteP(0, wb, 33));
  ZBL_ASSERT_OK(dev().ZoneResetAll());
  EXPECT_EQ(CheckP(0, wb, 33), "");
}

TEST_P(Conventional, WriteFromConventionalIntoSequential) {
  ZBL_REQUIRE(facts().first_seq < NrZones(), "no sequential zone");
  const uint64_t wb = facts().wblock;
  const uint64_t boundary = ZoneStart(facts().first_seq);
  ZBL_REQUIRE(Cond(facts().first_seq) == ZC::kEmpty, "the first sequential zone is not usable");
  // Each zone's part is valid on its own (the sequential part is at its write pointer).
  Status st = WriteP(boundary - wb, 2 * wb, 34);
  if (st.ok()) {
    Variant("cross_zone_write", "split");
    EXPECT_EQ(CheckP(boundary - wb, 2 * wb, 34), "");
  } else {
    Variant("cross_zone_write", WpRel(facts().first_seq) == 0 ? "reject" : "partial");
  }
}

// ---- HostAware ----
class HostAware : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (lim().model != ZoneModel::kHostAware) GTEST_SKIP() << "not applicable: the device is not host-aware";
    if (!SeqZone(1)) GTEST_SKIP() << "not applicable: needs 2 usable sequential zones";
  }
};

TEST_P(HostAware, ZonesAreSequentialWritePreferred) {
  for (uint32_t i = 0; i < 2; ++i) EXPECT_EQ(Report1(*SeqZone(i)).type, ZoneType::kSequentialWritePreferred);
}

TEST_P(HostAware, WritesAnywhereInASequentialZone) {
  const uint32_t z = *SeqZone(0);
  const uint64_t wb = facts().wblock, mid = lim().zone_size / 2 / wb * wb;
  ZBL_ASSERT_OK(WriteP(ZoneStart(z) + mid, wb, 41));
  ZBL_ASSERT_OK(WriteP(ZoneStart(z), wb, 42));
  EXPECT_EQ(CheckP(ZoneStart(z) + mid, wb, 41), "");
  EXPECT_EQ(CheckP(ZoneStart(z), wb, 42), "");
  const Zone r = Report1(z);
  EXPECT_NE(r.condition, ZC::kEmpty) << "a written zone still reports EMPTY";
  EXPECT_GE(r.write_pointer, r.start + wb);
}

TEST_P(HostAware, ZoneOpsStillApply) {
  const uint32_t z = *SeqZone(0);
  ZBL_ASSERT_OK(WriteP(ZoneStart(z), facts().wblock));
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kFinish, ZoneStart(z), lim().zone_size));
  EXPECT_EQ(Cond(z), ZC::kFull);
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kReset, ZoneStart(z), lim().zone_size));
  EXPECT_EQ(Cond(z), ZC::kEmpty);
  EXPECT_EQ(WpRel(z), 0u);
}

// ---- NotZoned ----
class NotZoned : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (lim().zoned()) GTEST_SKIP() << "not applicable: the device is zoned";
  }
};

TEST_P(NotZoned, ZoneCommandsAreNotSupported) {
  EXPECT_EQ(dev().ReportZones(0, 1).status().code(), ENOTSUP);
  for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset})
    ZBL_EXPECT_ERRNO(dev().ZoneMgmt(op, 0, lim().size), ENOTSUP);
  ZBL_EXPECT_ERRNO(dev().ZoneResetAll(), ENOTSUP);
  std::vector<uint8_t> b(facts().block, 1);
  EXPECT_EQ(dev().ZoneAppend(0, b.data(), b.size()).status().code(), ENOTSUP);
}

TEST_P(NotZoned, LimitsHaveNoZones) {
  EXPECT_EQ(lim().zone_size, 0u);
  EXPECT_EQ(lim().nr_zones, 0u);
  EXPECT_EQ(lim().max_open_zones, 0u);
  EXPECT_EQ(lim().max_active_zones, 0u);
}

TEST_P(NotZoned, WritesAnywhere) {
  const uint64_t b = facts().block;
  for (uint64_t at : {lim().size - 4 * b, lim().size / 3 / b * b, uint64_t{0}, 7 * b}) {
    ZBL_ASSERT_OK(WriteP(at, 2 * b, 51));
    EXPECT_EQ(CheckP(at, 2 * b, 51), "") << "at " << at;
  }
}

// ---- Faults ----
class Faults : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!lim().zoned()) GTEST_SKIP() << "not applicable: the device is not zoned";
    for (const Zone& z : ReportRange(0, std::min<uint32_t>(NrZones(), 256))) {
      uint32_t i = static_cast<uint32_t>(z.start / lim().zone_size);
      if (z.condition == ZC::kReadOnly && !ro_) ro_ = i;
      if (z.condition == ZC::kOffline && !off_) off_ = i;
    }
    if (!ro_ && !off_) GTEST_SKIP() << "not applicable: no read-only or offline zone in the first 256";
  }
  std::optional<uint32_t> ro_, off_;
};

TEST_P(Faults, ConfiguredZonesShowTheirCondition) {
  const Expected& e = cfg().expect;
  ZBL_REQUIRE(e.known, "the configuration names no fault zones");
  for (uint32_t z : e.read_only_zones) EXPECT_EQ(Cond(z), ZC::kReadOnly) << "zone " << z;
  for (uint32_t z : e.offline_zones) EXPECT_EQ(Cond(z), ZC::kOffline) << "zone " << z;
}

TEST_P(Faults, ReadOnlyZoneRefusesWritesAndOps) {
  ZBL_REQUIRE(ro_.has_value(), "no read-only zone");
  const uint64_t at = ZoneStart(*ro_);
  const Zone before = Report1(*ro_);
  ZBL_EXPECT_ERRNO(WriteP(at, facts().wblock), EIO);
  for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset})
    EXPECT_FALSE(dev().ZoneMgmt(op, at, lim().zone_size).ok()) << ToString(op);
  std::vector<uint8_t> b(facts().wblock);
  ZBL_EXPECT_ERRNO(dev().Read(at, b.data(), b.size()), 0);
  EXPECT_EQ(Report1(*ro_), before);
}

TEST_P(Faults, OfflineZoneRefusesReadsAndWrites) {
  ZBL_REQUIRE(off_.has_value(), "no offline zone");
  const uint64_t at = ZoneStart(*off_);
  const Zone before = Report1(*off_);
  std::vector<uint8_t> b(facts().wblock);
  ZBL_EXPECT_ERRNO(dev().Read(at, b.data(), b.size()), EIO);
  ZBL_EXPECT_ERRNO(WriteP(at, facts().wblock), EIO);
  for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset})
    EXPECT_FALSE(dev().ZoneMgmt(op, at, lim().zone_size).ok()) << ToString(op);
  EXPECT_EQ(Report1(*off_), before);
}

TEST_P(Faults, ResetAllLeavesThemAlone) {
  ZBL_ASSERT_OK(dev().ZoneResetAll());
  if (ro_) {
    EXPECT_EQ(Cond(*ro_), ZC::kReadOnly);
  }
  if (off_) {
    EXPECT_EQ(Cond(*off_), ZC::kOffline);
  }
}

ZBL_INSTANTIATE(Reads);
ZBL_INSTANTIATE(Conventional);
ZBL_INSTANTIATE(HostAware);
ZBL_INSTANTIATE(NotZoned);
ZBL_INSTANTIATE(Faults);

}  // namespace
}  // namespace zbl::suites
