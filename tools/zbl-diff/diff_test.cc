#include "diff.h"

#include <sstream>

#include <gtest/gtest.h>

namespace zbl::diff {
namespace {

// 64 MiB, 1 MiB zones with 768 KiB capacity, 2 conventional zones, open 4 / active 6.
std::string Emu(std::string_view profile, std::string_view extra = "") {
  std::string s = "driver=emulated,size=67108864,zone-size=1048576,zone-capacity=786432,"
                  "conventional-zones=2,block-size=4096,max-append-bytes=65536,profile=";
  s += profile;
  s += extra.empty() ? ",max-open-zones=4,max-active-zones=6" : std::string(extra);
  return s;
}

DiffOptions Opts(std::string a, std::string b, uint64_t ops, bool assert_mode) {
  DiffOptions o;
  o.seed = 7;
  o.ops = ops;
  o.a = std::move(a);
  o.b = std::move(b);
  o.assert_mode = assert_mode;
  o.full_every = 16;
  return o;
}

uint64_t CountPrefix(const std::map<std::string, uint64_t>& m, std::string_view needle) {
  uint64_t n = 0;
  for (const auto& [k, v] : m)
    if (k.find(needle) != std::string::npos) n += v;
  return n;
}

class SameProfile : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(SameProfile, NoDivergenceAndInterestingCellsHit) {
  auto [profile, extra] = GetParam();
  std::ostringstream log;
  auto r = diff::Run(Opts(Emu(profile, extra), Emu(profile, extra), 10000, true), log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->diverged) << r->first_divergence;
  EXPECT_EQ(r->steps, 10000u);
  EXPECT_TRUE(r->cells.empty());
  // The mix must reach the cells that tell families apart.
  EXPECT_GT(CountPrefix(r->outcome_counts, "ETOOMANYREFS"), 0u) << log.str();
  EXPECT_GT(CountPrefix(r->outcome_counts, " FULL "), 0u);
  EXPECT_GT(CountPrefix(r->outcome_counts, "write-cross-cap"), 0u);
  // Refused with the family's errno (EIO; the SCSI disk's EREMOTEIO for profile=zbc).
  EXPECT_GT(CountPrefix(r->outcome_counts, "append-cross-cap IMP_OPEN E") +
                CountPrefix(r->outcome_counts, "append-cross-cap EXP_OPEN E"),
            0u);
  EXPECT_GT(CountPrefix(r->outcome_counts, "close EXP_OPEN OK"), 0u);
  EXPECT_GT(CountPrefix(r->outcome_counts, "write-conv CONV OK"), 0u);
  EXPECT_GE(r->op_counts.size(), 15u);
}

INSTANTIATE_TEST_SUITE_P(Profiles, SameProfile,
                         ::testing::Values(std::pair{"null_blk", ""}, std::pair{"zns", ""},
                                           std::pair{"zbc", ",max-open-zones=4"}));

TEST(ZblDiff, ActiveLimitExhaustionIsReached) {
  std::ostringstream log;
  auto r = diff::Run(Opts(Emu("null_blk"), Emu("null_blk"), 5000, true), log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(CountPrefix(r->outcome_counts, "EOVERFLOW"), 0u);
}

TEST(ZblDiff, DifferentProfilesDivergeAndCellsAreNamed) {
  std::ostringstream log;
  auto r = diff::Run(Opts(Emu("null_blk"), Emu("zns"), 5000, false), log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->diverged);
  EXPECT_EQ(r->steps, 5000u);  // --no-assert runs to the end
  // null_blk empties an open zone closed at its start; ZNS keeps it CLOSED.
  bool close_cell = false;
  for (const auto& [c, s] : r->cells)
    close_cell |= c.op == "close" && c.outcome.find("A EMPTY@start / B CLOSED@start") != std::string::npos;
  EXPECT_TRUE(close_cell) << CellTable(*r);
  EXPECT_NE(CellTable(*r).find("close"), std::string::npos);
  nlohmann::json j = ToJson(Opts("a", "b", 1, false), *r);
  EXPECT_EQ(j["cells"].size(), r->cells.size());
}

TEST(ZblDiff, AssertStopsAtFirstDivergenceWithHistory) {
  std::ostringstream log;
  auto r = diff::Run(Opts(Emu("null_blk", ",max-open-zones=4"), Emu("zbc", ",max-open-zones=4"), 10000, true), log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->diverged);
  EXPECT_LT(r->steps, 10000u);
  EXPECT_EQ(r->cells.size(), 1u);
  const std::string& m = r->first_divergence;
  EXPECT_NE(m.find("seed 7"), std::string::npos) << m;
  EXPECT_NE(m.find("last "), std::string::npos) << m;
  EXPECT_NE(m.find("reproduce: zbl-diff --seed 7"), std::string::npos) << m;
  EXPECT_NE(m.find(" -> A "), std::string::npos) << m;
}

TEST(ZblDiff, RefusesDifferentGeometry) {
  std::ostringstream log;
  std::string b = Emu("null_blk");
  b.replace(b.find("zone-size=1048576"), 17, "zone-size=2097152");
  auto r = diff::Run(Opts(Emu("null_blk"), b, 10, true), log);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), EINVAL);
  EXPECT_NE(r.status().message().find("zone size"), std::string::npos) << r.status().ToString();

  auto r2 = diff::Run(Opts(Emu("null_blk"), Emu("null_blk", ",max-open-zones=3"), 10, true), log);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("max open zones"), std::string::npos);
}

TEST(ZblDiff, SameSeedSameSequence) {
  std::ostringstream log;
  auto o = Opts(Emu("zns"), Emu("zns"), 2000, true);
  auto r1 = diff::Run(o, log), r2 = diff::Run(o, log);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(r1->outcome_counts, r2->outcome_counts);
  o.seed = 8;
  auto r3 = diff::Run(o, log);
  ASSERT_TRUE(r3.ok());
  EXPECT_NE(r1->outcome_counts, r3->outcome_counts);
}

}  // namespace
}  // namespace zbl::diff

namespace zbl::diff {
namespace {

TEST(ZblDiff, ErrnoPairsParseByNameOrNumber) {
  auto p = ParseErrnoPair("EIO,EREMOTEIO");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->first, EIO);
  EXPECT_EQ(p->second, EREMOTEIO);
  auto q = ParseErrnoPair("5,121");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, std::pair(5, 121));
  EXPECT_EQ(ParseErrnoPair("EIO").status().code(), EINVAL);
  EXPECT_EQ(ParseErrnoPair("EIO,ENOTANERRNO").status().code(), EINVAL);
}

TEST(ZblDiff, NoCrossZoneKeepsWritesInsideAZone) {
  std::ostringstream log;
  auto o = Opts(Emu("zns"), Emu("zns"), 3000, true);
  o.cross_zone = false;
  auto r = diff::Run(o, log);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->diverged);
  EXPECT_EQ(r->op_counts.count("write-cross-zone"), 0u);
}

}  // namespace
}  // namespace zbl::diff
