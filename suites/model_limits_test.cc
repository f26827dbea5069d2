// Model & limits: what the device reports about itself reaches the user through every layer.
#include "families.h"
#include "fixture.h"
#include "zbl/driver.h"

namespace zbl::suites {
namespace {

class ModelLimits : public DeviceTest {
 protected:
  bool Destructive() const override { return false; }
};

TEST_P(ModelLimits, MatchConfiguration) {
  const Expected& e = cfg().expect;
  ZBL_REQUIRE(e.known, "the configuration fixes no expectations; its limits are read from it");
  const Limits& l = lim();
  EXPECT_EQ(l.model, e.model) << ToString(l.model) << " vs " << ToString(e.model);
  EXPECT_EQ(l.size, e.size);
  if (e.block_size) {
    EXPECT_EQ(l.logical_block_size, e.block_size);
  }
  if (e.model == ZoneModel::kNone) return;
  EXPECT_EQ(l.zone_size, e.zone_size);
  EXPECT_EQ(l.nr_zones, e.nr_zones);
  EXPECT_EQ(l.max_open_zones, e.max_open);
  EXPECT_EQ(l.max_active_zones, e.max_active);
  if (e.max_append) {
    EXPECT_EQ(l.max_append_bytes, e.max_append);
  }
  EXPECT_EQ(facts().conventional, e.conventional_zones);
  EXPECT_EQ(facts().capacity, e.zone_capacity ? e.zone_capacity : e.zone_size);
}

TEST_P(ModelLimits, AreConsistent) {
  const Limits& l = lim();
  EXPECT_EQ(l.Validate(), "");
  EXPECT_TRUE(l.logical_block_size >= 512 && (l.logical_block_size & (l.logical_block_size - 1)) == 0)
      << l.logical_block_size;
  EXPECT_EQ(l.size % l.logical_block_size, 0u);
  EXPECT_EQ(l.request_alignment % l.logical_block_size, 0u);
  if (!l.zoned()) {
    EXPECT_EQ(l.zone_size, 0u);
    EXPECT_EQ(l.nr_zones, 0u);
    return;
  }
  ASSERT_GT(l.zone_size, 0u);
  EXPECT_EQ(l.zone_size % l.logical_block_size, 0u);
  EXPECT_EQ(uint64_t{l.nr_zones}, (l.size + l.zone_size - 1) / l.zone_size);
  if (l.max_open_zones && l.max_active_zones) {
    EXPECT_LE(l.max_open_zones, l.max_active_zones);
  }
  EXPECT_EQ(l.max_append_bytes % l.logical_block_size, 0u);
  if (l.write_granularity) {
    EXPECT_EQ(l.write_granularity % l.logical_block_size, 0u);
  }
  EXPECT_LE(facts().capacity, l.zone_size);
}

TEST_P(ModelLimits, GraphNamesEveryDriver) {
  // Every driver of the option string, in order; a driver may add a child of its own (kernel
  // null_blk opens its disk through host_device), which must be a registered driver too.
  const std::string graph = dev().GraphString();
  std::vector<std::string> nodes;
  for (size_t at = 0;;) {
    size_t arrow = graph.find(" -> ", at);
    nodes.push_back(graph.substr(at, arrow == std::string::npos ? std::string::npos : arrow - at));
    if (arrow == std::string::npos) break;
    at = arrow + 4;
  }
  size_t next = 0;
  for (const std::string& d : DriversOf(cfg().option_string)) {
    while (next < nodes.size() && nodes[next] != d) ++next;
    EXPECT_LT(next, nodes.size()) << "driver '" << d << "' missing or out of order in " << graph;
    ++next;
  }
  for (const std::string& n : nodes) EXPECT_NE(FindDriver(n), nullptr) << n << " in " << graph;
  EXPECT_NE(dev().Describe().find(std::string("zoned model: ") + std::string(ToString(lim().model))),
            std::string::npos)
      << dev().Describe();
}

TEST_P(ModelLimits, ActiveLimitIsAFamilyCell) {
  ZBL_REQUIRE_ZONED();
  Variant("active_limit", lim().max_active_zones ? "present" : "absent");
}

ZBL_INSTANTIATE(ModelLimits);

}  // namespace
}  // namespace zbl::suites
