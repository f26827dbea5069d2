// Family cells: each cell probed on a fresh device, its variant recorded and judged against the
// families' table (and the configured family, if any).
#include "families.h"
#include "fingerprint.h"
#include "fixture.h"

namespace zbl::suites {
namespace {

class Family : public DeviceTest {
 protected:
  void Probe(std::string_view cell) {
    ProbeResult r = RunProbe(dev(), cell);
    ASSERT_EQ(r.error, "") << "probe of " << cell;
    if (!r.skip.empty()) GTEST_SKIP() << "not applicable to " << cfg().name << ": " << r.skip;
    Variant(cell, r.variant);
  }
};

TEST_P(Family, CloseAtStart) { Probe("close_at_start"); }
TEST_P(Family, FullWpWritten) { Probe("full_wp_written"); }
TEST_P(Family, FullWpFinished) { Probe("full_wp_finished"); }
TEST_P(Family, OpenFull) { Probe("open_full"); }
TEST_P(Family, CloseEmpty) { Probe("close_empty"); }
TEST_P(Family, CloseFull) { Probe("close_full"); }
TEST_P(Family, FinishWithoutResources) { Probe("finish_without_resources"); }
TEST_P(Family, EvictPolicy) { Probe("evict_policy"); }
TEST_P(Family, ReadUnwritten) { Probe("read_unwritten"); }
TEST_P(Family, CrossZoneWrite) { Probe("cross_zone_write"); }
TEST_P(Family, AppendNotZoneStart) { Probe("append_not_zone_start"); }
TEST_P(Family, WriteViolationErrno) { Probe("write_violation_errno"); }
TEST_P(Family, WritePlugErrno) { Probe("write_plug_errno"); }
TEST_P(Family, TransitionErrno) { Probe("transition_errno"); }

ZBL_INSTANTIATE(Family);

TEST(FamilyTable, EveryCellHasAProbeAndEveryFamilyARow) {
  for (const Cell& c : Cells()) {
    EXPECT_EQ(c.allowed.size(), std::size(kFamilies)) << c.name;
    bool probed = false;
    for (const auto& p : Probes()) probed |= p.cell == c.name;
    EXPECT_TRUE(probed) << c.name;
  }
  EXPECT_EQ(JudgeVariant("close_at_start", "closed", std::string("null_blk")).empty(), false);
  EXPECT_EQ(JudgeVariant("close_at_start", "closed", std::string("zns")), "");
  EXPECT_NE(JudgeVariant("open_full", "changed_to_EMPTY", std::nullopt), "");
  EXPECT_EQ(MatchFamily({{"close_at_start", "closed"}, {"open_full", "error"}}), "zns");
  EXPECT_EQ(MatchFamily({{"close_at_start", "closed"}, {"open_full", "noop"}}), "mixed");
  // Each errno cell holds the one answer its family gives in that state (ci/vm/errno-cells.sh).
  EXPECT_NE(JudgeVariant("write_violation_errno", "eio", std::string("zbc")), "");
  EXPECT_EQ(JudgeVariant("write_violation_errno", "eremoteio", std::string("zbc")), "");
  EXPECT_NE(JudgeVariant("write_violation_errno", "eremoteio", std::string("null_blk")), "");
  EXPECT_NE(JudgeVariant("write_plug_errno", "eremoteio", std::string("zbc")), "");
  for (std::string_view f : kFamilies)
    EXPECT_NE(JudgeVariant("append_not_zone_start", "eio", std::string(f)), "") << f;
}

}  // namespace
}  // namespace zbl::suites
