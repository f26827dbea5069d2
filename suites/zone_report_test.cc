// Zone report: whole device, ranges, partial counts, end of device, capacity.
#include "fixture.h"

namespace zbl::suites {
namespace {

class ZoneReport : public DeviceTest {
 protected:
  bool Destructive() const override { return false; }
};

TEST_P(ZoneReport, WholeDeviceTilesTheDevice) {
  ZBL_REQUIRE_ZONED();
  // In chunks, so a 100k-zone device needs no 100k-entry buffer.
  constexpr uint32_t kChunk = 4096;
  uint64_t next = 0, count = 0;
  std::vector<Zone> buf(kChunk);
  while (next < lim().size) {
    auto n = dev().ReportZones(next, std::span<Zone>(buf));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_GT(*n, 0u) << "report at " << next << " returned no zone";
    for (size_t i = 0; i < *n; ++i) {
      const Zone& z = buf[i];
      ASSERT_EQ(z.start, next) << "zone " << count;
      const uint64_t want = std::min(lim().zone_size, lim().size - z.start);
      ASSERT_EQ(z.length, want) << "zone " << count;
      ASSERT_LE(z.capacity, z.length) << "zone " << count;
      next += z.length;
      ++count;
    }
  }
  EXPECT_EQ(next, lim().size);
  EXPECT_EQ(count, lim().nr_zones);
}

TEST_P(ZoneReport, PartialCountsAndRanges) {
  ZBL_REQUIRE_ZONED();
  ZBL_REQUIRE(NrZones() >= 4, "needs 4 zones");
  const uint32_t k = NrZones() / 2 - 1;
  auto two = dev().ReportZones(ZoneStart(k), 2);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].start, ZoneStart(k));
  EXPECT_EQ((*two)[1].start, ZoneStart(k + 1));
  // An offset inside a zone reports from that zone's start.
  auto inside = dev().ReportZones(ZoneStart(k) + facts().block, 1);
  ASSERT_TRUE(inside.ok()) << inside.status().ToString();
  ASSERT_EQ(inside->size(), 1u);
  EXPECT_EQ((*inside)[0], (*two)[0]);
  // The span form fills only what it is given.
  std::vector<Zone> three(3);
  auto n = dev().ReportZones(ZoneStart(k), std::span<Zone>(three.data(), 1));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(three[1], Zone{});
}

TEST_P(ZoneReport, StopsAtTheEndOfTheDevice) {
  ZBL_REQUIRE_ZONED();
  const uint32_t last = NrZones() - 1;
  auto tail = dev().ReportZones(ZoneStart(last), 16);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].start + (*tail)[0].length, lim().size);
  auto past = dev().ReportZones(lim().size, 4);
  ASSERT_TRUE(past.ok()) << past.status().ToString();
  EXPECT_TRUE(past->empty());
  if (NrZones() >= 3) {
    auto from = dev().ReportZones(ZoneStart(last - 2), 0);  // 0 = up to the end
    ASSERT_TRUE(from.ok()) << from.status().ToString();
    EXPECT_EQ(from->size(), 3u);
  }
}

TEST_P(ZoneReport, CapacityAndTypes) {
  ZBL_REQUIRE_ZONED();
  auto zones = ReportRange(0, std::min<uint32_t>(NrZones(), 64));
  const ZoneType seq = lim().model == ZoneModel::kHostAware ? ZoneType::kSequentialWritePreferred
                                                            : ZoneType::kSequentialWriteRequired;
  for (const Zone& z : zones) {
    SCOPED_TRACE("zone at " + std::to_string(z.start));
    EXPECT_LE(z.capacity, z.length);
    if (z.type == ZoneType::kConventional) {
      EXPECT_EQ(z.condition, ZoneCondition::kNotWritePointer);
      EXPECT_EQ(z.capacity, z.length);
    } else {
      EXPECT_EQ(z.type, seq);
      if (z.length == lim().zone_size) {
        EXPECT_EQ(z.capacity, facts().capacity);
      }
    }
  }
  if (cfg().expect.known && cfg().expect.zone_capacity) {
    EXPECT_EQ(facts().capacity, cfg().expect.zone_capacity);
  }
}

TEST_P(ZoneReport, FreshZonesAreEmptyAtTheirStart) {
  ZBL_REQUIRE_ZONED();
  ZBL_REQUIRE_DESTRUCTIVE();
  for (const Zone& z : ReportRange(0, std::min<uint32_t>(NrZones(), 64))) {
    if (z.type == ZoneType::kConventional || z.condition == ZoneCondition::kReadOnly ||
        z.condition == ZoneCondition::kOffline)
      continue;
    EXPECT_EQ(z.condition, ZoneCondition::kEmpty) << "zone at " << z.start;
    EXPECT_EQ(z.write_pointer, z.start) << "zone at " << z.start;
  }
}

TEST_P(ZoneReport, ShowsWritesAndOps) {
  ZBL_REQUIRE_ZONED();
  ZBL_REQUIRE_DESTRUCTIVE();
  ZBL_REQUIRE_SEQ(3);
  const uint32_t a = *SeqZone(0), b = *SeqZone(1), c = *SeqZone(2);
  ZBL_ASSERT_OK(WriteP(ZoneStart(a), 3 * facts().wblock));
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kOpen, ZoneStart(b), lim().zone_size));
  ZBL_ASSERT_OK(dev().ZoneMgmt(ZoneOp::kFinish, ZoneStart(c), lim().zone_size));
  Zone za = Report1(a), zb = Report1(b), zc = Report1(c);
  EXPECT_EQ(za.write_pointer, za.start + 3 * facts().wblock);
  EXPECT_EQ(za.condition, ZoneCondition::kImplicitOpen);
  EXPECT_EQ(zb.condition, ZoneCondition::kExplicitOpen);
  EXPECT_EQ(zb.write_pointer, zb.start);
  EXPECT_EQ(zc.condition, ZoneCondition::kFull);
}

ZBL_INSTANTIATE(ZoneReport);

}  // namespace
}  // namespace zbl::suites
