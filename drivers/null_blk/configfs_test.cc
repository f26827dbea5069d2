// The kernel backend's configfs lifecycle on a stand-in tree in a temporary directory: what is
// written and in which order, power on/off, the disk node, and that nothing is left behind on
// any failure after mkdir.
#include "configfs.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <thread>

namespace zbl::null_blk {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAllFeatures =
    "badblocks,blocking,blocksize,cache_size,fua,completion_nsec,discard,home_node,"
    "hw_queue_depth,irqmode,max_sectors,mbps,memory_backed,no_sched,poll_queues,power,"
    "queue_mode,shared_tag_bitmap,shared_tags,size,submit_queues,use_per_node_hctx,"
    "virt_boundary,zoned,zone_capacity,zone_max_active,zone_max_open,zone_nr_conv,"
    "zone_offline,zone_readonly,zone_size,zone_append_max_sectors,zone_full,rotational\n";

class StandIn : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zbl_nullb_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    fs::create_directories(base_ / "nullb");
    fs::create_directories(base_ / "dev");
    opts_.root = (base_ / "nullb").string();
    opts_.dev_dir = (base_ / "dev").string();
    opts_.node_wait_ms = 50;
  }
  void TearDown() override { fs::remove_all(base_); }

  void Features(const std::string& text) { std::ofstream(base_ / "nullb" / "features") << text; }
  void DiskNode(const std::string& name) { std::ofstream(base_ / "dev" / name) << ""; }
  bool ItemExists(const std::string& name) { return fs::exists(base_ / "nullb" / name); }
  std::string Attr(const std::string& name, const std::string& attr) {
    std::ifstream in(base_ / "nullb" / name / attr);
    std::string s;
    std::getline(in, s);
    return s;
  }

  fs::path base_;
  ConfigfsOptions opts_;
};

Params ZonedParams() {
  Params p;
  p.zoned = true;
  p.size_mb = 1024;
  p.zone_size_mb = 64;
  p.zone_capacity_mb = 48;
  p.zone_nr_conv = 2;
  p.zone_max_open = 4;
  p.zone_max_active = 6;
  p.memory_backed = true;
  return p;
}

size_t IndexOf(const std::vector<std::string>& v, const std::string& s) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), s) - v.begin());
}

TEST_F(StandIn, CreatesWritesPowersOnFindsTheDiskAndRemovesOnClose) {
  Features(kAllFeatures);
  DiskNode("dev0");
  auto item = ConfigfsItem::Create(opts_, "dev0", ZonedParams());
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_TRUE((*item)->stand_in());
  EXPECT_EQ((*item)->device_path(), opts_.dev_dir + "/dev0");
  const auto& j = (*item)->journal();
  const std::vector<std::string> expected{
      "mkdir",           "size=1024",         "blocksize=512",
      "memory_backed=1", "max_sectors=0",     "zoned=1",
      "zone_size=64",    "zone_capacity=48",  "zone_nr_conv=2",
      "zone_max_open=4", "zone_max_active=6", "zone_append_max_sectors=2147483647",
      "zone_full=0",     "power=1",           "device=" + opts_.dev_dir + "/dev0"};
  EXPECT_EQ(j, expected);
  EXPECT_EQ(Attr("dev0", "size"), "1024");
  EXPECT_EQ(Attr("dev0", "zone_capacity"), "48");
  EXPECT_EQ(Attr("dev0", "power"), "1");
  EXPECT_TRUE(ItemExists("dev0"));
  ASSERT_TRUE((*item)->Destroy().ok());
  EXPECT_EQ(j[j.size() - 2], "power=0");
  EXPECT_EQ(j.back(), "rmdir");
  EXPECT_FALSE(ItemExists("dev0"));
  ASSERT_TRUE((*item)->Destroy().ok());  // idempotent
}

TEST_F(StandIn, DestructorRemovesUnlessKept) {
  Features(kAllFeatures);
  DiskNode("a");
  DiskNode("b");
  {
    auto item = ConfigfsItem::Create(opts_, "a", Params{});
    ASSERT_TRUE(item.ok()) << item.status().ToString();
  }
  EXPECT_FALSE(ItemExists("a"));
  {
    auto item = ConfigfsItem::Create(opts_, "b", Params{});
    ASSERT_TRUE(item.ok());
    (*item)->Keep();
  }
  EXPECT_TRUE(ItemExists("b"));
  EXPECT_EQ(Attr("b", "power"), "1");
}

TEST_F(StandIn, FlatDeviceWritesNoZoneAttributes) {
  Features(kAllFeatures);
  DiskNode("flat");
  Params p;
  p.size_mb = 100;
  auto item = ConfigfsItem::Create(opts_, "flat", p);
  ASSERT_TRUE(item.ok());
  const auto& j = (*item)->journal();
  EXPECT_EQ(IndexOf(j, "zone_size=256"), j.size());
  EXPECT_LT(IndexOf(j, "zoned=0"), IndexOf(j, "power=1"));
}

TEST_F(StandIn, ZoneConditionsAreWrittenAsSectorsAfterPowerOn) {
  Features(kAllFeatures);
  DiskNode("rz");
  Params p = ZonedParams();
  p.zone_readonly = {3, 4, 4};  // the second 4 toggles it back
  p.zone_offline = {5};
  auto item = ConfigfsItem::Create(opts_, "rz", p);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  const auto& j = (*item)->journal();
  const size_t power = IndexOf(j, "power=1");
  const size_t ro = IndexOf(j, "zone_readonly=" + std::to_string(3 * 64 * 2048));
  const size_t off = IndexOf(j, "zone_offline=" + std::to_string(5 * 64 * 2048));
  ASSERT_LT(ro, j.size());
  ASSERT_LT(off, j.size());
  EXPECT_LT(power, ro);
  EXPECT_LT(ro, off);
  EXPECT_EQ(std::count_if(j.begin(), j.end(),
                          [](const std::string& s) { return s.rfind("zone_readonly=", 0) == 0; }),
            1);
}

TEST_F(StandIn, OlderKernelsNameTheDiskNullbIndex) {
  Features(kAllFeatures);
  opts_.node_wait_ms = 5000;
  // Plays the kernel: once powered, the item gets an index and the disk appears as nullb7.
  std::thread kernel([this] {
    const fs::path power = base_ / "nullb" / "old" / "power";
    for (int i = 0; i < 2000 && !fs::exists(power); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::ofstream(base_ / "nullb" / "old" / "index") << "7\n";
    DiskNode("nullb7");
  });
  auto item = ConfigfsItem::Create(opts_, "old", Params{});
  kernel.join();
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ((*item)->device_path(), opts_.dev_dir + "/nullb7");
  fs::remove(base_ / "nullb" / "old" / "index");  // configfs drops its own attributes on rmdir
  ASSERT_TRUE((*item)->Destroy().ok());
  EXPECT_FALSE(ItemExists("old"));
}

TEST_F(StandIn, LongNamesGiveADiskNameCutToDiskNameLen) {
  Features(kAllFeatures);
  const std::string name(40, 'n');
  DiskNode(name.substr(0, 31));
  auto item = ConfigfsItem::Create(opts_, name, Params{});
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ((*item)->device_path(), opts_.dev_dir + "/" + name.substr(0, 31));
}

TEST_F(StandIn, MissingDiskNodePowersOffAndRemoves) {
  Features(kAllFeatures);
  auto item = ConfigfsItem::Create(opts_, "nodisk", ZonedParams());
  ASSERT_FALSE(item.ok());
  EXPECT_EQ(item.status().code(), ENODEV);
  EXPECT_NE(item.status().message().find("nodisk"), std::string::npos) << item.status().ToString();
  EXPECT_FALSE(ItemExists("nodisk"));
}

TEST_F(StandIn, AttributeTheKernelLacksFailsOnlyWhenAskedForAndLeavesNothing) {
  // A kernel without zone_full / zone_append_max_sectors (before 6.11).
  Features(
      "blocksize,max_sectors,memory_backed,power,size,zoned,zone_capacity,zone_max_active,"
      "zone_max_open,zone_nr_conv,zone_offline,zone_readonly,zone_size\n");
  DiskNode("old1");
  auto ok = ConfigfsItem::Create(opts_, "old1", ZonedParams());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(IndexOf((*ok)->journal(), "zone_full=0"), (*ok)->journal().size());
  Params p = ZonedParams();
  p.zone_full = true;
  p.given.push_back("zone_full");
  auto bad = ConfigfsItem::Create(opts_, "old2", p);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ENOTSUP);
  EXPECT_NE(bad.status().message().find("zone_full"), std::string::npos);
  EXPECT_FALSE(ItemExists("old2"));
}

TEST_F(StandIn, ExistingItemIsRefusedAndLeftAlone) {
  fs::create_directories(base_ / "nullb" / "taken");
  std::ofstream(base_ / "nullb" / "taken" / "power") << "1\n";
  auto item = ConfigfsItem::Create(opts_, "taken", Params{});
  ASSERT_FALSE(item.ok());
  EXPECT_EQ(item.status().code(), EEXIST);
  EXPECT_NE(item.status().message().find("name="), std::string::npos);
  EXPECT_EQ(Attr("taken", "power"), "1");
}

TEST_F(StandIn, BadNamesAreRefused) {
  for (const char* name : {"", "a/b", "..", "."}) {
    auto item = ConfigfsItem::Create(opts_, name, Params{});
    EXPECT_EQ(item.status().code(), EINVAL) << name;
  }
}

TEST_F(StandIn, MissingRootSaysHowToGetNullBlk) {
  opts_.root = (base_ / "absent").string();
  auto item = ConfigfsItem::Create(opts_, "x", Params{});
  ASSERT_FALSE(item.ok());
  EXPECT_EQ(item.status().code(), ENODEV);
  const std::string msg = item.status().message();
  EXPECT_NE(msg.find("modprobe null_blk nr_devices=0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("CONFIG_BLK_DEV_NULL_BLK"), std::string::npos) << msg;
  EXPECT_NE(msg.find("configfs"), std::string::npos) << msg;
  EXPECT_FALSE(KernelUnavailableReason(opts_.root).empty());
  EXPECT_TRUE(KernelUnavailableReason((base_ / "nullb").string()).empty());
}

}  // namespace
}  // namespace zbl::null_blk

namespace zbl::null_blk {
namespace {

// The suites find a kernel disk's item to learn whether it keeps data (memory_backed).
TEST_F(StandIn, DiskItemAttrFindsTheItemByDiskNameOrIndex) {
  for (auto [item, index, mb] : {std::tuple{"nomem", "3", "0"}, std::tuple{"mem", "4", "1"}}) {
    fs::create_directories(base_ / "nullb" / item);
    std::ofstream(base_ / "nullb" / item / "index") << index << "\n";
    std::ofstream(base_ / "nullb" / item / "memory_backed") << mb << "\n";
  }
  EXPECT_EQ(*DiskItemAttr(opts_.root, "nomem", "memory_backed"), "0");
  EXPECT_EQ(*DiskItemAttr(opts_.root, "nullb4", "memory_backed"), "1");
  EXPECT_EQ(DiskItemAttr(opts_.root, "sda", "memory_backed").status().code(), ENOENT);
  EXPECT_EQ(DiskItemAttr(opts_.root + "/absent", "nomem", "memory_backed").status().code(), ENOENT);
}

}  // namespace
}  // namespace zbl::null_blk
