#include "load.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"

namespace zbl::report {
namespace {

using nlohmann::json;
using test_util::kTestdata;

std::string KindOf(const Source& s, const std::string& path) {
  for (const FileInfo& f : s.files) {
    if (f.path == path) {
      return f.kind;
    }
  }
  return "(not listed)";
}

bool HasWarning(const Diagnostics& d, const std::string& file_end, const std::string& text) {
  return std::any_of(d.warnings().begin(), d.warnings().end(), [&](const Warning& w) {
    return w.file.ends_with(file_end) && w.message.find(text) != std::string::npos;
  });
}

TEST(LoadSource, ReadsEveryJsonFileRecursivelyAndClassifiesByContent) {
  Diagnostics diag;
  Source s = LoadSource(kTestdata / "fleet/nullblk", diag);
  EXPECT_EQ(s.files.size(), 7u);
  EXPECT_EQ(KindOf(s, "conformance.json"), "gtest");
  EXPECT_EQ(KindOf(s, "bench.json"), "benchmark");
  EXPECT_EQ(KindOf(s, "devices.json"), "devices");
  EXPECT_EQ(KindOf(s, "compare.json"), "compare");
  EXPECT_EQ(KindOf(s, "vm-devices.json"), "vm-devices");
  EXPECT_EQ(KindOf(s, "notes/ci-meta.json"), "unknown");
  EXPECT_EQ(KindOf(s, "broken.json"), "malformed");
  EXPECT_FALSE(s.tests.empty());
  EXPECT_FALSE(s.benchmarks.empty());
  EXPECT_EQ(s.comparisons.size(), 1u);
  EXPECT_FALSE(s.env.vm_devices.is_null());
  EXPECT_EQ(s.env.bench_context["host_name"], "ci-nullblk-1");
}

TEST(LoadSource, MalformedAndUnknownFilesWarnByName) {
  Diagnostics diag;
  Source s = LoadSource(kTestdata / "fleet/nullblk", diag);
  EXPECT_TRUE(HasWarning(diag, "fleet/nullblk/broken.json", "malformed JSON"));
  EXPECT_TRUE(HasWarning(diag, "fleet/nullblk/broken.json", "line"));  // where it broke
  EXPECT_TRUE(HasWarning(diag, "fleet/nullblk/notes/ci-meta.json", "not a results file"));
  EXPECT_EQ(diag.warnings().size(), 3u);  // + devices.json's odd "model"
}

TEST(LoadSource, RepairsGtest112OutputAfterAFailureOutsideAnyTest) {
  Diagnostics diag;
  Source s = LoadSource(kTestdata / "fleet/zns", diag);
  EXPECT_TRUE(HasWarning(diag, "unit/framework_test.json", "repaired"));
  auto env = std::find_if(s.tests.begin(), s.tests.end(),
                          [](const TestResult& t) { return t.suite == "NonTestSuiteFailure"; });
  ASSERT_NE(env, s.tests.end());
  EXPECT_EQ(env->outcome, Outcome::kFail);
  EXPECT_NE(env->message.find("env teardown"), std::string::npos);
}

TEST(LoadSource, VariantsRecordedByTestsJoinTheFingerprint) {
  Diagnostics diag;
  Source s = LoadSource(kTestdata / "fleet/zns", diag);
  const DeviceConfig& zns = s.Config("zns_qemu");
  EXPECT_EQ(zns.fingerprint.at("read_beyond_wp"), "zeroes");
  EXPECT_EQ(zns.fingerprint_src.at("read_beyond_wp"), "ZoneWrite.ReadBeyondWritePointer");
  // The test saw "error" where devices.json says "noop" for the ZBC disk: reported, not hidden.
  EXPECT_TRUE(HasWarning(diag, "conformance.json", "close_empty_explicit=error"));
  EXPECT_EQ(s.Config("zbc_scsi_debug").fingerprint.at("close_empty_explicit"), "noop");
}

TEST(LoadSource, EmptyFolderLoadsNothing) {
  test_util::TempDir dir;
  Diagnostics diag;
  Source s = LoadSource(dir.path(), diag);
  EXPECT_TRUE(s.files.empty());
  EXPECT_TRUE(diag.warnings().empty());
}

TEST(ParseResultJson, MalformedTextIsAWarningNotAnException) {
  Diagnostics diag;
  EXPECT_FALSE(ParseResultJson("{\"testsuites\": [", "x.json", diag));
  ASSERT_EQ(diag.warnings().size(), 1u);
  EXPECT_EQ(diag.warnings()[0].file, "x.json");
}

TEST(ParseResultJson, NumberTooLargeIsAWarningNotAnException) {
  Diagnostics diag;
  EXPECT_FALSE(ParseResultJson("{\"iops\": 1e99999}", "big.json", diag));
  ASSERT_EQ(diag.warnings().size(), 1u);
  EXPECT_EQ(diag.warnings()[0].file, "big.json");
}

TEST(InsertMissingCommas, OnlyBetweenObjectsOutsideStrings) {
  EXPECT_EQ(InsertMissingCommas("[{\"a\":1}\n  {\"b\":\"} {\"}]"),
            "[{\"a\":1}\n  ,{\"b\":\"} {\"}]");
  EXPECT_EQ(InsertMissingCommas("{\"s\":\"\\\"} {\"}"), "{\"s\":\"\\\"} {\"}");
}

TEST(Classify, ByContent) {
  EXPECT_EQ(Classify({{"testsuites", json::array()}}, "a.json"), FileKind::kGtest);
  EXPECT_EQ(Classify({{"benchmarks", json::array()}, {"context", json::object()}}, "b.json"),
            FileKind::kBenchmark);
  EXPECT_EQ(Classify({{"schema", "zbl-devices/1"}}, "whatever.json"), FileKind::kDevices);
  EXPECT_EQ(Classify({{"configs", json::array()}}, "d.json"), FileKind::kDevices);
  EXPECT_EQ(Classify({{"schema", "zbl-compare/1"}}, "c.json"), FileKind::kCompare);
  EXPECT_EQ(Classify({{"results", json::array()}, {"ratios", json::array()}}, "c.json"),
            FileKind::kCompare);
  EXPECT_EQ(Classify(json::array(), "dir/vm-devices.json"), FileKind::kVmDevices);
  EXPECT_EQ(Classify(json::array(), "list.json"), FileKind::kUnknown);
  EXPECT_EQ(Classify(42, "n.json"), FileKind::kUnknown);
}

TEST(FinishSource, DuplicateTestsKeepTheWorstOutcome) {
  Source s;
  auto add = [&](Outcome o, const char* file) {
    TestResult t;
    t.suite = "S";
    t.rule = "R";
    t.config = "c";
    t.outcome = o;
    t.file = file;
    s.tests.push_back(t);
  };
  add(Outcome::kPass, "run1.json");
  add(Outcome::kFail, "run2.json");
  add(Outcome::kSkip, "run3.json");
  Diagnostics diag;
  FinishSource(s, diag);
  ASSERT_EQ(s.tests.size(), 1u);
  EXPECT_EQ(s.tests[0].outcome, Outcome::kFail);
  EXPECT_EQ(s.tests[0].file, "run2.json");
  EXPECT_EQ(s.tests[0].seen, 3);
}

TEST(AssignLabels, FolderNamesMadeUnique) {
  std::vector<Source> s(4);
  s[0].dir = "/ci/run1/results";
  s[1].dir = "/ci/run2/results/";
  s[2].dir = "/ci/nullblk";
  s[3].dir = "/ci/nullblk";
  AssignLabels(s);
  EXPECT_EQ(s[0].label, "run1/results");
  EXPECT_EQ(s[1].label, "run2/results");
  EXPECT_EQ(s[2].label, "ci/nullblk");
  EXPECT_EQ(s[3].label, "ci/nullblk #2");
}

}  // namespace
}  // namespace zbl::report
