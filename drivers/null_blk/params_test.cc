// null_blk's parameter checks and adjustments (null_validate_conf, null_init_zoned_dev and the
// block layer's limits in Linux 6.12), stated here independently of params.cc.
#include "params.h"

#include <gtest/gtest.h>

namespace zbl::null_blk {
namespace {

constexpr uint64_t kMb = 1 << 20;

Params Zoned(uint64_t size_mb, uint64_t zone_mb) {
  Params p;
  p.zoned = true;
  p.size_mb = size_mb;
  p.zone_size_mb = zone_mb;
  return p;
}

Geometry MustResolve(const Params& p) {
  auto g = Resolve(p);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? *g : Geometry{};
}

void ExpectInvalid(const Params& p, const std::string& words) {
  auto g = Resolve(p);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), EINVAL);
  EXPECT_NE(g.status().message().find(words), std::string::npos) << g.status().ToString();
}

bool HasNotice(const Geometry& g, const std::string& words) {
  for (const auto& n : g.notices)
    if (n.find(words) != std::string::npos) return true;
  return false;
}

TEST(NullBlkParams, ModuleDefaults) {
  Params p;
  EXPECT_EQ(p.size_mb, 256000u);  // gb=250
  EXPECT_EQ(p.blocksize, 512u);
  EXPECT_FALSE(p.zoned);
  EXPECT_EQ(p.zone_size_mb, 256u);
  EXPECT_FALSE(p.memory_backed);
  Geometry g = MustResolve(p);
  EXPECT_EQ(g.size, 256000 * kMb);
  EXPECT_FALSE(g.zoned);
  EXPECT_EQ(g.max_hw_bytes, 255u * 512);  // BLK_SAFE_MAX_SECTORS: max_hw_sectors_kb = 127
}

TEST(NullBlkParams, ZonedDefaultsAreAThousandZonesOf256M) {
  Params p;
  p.zoned = true;
  Geometry g = MustResolve(p);
  EXPECT_EQ(g.nr_zones, 1000u);
  EXPECT_EQ(g.zone_size, 256 * kMb);
  EXPECT_EQ(g.zone_capacity, 256 * kMb);
  EXPECT_EQ(g.nr_conv, 0u);
  EXPECT_EQ(g.max_open, 0u);
  EXPECT_EQ(g.max_active, 0u);
  EXPECT_EQ(g.max_append_bytes, 255u * 512);  // capped by max_hw_sectors
  EXPECT_FALSE(g.append_emulated);
  EXPECT_TRUE(g.notices.empty());
}

TEST(NullBlkParams, BlockSizeMustBeAPowerOfTwoUpToThePage) {
  for (uint32_t bs : {256u, 1000u, 1536u, 8192u, 0u}) {
    Params p;
    p.blocksize = bs;
    ExpectInvalid(p, "blocksize");
  }
  for (uint32_t bs : {512u, 1024u, 2048u, 4096u}) {
    Params p;
    p.blocksize = bs;
    EXPECT_TRUE(Resolve(p).ok()) << bs;
  }
}

TEST(NullBlkParams, ZoneSizeMustBeANonZeroPowerOfTwo) {
  ExpectInvalid(Zoned(1024, 0), "power-of-two");
  ExpectInvalid(Zoned(1024, 3), "power-of-two");
  ExpectInvalid(Zoned(1024, 96), "power-of-two");
  Params flat = Zoned(1024, 3);
  flat.zoned = false;  // zone parameters do not matter to a flat device
  EXPECT_TRUE(Resolve(flat).ok());
}

TEST(NullBlkParams, ZoneLargerThanDeviceIsRefused) {
  ExpectInvalid(Zoned(4, 8), "Zone size larger than device capacity");
  EXPECT_EQ(MustResolve(Zoned(8, 8)).nr_zones, 1u);
}

TEST(NullBlkParams, CapacityAboveZoneSizeIsRefused) {
  Params p = Zoned(64, 4);
  p.zone_capacity_mb = 5;
  ExpectInvalid(p, "larger than zone size");
  p.zone_capacity_mb = 3;
  Geometry g = MustResolve(p);
  EXPECT_EQ(g.zone_capacity, 3 * kMb);
  p.zone_capacity_mb = 0;  // 0 = the zone size
  EXPECT_EQ(MustResolve(p).zone_capacity, 4 * kMb);
}

TEST(NullBlkParams, SmallerLastZoneRoundsUpButNotWithSmallerCapacity) {
  Geometry g = MustResolve(Zoned(10, 4));
  EXPECT_EQ(g.nr_zones, 3u);
  Params p = Zoned(10, 4);
  p.zone_capacity_mb = 3;
  ExpectInvalid(p, "smaller last zone");
  p.zone_capacity_mb = 4;  // equal to the zone size: allowed
  EXPECT_TRUE(Resolve(p).ok());
}

TEST(NullBlkParams, TooManyConventionalZonesLeaveOneSequential) {
  Params p = Zoned(16, 4);  // 4 zones
  p.zone_nr_conv = 9;
  Geometry g = MustResolve(p);
  EXPECT_EQ(g.nr_conv, 3u);
  EXPECT_TRUE(HasNotice(g, "conventional zones to 3"));
  p.zone_nr_conv = 3;
  g = MustResolve(p);
  EXPECT_EQ(g.nr_conv, 3u);
  EXPECT_TRUE(g.notices.empty());
}

TEST(NullBlkParams, ActiveLimitAtOrAboveSequentialZonesIsDisabled) {
  Params p = Zoned(40, 4);  // 10 zones
  p.zone_nr_conv = 2;       // 8 sequential
  p.zone_max_active = 8;
  Geometry g = MustResolve(p);
  EXPECT_EQ(g.max_active, 0u);
  EXPECT_TRUE(HasNotice(g, "zone_max_active limit disabled"));
  p.zone_max_active = 7;
  EXPECT_EQ(MustResolve(p).max_active, 7u);
}

TEST(NullBlkParams, OpenLimitAboveActiveLimitIsLoweredToIt) {
  Params p = Zoned(40, 4);
  p.zone_max_active = 3;
  p.zone_max_open = 5;
  Geometry g = MustResolve(p);
  EXPECT_EQ(g.max_open, 3u);
  EXPECT_EQ(g.max_active, 3u);
  EXPECT_TRUE(HasNotice(g, "maximum number of open zones to 3"));
}

TEST(NullBlkParams, OpenLimitAtOrAboveSequentialZonesIsDisabled) {
  Params p = Zoned(40, 4);  // 10 sequential
  p.zone_max_open = 10;
  Geometry g = MustResolve(p);
  EXPECT_EQ(g.max_open, 0u);
  EXPECT_TRUE(HasNotice(g, "zone_max_open limit disabled"));
  p.zone_max_open = 9;
  EXPECT_EQ(MustResolve(p).max_open, 9u);
  // An active limit that gets disabled leaves the open limit to the zone-count rule.
  p.zone_max_active = 10;
  p.zone_max_open = 12;
  g = MustResolve(p);
  EXPECT_EQ(g.max_active, 0u);
  EXPECT_EQ(g.max_open, 0u);
}

TEST(NullBlkParams, ZoneAppendLimit) {
  Params p = Zoned(64, 1);
  p.blocksize = 4096;
  // max_hw_sectors 255 rounds down to whole 4 KiB blocks: 248 sectors.
  EXPECT_EQ(MustResolve(p).max_append_bytes, 248u * 512);
  p.zone_append_max_sectors = 16;
  EXPECT_EQ(MustResolve(p).max_append_bytes, 16u * 512);
  p.zone_append_max_sectors = 15;  // aligned down to 8 sectors
  EXPECT_EQ(MustResolve(p).max_append_bytes, 8u * 512);
  p.zone_append_max_sectors = 7;  // aligned down to 0: the block layer emulates append
  Geometry g = MustResolve(p);
  EXPECT_TRUE(g.append_emulated);
  EXPECT_EQ(g.max_append_bytes, 248u * 512);
  // A large max_sectors leaves the zone capacity as the bound.
  p.zone_append_max_sectors = kDefaultZoneAppendMaxSectors;
  p.max_sectors = 8192;
  p.zone_capacity_mb = 0;
  EXPECT_EQ(MustResolve(p).max_append_bytes, 1 * kMb);
}

TEST(NullBlkParams, MaxSectors) {
  Params p;
  p.max_sectors = 4;  // below a page
  ExpectInvalid(p, "max_sectors");
  p.max_sectors = 1001;
  p.blocksize = 4096;
  EXPECT_EQ(MustResolve(p).max_hw_bytes, 1000u * 512);
}

TEST(NullBlkParams, ZoneConditionListsToggleAndOfflineWins) {
  Params p = Zoned(64, 4);
  p.zone_nr_conv = 1;
  p.zone_readonly = {3, 5, 5, 7};
  p.zone_offline = {7, 9};
  Geometry g = MustResolve(p);
  EXPECT_EQ(g.readonly_zones, (std::vector<uint64_t>{3}));
  EXPECT_EQ(g.offline_zones, (std::vector<uint64_t>{7, 9}));
  p.zone_offline = {16};
  ExpectInvalid(p, "Sector out of range");
  p.zone_offline = {0};
  ExpectInvalid(p, "conventional");
  Params flat;
  flat.zone_readonly = {1};
  ExpectInvalid(flat, "not zoned");
}

TEST(NullBlkParams, ParsesNullBlkNamesAndRemembersWhatWasGiven) {
  auto o = Options::Parse("size=1024,blocksize=4096,zoned=1,zone_size=64,zone_capacity=48,"
                          "zone_nr_conv=2,zone_max_open=3,zone_max_active=4,memory_backed=1,"
                          "zone_readonly=3:5-6,zone_full=1");
  ASSERT_TRUE(o.ok());
  auto p = ParseParams(*o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->size_mb, 1024u);
  EXPECT_EQ(p->blocksize, 4096u);
  EXPECT_TRUE(p->zoned);
  EXPECT_EQ(p->zone_size_mb, 64u);
  EXPECT_EQ(p->zone_capacity_mb, 48u);
  EXPECT_EQ(p->zone_nr_conv, 2u);
  EXPECT_EQ(p->zone_max_open, 3u);
  EXPECT_EQ(p->zone_max_active, 4u);
  EXPECT_TRUE(p->memory_backed);
  EXPECT_TRUE(p->zone_full);
  EXPECT_EQ(p->zone_readonly, (std::vector<uint64_t>{3, 5, 6}));
  EXPECT_TRUE(p->Given("zone_full"));
  EXPECT_FALSE(p->Given("zone_append_max_sectors"));
  auto bad = Options::Parse("zone_max_open=4294967296");
  ASSERT_TRUE(bad.ok());
  auto r = ParseParams(*bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("zone_max_open"), std::string::npos);
}

TEST(NullBlkParams, TwinRefusesWhatTheEngineCannotModel) {
  Params p;
  p.blocksize = 2048;
  auto c = ToEngineConfig(MustResolve(p));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ENOTSUP);
  EXPECT_NE(c.status().message().find("backend=kernel"), std::string::npos);
  p.blocksize = 512;
  p.size_mb = 0;
  EXPECT_EQ(ToEngineConfig(MustResolve(p)).status().code(), ENOTSUP);
}

}  // namespace
}  // namespace zbl::null_blk
