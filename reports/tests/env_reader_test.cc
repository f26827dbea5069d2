#include "env_reader.h"

#include <gtest/gtest.h>

#include "load.h"
#include "test_util.h"

namespace zbl::report {
namespace {

using nlohmann::json;
using test_util::kTestdata;

json Parse(const std::string& rel) { return json::parse(test_util::ReadAll(kTestdata / rel)); }

TEST(ReadDevices, EnvironmentAndConfigurations) {
  Diagnostics diag;
  Source s;
  ReadDevices(Parse("fleet/nullblk/devices.json"), "devices.json", s, diag);
  EXPECT_EQ(s.env.host, "ci-nullblk-1");
  EXPECT_EQ(s.env.commit, "abc123def456");
  EXPECT_NE(s.env.kernel.find("6.12.57"), std::string::npos);
  ASSERT_EQ(s.configs.size(), 3u);
  const DeviceConfig& c = s.configs[0];
  EXPECT_EQ(c.name, "emulated_hm_4k");
  EXPECT_EQ(c.driver_graph, "raw -> emulated");
  EXPECT_EQ(c.model, "HM");
  EXPECT_EQ(c.profile, "null_blk");
  EXPECT_EQ(c.limits["zone_size"], 67108864);
  EXPECT_EQ(c.limits["max_open_zones"], 0);
  EXPECT_EQ(c.fingerprint.at("close_empty_explicit"), "noop");
  EXPECT_EQ(c.fingerprint_src.at("close_empty_explicit"), "devices.json");
  EXPECT_EQ(c.fingerprint_match, "null_blk");
}

TEST(ReadDevices, WrongTypeWarnsNamingFileAndPathAndKeepsTheRest) {
  Diagnostics diag;
  Source s;
  ReadDevices(Parse("fleet/nullblk/devices.json"), "devices.json", s, diag);
  ASSERT_EQ(diag.warnings().size(), 1u);  // unknown members are silently ignored
  EXPECT_EQ(diag.warnings()[0].file, "devices.json");
  EXPECT_NE(diag.warnings()[0].message.find("configs[2].model"), std::string::npos);
  EXPECT_EQ(s.configs[2].model, "");
  EXPECT_EQ(s.configs[2].limits["max_active_zones"], 10);
}

TEST(ReadDevices, EverythingIsOptional) {
  Diagnostics diag;
  Source s;
  ReadDevices(json::object(), "d.json", s, diag);
  ReadDevices({{"configs", {{{"name", "only_a_name"}}, {{"model", "HM"}}}}}, "d.json", s, diag);
  ASSERT_EQ(s.configs.size(), 1u);
  EXPECT_EQ(s.configs[0].name, "only_a_name");
  EXPECT_EQ(diag.warnings().size(), 1u);  // the nameless configuration
}

TEST(ReadDevices, ConflictingHostsWarn) {
  Diagnostics diag;
  Source s;
  ReadDevices({{"host", "a"}}, "1.json", s, diag);
  ReadDevices({{"host", "b"}}, "2.json", s, diag);
  EXPECT_EQ(s.env.host, "a");
  ASSERT_EQ(diag.warnings().size(), 1u);
  EXPECT_EQ(diag.warnings()[0].file, "2.json");
}

TEST(CheckSchema, NewerSchemaWarnsButReads) {
  Diagnostics diag;
  Source s;
  ReadDevices({{"schema", "zbl-devices/2"}, {"host", "h"}}, "d.json", s, diag);
  EXPECT_EQ(s.env.host, "h");
  ASSERT_EQ(diag.warnings().size(), 1u);
  EXPECT_NE(diag.warnings()[0].message.find("zbl-devices/2"), std::string::npos);
}

TEST(ReadCompare, ToolsVariantsAndRatios) {
  Diagnostics diag;
  Source s;
  ReadCompare(Parse("fleet/nullblk/compare.json"), "compare.json", "compare.json", s, diag);
  EXPECT_TRUE(diag.warnings().empty());
  ASSERT_EQ(s.comparisons.size(), 1u);
  const Comparison& c = s.comparisons[0];
  EXPECT_EQ(c.target, "driver=file,filename=/var/tmp/zbl-compare.img");
  EXPECT_EQ(c.workload["pattern"], "seqwrite");
  EXPECT_EQ(c.workload["bs"], 4096);
  ASSERT_EQ(c.results.size(), 5u);
  EXPECT_EQ(c.results[0].tool, "fio");
  EXPECT_EQ(c.results[0].variant, "psync");
  EXPECT_EQ(c.results[0].runs, 2u);
  EXPECT_EQ(c.results[2].variant, "threads");  // qemu-img's mode
  EXPECT_EQ(c.results[3].variant, "file");     // zbl's driver
  EXPECT_DOUBLE_EQ(*c.results[3].iops, 64296.7);
  ASSERT_EQ(c.ratios.size(), 3u);
  EXPECT_EQ(c.ratios[0].first, "zbl/fio psync qd1");
  EXPECT_DOUBLE_EQ(c.ratios[0].second, 1.05);
}

TEST(ReadVmDevices, KeptAsIsOncePerFolder) {
  Diagnostics diag;
  Source s;
  json doc = Parse("fleet/nullblk/vm-devices.json");
  ReadVmDevices(doc, "vm-devices.json", s, diag);
  ReadVmDevices(json::array(), "vm-devices-2.json", s, diag);
  EXPECT_EQ(s.env.vm_devices, doc);
  EXPECT_EQ(diag.warnings().size(), 1u);
}

TEST(AddVariants, PairsFillTheFingerprintAndConflictsWarn) {
  Diagnostics diag;
  DeviceConfig c;
  c.name = "zns_qemu";
  AddVariants("close_empty_explicit=error; read_beyond_wp = zeroes,junk", "ZoneMgmt.Close", c,
              "t.json", diag);
  EXPECT_EQ(c.fingerprint.at("close_empty_explicit"), "error");
  EXPECT_EQ(c.fingerprint.at("read_beyond_wp"), "zeroes");
  EXPECT_EQ(c.fingerprint_src.at("read_beyond_wp"), "ZoneMgmt.Close");
  EXPECT_EQ(c.fingerprint.size(), 2u);
  AddVariants("close_empty_explicit=noop", "Other.Rule", c, "t.json", diag);
  EXPECT_EQ(c.fingerprint.at("close_empty_explicit"), "error");
  ASSERT_EQ(diag.warnings().size(), 1u);
  EXPECT_NE(diag.warnings()[0].message.find("Other.Rule"), std::string::npos);
}

}  // namespace
}  // namespace zbl::report
