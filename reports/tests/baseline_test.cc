#include "baseline.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "load.h"
#include "test_util.h"

namespace zbl::report {
namespace {

using test_util::kTestdata;

Regressions Compare(double threshold) {
  Diagnostics diag;
  std::vector<Source> old = {LoadSource(kTestdata / "baseline/nullblk", diag)};
  std::vector<Source> now = {LoadSource(kTestdata / "fleet/nullblk", diag)};
  AssignLabels(now);
  return CompareRuns(old, now, threshold);
}

std::vector<std::string> Names(const std::vector<StatusChange>& list) {
  std::vector<std::string> out;
  for (const auto& c : list) {
    out.push_back(c.suite + "." + c.rule + "/" + c.config);
  }
  return out;
}

std::vector<std::string> Names(const std::vector<BenchChange>& list) {
  std::vector<std::string> out;
  for (const auto& c : list) {
    out.push_back(c.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CompareRuns, StatusChanges) {
  Regressions r = Compare(10);
  EXPECT_EQ(Names(r.newly_failing),
            std::vector<std::string>{"ZoneWrite.WriteNotAtWritePointerFails/emulated_ha_512"});
  EXPECT_EQ(r.newly_failing[0].before, "pass");
  EXPECT_NE(r.newly_failing[0].message.find("<expected EIO>"), std::string::npos);
  EXPECT_EQ(Names(r.newly_skipped), std::vector<std::string>{"ZoneMgmt.ResetAll/emulated_hm_4k"});
  EXPECT_EQ(r.newly_skipped[0].message, "reset-all needs the zone_reset_all capability");
  EXPECT_EQ(Names(r.vanished), std::vector<std::string>{"Legacy.OldRulePassedInBaseline/unit"});
  EXPECT_EQ(Names(r.fixed),
            std::vector<std::string>{"ZoneWrite.WriteBeyondCapacityFails/emulated_hm_4k"});
  EXPECT_EQ(r.compared_tests, 30u);
}

TEST(CompareRuns, SlowerBenchmarksBeyondThreshold) {
  Regressions r = Compare(10);
  // Write qd:4 lost 20 % bytes/s, ZoneReset 13 % items/s, Write qd:16 now errors; Append
  // threads:2 lost under 5 % and is not listed.
  EXPECT_EQ(Names(r.slower), (std::vector<std::string>{
                                 "Write/emulated_hm_4k/bs:4096/qd:4/repeats:3",
                                 "Write/null_blk_mem/bs:4096/qd:16", "ZoneReset/emulated_hm_4k"}));
  for (const BenchChange& c : r.slower) {
    if (c.name.starts_with("Write/emulated")) {
      EXPECT_EQ(c.metric, "bytes_per_second");
      EXPECT_NEAR(c.slower_pct, 20, 0.01);
    } else if (c.name.starts_with("ZoneReset")) {
      EXPECT_EQ(c.metric, "items_per_second");
      EXPECT_NEAR(c.slower_pct, 13.04, 0.01);
    } else {
      EXPECT_EQ(c.metric, "error");
      EXPECT_EQ(c.note, "EIO: write at 0x10000 failed");
    }
  }
  EXPECT_EQ(r.compared_benchmarks, 14u);
  EXPECT_EQ(r.Count(), 6u);
}

TEST(CompareRuns, ThresholdIsRespected) {
  EXPECT_EQ(Compare(25).slower.size(), 1u);  // only the error
  EXPECT_EQ(Compare(4).slower.size(), 4u);   // Append threads:2 too
}

TEST(CompareRuns, SameRunHasNoRegressions) {
  Diagnostics diag;
  std::vector<Source> a = {LoadSource(kTestdata / "fleet/nullblk", diag)};
  Regressions r = CompareRuns(a, a, 10);
  EXPECT_EQ(r.Count(), 0u);
  EXPECT_TRUE(r.fixed.empty());
}

TEST(CompareRuns, FleetMatchesMachinesByFolderName) {
  Diagnostics diag;
  // The fleet baseline holds one subfolder per machine ("nullblk"); "zns" has no baseline.
  std::vector<Source> old = {LoadSource(kTestdata / "baseline", diag)};
  std::vector<Source> now = {LoadSource(kTestdata / "fleet/nullblk", diag),
                             LoadSource(kTestdata / "fleet/zns", diag)};
  AssignLabels(now);
  Regressions r = CompareRuns(old, now, 10);
  EXPECT_EQ(r.compared_tests, 30u);
  size_t nullblk_failing =
      std::count_if(r.newly_failing.begin(), r.newly_failing.end(),
                    [](const StatusChange& c) { return c.machine == "nullblk"; });
  EXPECT_EQ(nullblk_failing, 1u);
  // zns failures have no baseline: new failures all the same.
  for (const StatusChange& c : r.newly_failing) {
    if (c.machine == "zns") {
      EXPECT_EQ(c.before, "absent");
    }
  }
  EXPECT_EQ(r.newly_failing.size(), 4u);
}

TEST(ParseThreshold, Forms) {
  EXPECT_DOUBLE_EQ(*ParseThreshold("10%"), 10);
  EXPECT_DOUBLE_EQ(*ParseThreshold("2.5"), 2.5);
  EXPECT_DOUBLE_EQ(*ParseThreshold("0%"), 0);
  EXPECT_FALSE(ParseThreshold("-1%"));
  EXPECT_FALSE(ParseThreshold("ten"));
  EXPECT_FALSE(ParseThreshold("%"));
}

}  // namespace
}  // namespace zbl::report
