// The kernel dimension: the same device folder under two kernels, compared rule by rule and cell
// by cell.
#include "kernels.h"

#include <gtest/gtest.h>

#include "model.h"

namespace zbl::report {
namespace {

using nlohmann::json;

TestResult MakeTest(const std::string& config, const std::string& rule, Outcome o,
                const std::string& variant = "", const std::string& message = "") {
  TestResult t;
  t.suite = "Families";
  t.rule = rule;
  t.config = config;
  t.outcome = o;
  t.variant = variant;
  t.message = message;
  return t;
}

Source Device(const std::string& dir, const std::string& kernel, const std::string& wv_errno,
              Outcome append_outcome) {
  Source s;
  s.dir = dir;
  s.label = dir;
  s.env.kernel = kernel;
  DeviceConfig& c = s.Config("user_device");
  c.fingerprint = {{"write_violation_errno", wv_errno}, {"close_empty", "noop"}};
  s.tests.push_back(MakeTest("user_device", "WriteViolationErrno", Outcome::kPass,
                         "write_violation_errno=" + wv_errno));
  s.tests.push_back(MakeTest("user_device", "AppendEmulated", append_outcome, "",
                         append_outcome == Outcome::kSkip ? "no zone append\nsecond line" : ""));
  s.tests.push_back(MakeTest("user_device", "CloseEmpty", Outcome::kPass));
  return s;
}

TEST(KernelView, DeviceKeyIsTheFolderName) {
  Source s;
  s.dir = "results-vm/6.1/zbc/";
  s.label = "6.1/zbc";
  EXPECT_EQ(DeviceKey(s), "zbc");
}

TEST(KernelView, ListsEachChangedCellAndRuleWithBothKernelsAnswers) {
  std::vector<Source> sources = {
      Device("vm/6.12/zbc", "6.12.118+deb12-amd64", "eio", Outcome::kPass),
      Device("vm/6.1/zbc", "6.1.0-57-amd64", "eremoteio", Outcome::kSkip),
  };
  json v = KernelView(sources);
  EXPECT_EQ(v["kernels"], json({"6.1.0-57-amd64", "6.12.118+deb12-amd64"}));
  ASSERT_EQ(v["devices"].size(), 1u);
  EXPECT_EQ(v["devices"][0]["device"], "zbc");
  EXPECT_EQ(v["devices"][0]["sources"], json({1, 0}));  // sorted by kernel
  const json& ch = v["changes"];
  // close_empty and CloseEmpty agree; the errno cell, its rule's variant and the skip differ.
  ASSERT_EQ(ch.size(), 3u) << ch.dump(1);
  EXPECT_EQ(ch[0]["kind"], "cell");
  EXPECT_EQ(ch[0]["name"], "write_violation_errno");
  EXPECT_EQ(ch[0]["config"], "user_device");
  EXPECT_EQ(ch[0]["answers"][0]["kernel"], "6.1.0-57-amd64");
  EXPECT_EQ(ch[0]["answers"][0]["answer"], "eremoteio");
  EXPECT_EQ(ch[0]["answers"][1]["answer"], "eio");
  EXPECT_EQ(ch[1]["kind"], "rule");
  EXPECT_EQ(ch[1]["suite"], "Families");
  EXPECT_EQ(ch[1]["name"], "AppendEmulated");
  EXPECT_EQ(ch[1]["answers"][0]["answer"], "skip");
  EXPECT_EQ(ch[1]["answers"][0]["message"], "no zone append");  // first line only
  EXPECT_EQ(ch[1]["answers"][1]["answer"], "pass");
  EXPECT_EQ(ch[2]["name"], "WriteViolationErrno");
  EXPECT_EQ(ch[2]["answers"][0]["answer"], "pass (write_violation_errno=eremoteio)");
}

TEST(KernelView, ARuleOnlyOneKernelRanIsAbsentOnTheOther) {
  std::vector<Source> sources = {
      Device("a/6.12/nullb", "6.12.118+deb12-amd64", "eio", Outcome::kPass),
      Device("a/6.1/nullb", "6.1.0-57-amd64", "eio", Outcome::kPass),
  };
  sources[0].tests.push_back(MakeTest("user_device", "ZonedUblk", Outcome::kPass));
  json ch = KernelView(sources)["changes"];
  ASSERT_EQ(ch.size(), 1u) << ch.dump(1);
  EXPECT_EQ(ch[0]["name"], "ZonedUblk");
  EXPECT_EQ(ch[0]["answers"][0]["answer"], "absent");
  EXPECT_EQ(ch[0]["answers"][1]["answer"], "pass");
}

TEST(KernelView, DifferentDevicesOrOneKernelAreNotCompared) {
  std::vector<Source> sources = {
      Device("vm/6.12/zbc", "6.12.118+deb12-amd64", "eio", Outcome::kPass),
      Device("vm/6.1/zns", "6.1.0-57-amd64", "eremoteio", Outcome::kSkip),
      Device("host/zns", "6.1.0-57-amd64", "eio", Outcome::kPass),  // same kernel as vm/6.1/zns
  };
  json v = KernelView(sources);
  EXPECT_EQ(v["kernels"].size(), 2u);
  EXPECT_TRUE(v["devices"].empty());
  EXPECT_TRUE(v["changes"].empty());
}

TEST(KernelView, ModelColumnsCarryTheirKernelAndTotalsCountChanges) {
  std::vector<Source> sources = {
      Device("vm/6.12/zbc", "6.12.118+deb12-amd64", "eio", Outcome::kPass),
      Device("vm/6.1/zbc", "6.1.0-57-amd64", "eremoteio", Outcome::kSkip),
  };
  Diagnostics diag;
  json m = BuildModel(sources, diag, ReportMeta{}, nullptr);
  ASSERT_EQ(m["columns"].size(), 2u);
  EXPECT_EQ(m["columns"][0]["kernel"], "6.12.118+deb12-amd64");
  EXPECT_EQ(m["columns"][1]["kernel"], "6.1.0-57-amd64");
  EXPECT_EQ(m["totals"]["kernels"], 2);
  EXPECT_EQ(m["totals"]["kernel_changes"], 3);
  EXPECT_EQ(m["kernels"]["changes"].size(), 3u);
}

}  // namespace
}  // namespace zbl::report
