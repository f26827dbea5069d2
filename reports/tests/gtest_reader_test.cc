#include "gtest_reader.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "load.h"
#include "test_util.h"

namespace zbl::report {
namespace {

using nlohmann::json;
using test_util::kTestdata;

const TestResult* Find(const Source& s, const std::string& suite, const std::string& rule,
                       const std::string& config) {
  for (const TestResult& t : s.tests) {
    if (t.suite == suite && t.rule == rule && t.config == config) {
      return &t;
    }
  }
  return nullptr;
}

// One testcase object inside a minimal GoogleTest document.
Source ReadOne(const json& testcase, Diagnostics& diag, const std::string& suite = "Inst/Suite") {
  json doc = {{"testsuites", {{{"name", suite}, {"testsuite", {testcase}}}}}};
  Source s;
  ReadGtest(doc, "inline.json", "inline.json", s, diag);
  return s;
}

TEST(SplitTestName, ParametrizedUsesSuiteAfterLastSlashAndConfigAfterLastSlash) {
  TestName id = SplitTestName("Devices/ZoneWrite", "WriteAtWritePointer/emulated_hm_4k");
  EXPECT_EQ(id.suite, "ZoneWrite");
  EXPECT_EQ(id.rule, "WriteAtWritePointer");
  EXPECT_EQ(id.config, "emulated_hm_4k");
}

TEST(SplitTestName, PlainTestsAreUnit) {
  TestName id = SplitTestName("LimitsMerge", "ChildLimitsPropagate");
  EXPECT_EQ(id.suite, "LimitsMerge");
  EXPECT_EQ(id.rule, "ChildLimitsPropagate");
  EXPECT_EQ(id.config, "unit");
}

TEST(SplitTestName, TypedTestsUseTheTypeNotTheIndex) {
  TestName id = SplitTestName("Prefix/QueueTest/1", "Drains", "zbl::UringQueue");
  EXPECT_EQ(id.suite, "QueueTest");
  EXPECT_EQ(id.rule, "Drains");
  EXPECT_EQ(id.config, "zbl::UringQueue");
}

TEST(SplitTestName, EmptyNamesGetPlaceholders) {
  TestName id = SplitTestName("NonTestSuiteFailure", "");
  EXPECT_EQ(id.rule, "(outside any test)");
  EXPECT_EQ(id.config, "unit");
}

TEST(ReadGtest, ConformanceFileFromGtest112) {
  Diagnostics diag;
  Source s = LoadSource(kTestdata / "fleet/nullblk", diag);
  size_t pass = 0, fail = 0, skip = 0;
  for (const TestResult& t : s.tests) {
    if (t.file != "conformance.json") {
      continue;
    }
    pass += t.outcome == Outcome::kPass;
    fail += t.outcome == Outcome::kFail;
    skip += t.outcome == Outcome::kSkip;
  }
  EXPECT_EQ(pass, 26u);
  EXPECT_EQ(fail, 1u);
  EXPECT_EQ(skip, 3u);

  const TestResult* f = Find(s, "ZoneWrite", "WriteNotAtWritePointerFails", "emulated_ha_512");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kFail);
  EXPECT_NE(f->message.find("suites/conformance_test.cc:"), std::string::npos);
  EXPECT_NE(f->message.find("<expected EIO>"), std::string::npos);
  EXPECT_EQ(f->option_string, "driver=emulated,model=HA,block_size=512,zone_size=1M,profile=zbc");

  const TestResult* sk = Find(s, "ZoneMgmt", "ResetAll", "emulated_hm_4k");
  ASSERT_NE(sk, nullptr);
  EXPECT_EQ(sk->outcome, Outcome::kSkip);
  EXPECT_EQ(sk->message, "reset-all needs the zone_reset_all capability");

  const TestResult* v = Find(s, "ZoneMgmt", "CloseEmptyZone", "null_blk_mem");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->variant, "close_empty_explicit=noop");

  const TestResult* d = Find(s, "LimitsMerge", "DISABLED_HugeZoneCount", "unit");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->outcome, Outcome::kSkip);
  EXPECT_NE(d->message.find("disabled"), std::string::npos);
}

TEST(ReadGtest, SkipWithoutRecordedReasonSaysWhy) {
  Diagnostics diag;
  Source s = ReadOne({{"name", "R/c"},
                      {"status", "RUN"},
                      {"result", "SKIPPED"},
                      {"timestamp", "2026-11-25T10:00:00Z"}},
                     diag);
  ASSERT_EQ(s.tests.size(), 1u);
  EXPECT_EQ(s.tests[0].outcome, Outcome::kSkip);
  EXPECT_NE(s.tests[0].message.find("GTEST_SKIP messages"), std::string::npos);
}

TEST(ReadGtest, NeverStartedTestPointsAtSuiteSetUp) {
  Diagnostics diag;
  Source s = ReadOne({{"name", "A"},
                      {"status", "RUN"},
                      {"result", "SKIPPED"},
                      {"timestamp", "1970-01-01T00:00:00Z"}},
                     diag, "S");
  EXPECT_NE(s.tests[0].message.find("SetUpTestSuite"), std::string::npos);
}

TEST(ReadGtest, NewerSkipMessageFormatsAreRead) {
  Diagnostics diag;
  Source s = ReadOne({{"name", "R/c"},
                      {"result", "SKIPPED"},
                      {"skipped", {{{"message", "file.cc:3\nno append"}}}}},
                     diag);
  EXPECT_EQ(s.tests[0].message, "file.cc:3\nno append");
}

TEST(ReadGtest, FailuresWinOverSkipped) {
  Diagnostics diag;
  Source s =
      ReadOne({{"name", "R/c"},
               {"status", "RUN"},
               {"result", "SKIPPED"},
               {"failures", {{{"failure", "a.cc:1\nfirst"}}, {{"failure", "a.cc:2\nsecond"}}}}},
              diag);
  EXPECT_EQ(s.tests[0].outcome, Outcome::kFail);
  EXPECT_EQ(s.tests[0].message, "a.cc:1\nfirst\n\na.cc:2\nsecond");
}

TEST(ReadGtest, PropertiesOverrideNames) {
  Diagnostics diag;
  Source s = ReadOne({{"name", "R/0"},
                      {"status", "RUN"},
                      {"result", "COMPLETED"},
                      {"config", "real-config-name"},
                      {"time", "0.25s"}},
                     diag);
  EXPECT_EQ(s.tests[0].config, "real-config-name");
  EXPECT_DOUBLE_EQ(s.tests[0].seconds, 0.25);
  EXPECT_TRUE(diag.warnings().empty());
}

TEST(ReadGtest, ListTestsOutputIsSkippedNotPassed) {
  Diagnostics diag;
  Source s = ReadOne({{"name", "R/c"}, {"file", "x.cc"}, {"line", 3}}, diag);
  EXPECT_EQ(s.tests[0].outcome, Outcome::kSkip);
  EXPECT_NE(s.tests[0].message.find("not run"), std::string::npos);
}

TEST(ReadGtest, UnknownResultWarnsAndCountsAsSkip) {
  Diagnostics diag;
  Source s = ReadOne({{"name", "R/c"}, {"status", "RUN"}, {"result", "EXPLODED"}}, diag);
  EXPECT_EQ(s.tests[0].outcome, Outcome::kSkip);
  ASSERT_EQ(diag.warnings().size(), 1u);
  EXPECT_EQ(diag.warnings()[0].file, "inline.json");
}

TEST(ReadGtest, WrongTypesWarnInsteadOfThrowing) {
  Diagnostics diag;
  json doc = {{"testsuites",
               {{{"name", "S"}, {"testsuite", "not a list"}},
                {{"name", "T"}, {"testsuite", {42, {{"name", {1, 2}}}}}}}}};
  Source s;
  EXPECT_NO_THROW(ReadGtest(doc, "odd.json", "odd.json", s, diag));
  EXPECT_GE(diag.warnings().size(), 3u);
  for (const Warning& w : diag.warnings()) {
    EXPECT_EQ(w.file, "odd.json");
  }
}

TEST(ReadGtest, LongMessagesAreCutAtACharacterBoundary) {
  Diagnostics diag;
  std::string huge(kMaxMessageBytes + 100, 'x');
  huge.replace(kMaxMessageBytes - 1, 2, "\xc3\xa9");  // a 2-byte character across the cut
  Source s = ReadOne({{"name", "R/c"}, {"failures", {{{"failure", huge}}}}}, diag);
  const std::string& m = s.tests[0].message;
  EXPECT_LT(m.size(), huge.size());
  EXPECT_NE(m.find("truncated"), std::string::npos);
  EXPECT_NO_THROW(json(m).dump());
}

}  // namespace
}  // namespace zbl::report
