// Merging several result folders into one model (the fleet view).
#include "model.h"

#include <gtest/gtest.h>

#include "load.h"
#include "test_util.h"

namespace zbl::report {
namespace {

using nlohmann::json;
using test_util::kTestdata;

struct Fleet {
  Diagnostics diag;
  std::vector<Source> sources;
  json model;
};

Fleet LoadFleet() {
  Fleet f;
  f.sources.push_back(LoadSource(kTestdata / "fleet/nullblk", f.diag));
  f.sources.push_back(LoadSource(kTestdata / "fleet/zns", f.diag));
  AssignLabels(f.sources);
  ReportMeta meta;
  meta.title = "fleet";
  f.model = BuildModel(f.sources, f.diag, meta, nullptr);
  return f;
}

TEST(BuildModel, TotalsAddUpOverAllFolders) {
  Fleet f = LoadFleet();
  const json& t = f.model["totals"];
  EXPECT_EQ(t["passed"], 42);
  EXPECT_EQ(t["failed"], 4);
  EXPECT_EQ(t["skipped"], 8);
  EXPECT_EQ(t["total"], 54);
  EXPECT_EQ(t["sources"], 2);
  EXPECT_EQ(t["warnings"], f.diag.warnings().size());
  EXPECT_EQ(f.model["schema"], kModelSchema);
  EXPECT_TRUE(f.model["fleet"].get<bool>());
  EXPECT_TRUE(f.model["regressions"].is_null());
}

TEST(BuildModel, ColumnsAreMachineTimesConfiguration) {
  Fleet f = LoadFleet();
  std::vector<std::string> labels;
  for (const json& c : f.model["columns"]) {
    labels.push_back(c["label"]);
  }
  EXPECT_EQ(labels,
            (std::vector<std::string>{"nullblk · emulated_hm_4k", "nullblk · emulated_ha_512",
                                      "nullblk · null_blk_mem", "nullblk · unit", "zns · zns_qemu",
                                      "zns · zbc_scsi_debug", "zns · unit"}));
  EXPECT_EQ(f.model["columns"][4]["source"], 1);
  EXPECT_EQ(f.model["columns"][4]["config"], "zns_qemu");
}

TEST(BuildModel, SuitesAndRulesAreSharedAcrossFolders) {
  Fleet f = LoadFleet();
  const json& suites = f.model["suites"];
  size_t write = 0;
  for (size_t i = 0; i < suites.size(); ++i) {
    write += suites[i] == "ZoneWrite";
  }
  EXPECT_EQ(write, 1u);
  for (const json& r : f.model["results"]) {
    ASSERT_LT(r["rule"].get<size_t>(), f.model["rules"].size());
    ASSERT_LT(r["col"].get<size_t>(), f.model["columns"].size());
    if (r["status"] != "pass") {
      EXPECT_TRUE(r.contains("message")) << r.dump();
      EXPECT_TRUE(r.contains("file")) << r.dump();
    }
  }
}

TEST(BuildModel, DevicesBenchmarksAndComparisonsPerFolder) {
  Fleet f = LoadFleet();
  const json& src = f.model["sources"];
  ASSERT_EQ(src.size(), 2u);
  EXPECT_EQ(src[0]["label"], "nullblk");
  EXPECT_EQ(src[0]["env"]["host"], "ci-nullblk-1");
  EXPECT_EQ(src[1]["env"]["host"], "ci-zns-1");
  EXPECT_EQ(src[1]["configs"][0]["fingerprint_match"], "zns");
  EXPECT_EQ(src[1]["configs"][0]["fingerprint"]["read_beyond_wp"], "zeroes");
  EXPECT_EQ(f.model["benchmarks"].size(), 14u + 7u);
  EXPECT_EQ(f.model["totals"]["bench_errors"], 1);
  EXPECT_EQ(f.model["comparisons"].size(), 1u);
  EXPECT_EQ(f.model["comparisons"][0]["source"], 0);
}

TEST(BuildModel, SingleFolderColumnsAreJustConfigurations) {
  Diagnostics diag;
  std::vector<Source> one = {LoadSource(kTestdata / "fleet/nullblk", diag)};
  AssignLabels(one);
  json m = BuildModel(one, diag, {}, nullptr);
  EXPECT_FALSE(m["fleet"].get<bool>());
  EXPECT_EQ(m["columns"][0]["label"], "emulated_hm_4k");
  EXPECT_EQ(m["columns"].back()["label"], "unit");
}

}  // namespace
}  // namespace zbl::report
