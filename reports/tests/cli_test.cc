// The zbl-report command: arguments, output, exit status.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace zbl::report {
namespace {

using namespace test_util;

std::string Bin() { return Quote(kReportBin); }
std::string Data(const std::string& rel) { return Quote((kTestdata / rel).string()); }

TEST(Cli, WritesThePageAndPrintsItsPath) {
  TempDir tmp;
  auto out = tmp.path() / "page.html";
  CommandResult r = RunCommand(Bin() + " --quiet --title 'CI run' --out " + Quote(out.string()) +
                               " " + Data("fleet/nullblk") + " " + Data("fleet/zns"));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, out.string() + "\n");
  std::string page = ReadAll(out);
  EXPECT_NE(page.find("\"title\":\"CI run\""), std::string::npos);
  EXPECT_NE(page.find("Chart.js v"), std::string::npos) << "Chart.js not inlined";
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".tmp"));
}

TEST(Cli, WarningsGoToStderrNamingTheFile) {
  TempDir tmp;
  CommandResult r = RunCommand(Bin() + " --out " + Quote((tmp.path() / "p.html").string()) + " " +
                               Data("fleet/nullblk") + " 2>&1 >/dev/null");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("warning: "), std::string::npos);
  EXPECT_NE(r.out.find("broken.json: malformed JSON"), std::string::npos);
}

TEST(Cli, BaselineWithRegressionsExitsThree) {
  TempDir tmp;
  CommandResult r =
      RunCommand(Bin() + " -q --out " + Quote((tmp.path() / "p.html").string()) + " --baseline " +
                 Data("baseline/nullblk") + " " + Data("fleet/nullblk") + " 2>/dev/null");
  EXPECT_EQ(r.status, 3);
  std::string page = ReadAll(tmp.path() / "p.html");
  EXPECT_NE(page.find("\"newly_failing\":[{"), std::string::npos);
}

TEST(Cli, BaselineWithoutRegressionsExitsZero) {
  TempDir tmp;
  CommandResult r =
      RunCommand(Bin() + " -q --out " + Quote((tmp.path() / "p.html").string()) + " --baseline " +
                 Data("fleet/nullblk") + " " + Data("fleet/nullblk"));
  EXPECT_EQ(r.status, 0);
}

TEST(Cli, ThresholdChangesWhatCounts) {
  TempDir tmp;
  std::string base = Bin() + " -q --out " + Quote((tmp.path() / "p.html").string()) +
                     " --baseline " + Data("baseline/nullblk") + " " + Data("fleet/nullblk");
  EXPECT_EQ(RunCommand(base + " --threshold 50% 2>/dev/null").status,
            3);  // rule changes still count
  EXPECT_EQ(RunCommand(base + " --threshold nope 2>/dev/null").status, 2);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(RunCommand(Bin() + " 2>/dev/null").status, 2);
  EXPECT_EQ(RunCommand(Bin() + " /nonexistent/results 2>/dev/null").status, 2);
  EXPECT_EQ(RunCommand(Bin() + " --bogus " + Data("fleet/zns") + " 2>/dev/null").status, 2);
  CommandResult help = RunCommand(Bin() + " --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--baseline"), std::string::npos);
  EXPECT_NE(help.out.find("Exit status"), std::string::npos);
}

TEST(Cli, UnwritableOutputExitsOne) {
  EXPECT_EQ(
      RunCommand(Bin() + " -q --out /nonexistent/dir/p.html " + Data("fleet/zns") + " 2>/dev/null")
          .status,
      1);
}

TEST(Cli, UnreadableChartJsExitsOne) {
  TempDir tmp;
  EXPECT_EQ(
      RunCommand(Bin() + " -q --chartjs /nonexistent.js --out " +
                 Quote((tmp.path() / "p.html").string()) + " " + Data("fleet/zns") + " 2>/dev/null")
          .status,
      1);
}

TEST(Cli, FolderWithoutResultsStillGivesAPage) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "empty");
  CommandResult r = RunCommand(Bin() + " --out " + Quote((tmp.path() / "p.html").string()) + " " +
                               Quote((tmp.path() / "empty").string()) + " 2>&1");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("no *.json results found"), std::string::npos);
}

}  // namespace
}  // namespace zbl::report
