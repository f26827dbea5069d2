// Family cells: each cell probed on a fresh device, its variant recorded and judged against the
// families' table (and the configured family, if any).
#include <algorithm>

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

TEST(FamilyTable, KernelVersionsParse) {
  EXPECT_EQ(ParseLinuxVersion("6.1.0-57-amd64"), LinuxVersion(6, 1, 0));
  EXPECT_EQ(ParseLinuxVersion("6.12.118+deb12-amd64"), LinuxVersion(6, 12, 118));
  EXPECT_EQ(ParseLinuxVersion("6.12"), LinuxVersion(6, 12));
  EXPECT_EQ(ParseLinuxVersion("6.18.44-fc"), LinuxVersion(6, 18, 44));
  EXPECT_EQ(ParseLinuxVersion("6"), std::nullopt);
  EXPECT_EQ(ParseLinuxVersion("six.one"), std::nullopt);
  EXPECT_EQ(ParseLinuxVersion(""), std::nullopt);
  EXPECT_LT(*ParseLinuxVersion("6.9.12"), LinuxVersion(6, 10));
  EXPECT_EQ(LinuxVersionString(LinuxVersion(6, 1)), "6.1");
  EXPECT_EQ(LinuxVersionString(LinuxVersion(6, 12, 118)), "6.12.118");
}

TEST(FamilyTable, KernelKeyedAnswersNameRealFamiliesAndNonEmptyRanges) {
  for (const Cell& c : Cells()) {
    for (const KernelAnswers& k : c.by_kernel) {
      EXPECT_NE(std::find(std::begin(kFamilies), std::end(kFamilies), k.family), std::end(kFamilies))
          << c.name << ": " << k.family;
      EXPECT_TRUE(k.from == 0 || k.before == 0 || k.from < k.before) << c.name;
      EXPECT_FALSE(k.allowed.empty()) << c.name;
      EXPECT_FALSE(k.why.empty()) << c.name;
    }
  }
}

// A device is held to its running kernel's answers only: a write Linux 6.12's zone write plug
// refuses gives EIO there; on 6.1 (no plug) the ZBC disk itself refuses it with EREMOTEIO. Each
// kernel refuses the other's answer and says which kernel's answers it applied.
TEST(FamilyTable, EachKernelAcceptsOnlyItsOwnAnswers) {
  const auto zbc = std::optional<std::string>("zbc");
  const uint32_t k61 = LinuxVersion(6, 1), k612 = LinuxVersion(6, 12, 118);
  EXPECT_EQ(JudgeVariant("write_plug_errno", "eio", zbc, k612), "");
  EXPECT_EQ(JudgeVariant("write_plug_errno", "eremoteio", zbc, k61), "");
  std::string why = JudgeVariant("write_plug_errno", "eio", zbc, k61);
  EXPECT_NE(why.find("on Linux 6.1"), std::string::npos) << why;
  EXPECT_NE(why.find("allows eremoteio"), std::string::npos) << why;
  why = JudgeVariant("write_plug_errno", "eremoteio", zbc, k612);
  EXPECT_NE(why.find("on Linux 6.12.118"), std::string::npos) << why;
  EXPECT_NE(why.find("allows eio"), std::string::npos) << why;
  // The range ends before 6.10, where zone write plugging arrived.
  EXPECT_NE(JudgeVariant("write_plug_errno", "eremoteio", zbc, LinuxVersion(6, 10)), "");
  EXPECT_EQ(JudgeVariant("write_plug_errno", "eremoteio", zbc, LinuxVersion(6, 9, 12)), "");
  // zbl's own models answer as the current kernels do.
  EXPECT_EQ(JudgeVariant("write_plug_errno", "eio", zbc, std::nullopt), "");
  EXPECT_NE(JudgeVariant("write_plug_errno", "eremoteio", zbc, std::nullopt), "");
  // Other families are not touched by the zbc range.
  EXPECT_EQ(JudgeVariant("write_plug_errno", "eio", std::string("null_blk"), k61), "");
  // A variant only an older kernel shows is still a known variant when no family is given.
  EXPECT_EQ(JudgeVariant("write_plug_errno", "eremoteio", std::nullopt, k612), "");
  EXPECT_EQ(MatchFamily({{"write_plug_errno", "eremoteio"}, {"close_empty", "noop"}}, k61), "zbc");
  EXPECT_EQ(MatchFamily({{"write_plug_errno", "eremoteio"}, {"close_empty", "noop"}}, k612), "mixed");
}

}  // namespace
}  // namespace zbl::suites
