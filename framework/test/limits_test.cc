#include "zbl/limits.h"

#include <gtest/gtest.h>

namespace zbl {
namespace {

Limits ZonedChild() {
  Limits c;
  c.size = uint64_t{1} << 30;
  c.logical_block_size = 4096;
  c.request_alignment = 4096;
  c.max_transfer = 1 << 20;
  c.model = ZoneModel::kHostManaged;
  c.zone_size = 64 << 20;
  c.nr_zones = 16;
  c.max_open_zones = 8;
  c.max_active_zones = 10;
  c.max_append_bytes = 512 << 10;
  c.write_granularity = 4096;
  return c;
}

TEST(MergeLimits, PassThroughTakesTheChildsModelAndGeometry) {
  Limits own;  // raw sets nothing of its own
  Limits m = MergeLimits(own, ZonedChild(), LimitsMerge::kPassThrough);
  EXPECT_EQ(m, ZonedChild());
  EXPECT_EQ(m.Validate(), "");
}

TEST(MergeLimits, WindowKeepsItsSizeAndRecountsZones) {
  Limits own;
  own.size = uint64_t{256} << 20;
  Limits m = MergeLimits(own, ZonedChild(), LimitsMerge::kPassThrough);
  EXPECT_EQ(m.size, uint64_t{256} << 20);
  EXPECT_EQ(m.nr_zones, 4u);
  EXPECT_EQ(m.Validate(), "");
}

TEST(MergeLimits, AlignmentTakesTheMaximumTransferTheSmallestNonZero) {
  Limits own;
  own.logical_block_size = 512;
  own.request_alignment = 512;
  own.max_transfer = 0;
  Limits child;
  child.logical_block_size = 4096;
  child.request_alignment = 8192;
  child.max_transfer = 128 << 10;
  Limits m = MergeLimits(own, child, LimitsMerge::kPassThrough);
  EXPECT_EQ(m.logical_block_size, 4096u);
  EXPECT_EQ(m.request_alignment, 8192u);
  EXPECT_EQ(m.max_transfer, 128u << 10);
  own.max_transfer = 64 << 10;
  EXPECT_EQ(MergeLimits(own, child, LimitsMerge::kPassThrough).max_transfer, 64u << 10);
}

TEST(MergeLimits, OwnGeometryKeepsTheParentsZonesOverAPlainChild) {
  Limits own = ZonedChild();
  Limits file;  // a NONE file
  file.size = uint64_t{4} << 30;
  file.max_transfer = 256 << 10;
  Limits m = MergeLimits(own, file, LimitsMerge::kOwnGeometry);
  EXPECT_EQ(m.model, ZoneModel::kHostManaged);
  EXPECT_EQ(m.size, own.size);
  EXPECT_EQ(m.nr_zones, own.nr_zones);
  EXPECT_EQ(m.max_append_bytes, 256u << 10);  // bounded by what the child can transfer
  EXPECT_EQ(m.max_transfer, 256u << 10);
}

TEST(MergeLimits, NoneChildMakesANoneParent) {
  Limits file;
  file.size = 1 << 20;
  Limits m = MergeLimits(Limits{}, file, LimitsMerge::kPassThrough);
  EXPECT_EQ(m.model, ZoneModel::kNone);
  EXPECT_EQ(m.zone_size, 0u);
  EXPECT_EQ(m.nr_zones, 0u);
  EXPECT_EQ(m.Validate(), "");
}

TEST(LimitsValidate, NamesTheBrokenField) {
  Limits l = ZonedChild();
  l.nr_zones = 3;
  EXPECT_NE(l.Validate().find("nr_zones"), std::string::npos);
  l = ZonedChild();
  l.logical_block_size = 1000;
  EXPECT_NE(l.Validate().find("logical_block_size"), std::string::npos);
  l = ZonedChild();
  l.max_open_zones = 11;
  EXPECT_NE(l.Validate().find("max_open_zones"), std::string::npos);
  l = ZonedChild();
  l.zone_size = 0;
  EXPECT_NE(l.Validate().find("zone_size"), std::string::npos);
}

}  // namespace
}  // namespace zbl
