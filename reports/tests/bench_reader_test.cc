#include "bench_reader.h"

#include <gtest/gtest.h>

#include "load.h"
#include "test_util.h"

namespace zbl::report {
namespace {

using nlohmann::json;
using test_util::kTestdata;

const BenchRun* Find(const Source& s, const std::string& key) {
  for (const BenchRun& b : s.benchmarks) {
    if (b.key == key) {
      return &b;
    }
  }
  return nullptr;
}

Source ReadFile(const std::string& rel) {
  Diagnostics diag;
  Source s;
  auto text = test_util::ReadAll(kTestdata / rel);
  auto doc = ParseResultJson(text, rel, diag);
  EXPECT_TRUE(doc.has_value());
  ReadBenchmark(*doc, rel, "bench.json", s, diag);
  EXPECT_TRUE(diag.warnings().empty());
  return s;
}

TEST(SplitBenchName, FamilyConfigAndParams) {
  BenchName n = SplitBenchName("Append/emulated_hm/bs:4096/qd:16");
  EXPECT_EQ(n.family, "Append");
  EXPECT_EQ(n.config, "emulated_hm");
  EXPECT_EQ(n.params, (std::map<std::string, std::string>{{"bs", "4096"}, {"qd", "16"}}));
}

TEST(SplitBenchName, DropsGoogleBenchmarkBookkeepingButKeepsThreads) {
  BenchName n = SplitBenchName(
      "Append/emulated_hm/bs:4096/4096/repeats:3/min_time:0.100/iterations:10/real_time/threads:2");
  EXPECT_EQ(n.config, "emulated_hm");
  EXPECT_EQ(n.params, (std::map<std::string, std::string>{
                          {"arg0", "4096"}, {"bs", "4096"}, {"threads", "2"}}));
}

TEST(SplitBenchName, NumericSecondSegmentIsAnArgumentNotAConfig) {
  BenchName n = SplitBenchName("BM_memcpy/64");
  EXPECT_EQ(n.family, "BM_memcpy");
  EXPECT_EQ(n.config, "");
  EXPECT_EQ(n.params.at("arg0"), "64");
}

TEST(ToNanoseconds, Units) {
  EXPECT_DOUBLE_EQ(*ToNanoseconds(2, "us"), 2000);
  EXPECT_DOUBLE_EQ(*ToNanoseconds(3, "ms"), 3e6);
  EXPECT_DOUBLE_EQ(*ToNanoseconds(1, "s"), 1e9);
  EXPECT_FALSE(ToNanoseconds(1, "fortnight"));
}

TEST(ReadBenchmark, OneRunPerNameWithAggregatesReduced) {
  Source s = ReadFile("fleet/nullblk/bench.json");
  // 3 thread counts + 3 queue depths + 1 reset, for 2 configurations.
  EXPECT_EQ(s.benchmarks.size(), 14u);

  const BenchRun* w = Find(s, "Write/emulated_hm_4k/bs:4096/qd:4");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->stat, "median");
  EXPECT_EQ(w->repetitions, 3);
  ASSERT_TRUE(w->bytes_per_second);
  EXPECT_NEAR(*w->bytes_per_second, 900e6 * 1.1 * 2, 1);  // the middle repetition
  ASSERT_TRUE(w->cv_pct);
  EXPECT_GT(*w->cv_pct, 1);
  EXPECT_LT(*w->cv_pct, 5);
  EXPECT_TRUE(w->counters.count("p50_ns"));
  EXPECT_TRUE(w->counters.count("p99_ns"));
  EXPECT_FALSE(w->params.count("threads"));

  const BenchRun* a = Find(s, "Append/null_blk_mem/bs:4096/threads:4");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->stat, "single");
  EXPECT_EQ(a->config, "null_blk_mem");
  EXPECT_EQ(a->params.at("threads"), "4");

  const BenchRun* r = Find(s, "ZoneReset/emulated_hm_4k");
  ASSERT_NE(r, nullptr);
  EXPECT_DOUBLE_EQ(*r->items_per_second, 20000);
  EXPECT_DOUBLE_EQ(r->counters.at("zones_per_second"), 20000);
}

TEST(ReadBenchmark, ErrorsAreKept) {
  Source s = ReadFile("fleet/nullblk/bench.json");
  const BenchRun* e = Find(s, "Write/null_blk_mem/bs:4096/qd:16");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->error, "EIO: write at 0x10000 failed");
}

TEST(ReadBenchmark, RepetitionsWithoutAggregatesAreAveraged) {
  json doc = {{"benchmarks",
               {{{"name", "W/c/qd:1"},
                 {"run_name", "W/c/qd:1"},
                 {"run_type", "iteration"},
                 {"real_time", 2.0},
                 {"time_unit", "us"},
                 {"bytes_per_second", 100.0}},
                {{"name", "W/c/qd:1"},
                 {"run_name", "W/c/qd:1"},
                 {"run_type", "iteration"},
                 {"real_time", 4.0},
                 {"time_unit", "us"},
                 {"bytes_per_second", 300.0}}}}};
  Diagnostics diag;
  Source s;
  ReadBenchmark(doc, "x.json", "x.json", s, diag);
  ASSERT_EQ(s.benchmarks.size(), 1u);
  EXPECT_EQ(s.benchmarks[0].stat, "avg of 2 runs");
  EXPECT_DOUBLE_EQ(*s.benchmarks[0].real_time_ns, 3000);
  EXPECT_DOUBLE_EQ(*s.benchmarks[0].bytes_per_second, 200);
}

TEST(ReadBenchmark, OldOutputWithoutRunNameUsesNameSuffixes) {
  json doc = {{"benchmarks",
               {{{"name", "W/c"}, {"real_time", 10.0}},
                {{"name", "W/c_mean"}, {"real_time", 11.0}},
                {{"name", "W/c_median"}, {"real_time", 12.0}}}}};
  Diagnostics diag;
  Source s;
  ReadBenchmark(doc, "old.json", "old.json", s, diag);
  ASSERT_EQ(s.benchmarks.size(), 1u);
  EXPECT_EQ(s.benchmarks[0].name, "W/c");
  EXPECT_EQ(s.benchmarks[0].stat, "median");
  EXPECT_DOUBLE_EQ(*s.benchmarks[0].real_time_ns, 12);
}

TEST(ReadBenchmark, NamelessEntriesWarn) {
  json doc = {{"benchmarks", {{{"real_time", 1.0}}, 7}}};
  Diagnostics diag;
  Source s;
  ReadBenchmark(doc, "b.json", "b.json", s, diag);
  EXPECT_TRUE(s.benchmarks.empty());
  EXPECT_EQ(diag.warnings().size(), 2u);
}

}  // namespace
}  // namespace zbl::report
