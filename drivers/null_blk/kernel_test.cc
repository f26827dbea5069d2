// driver=null_blk with the kernel backend: choice, refusals, and, where the kernel has null_blk
// (the VM harness), the twin test: the same requests on the kernel device and on the user twin
// must give the same limits, the same zone reports and the same errors.
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "configfs.h"
#include "zbl/backend.h"
#include "zbl/driver.h"

namespace zbl::null_blk {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kMb = 1 << 20;

class KernelBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zbl_nullk_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    fs::create_directories(base_ / "nullb");
    fs::create_directories(base_ / "dev");
    std::ofstream(base_ / "nullb" / "features") << "size,blocksize,power,zoned\n";
    stand_in_ = ",configfs=" + (base_ / "nullb").string() + ",devdir=" + (base_ / "dev").string();
  }
  void TearDown() override { fs::remove_all(base_); }
  bool RootEmpty() {
    for (const auto& e : fs::directory_iterator(base_ / "nullb"))
      if (e.path().filename() != "features") return false;
    return true;
  }
  fs::path base_;
  std::string stand_in_;
};

TEST_F(KernelBackend, WithoutHostDeviceTheKernelBackendSaysSoAndMakesNothing) {
  if (FindDriver("host_device")) GTEST_SKIP() << "host_device is built: covered by the twin test";
  auto b = Backend::Open("driver=null_blk,backend=kernel,name=t1,size=64" + stand_in_);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), ENOTSUP);
  EXPECT_NE(b.status().message().find("driver 'host_device' is not available"), std::string::npos)
      << b.status().ToString();
  EXPECT_TRUE(RootEmpty());
}

TEST_F(KernelBackend, AutoFallsBackToUserWithoutHostDevice) {
  if (FindDriver("host_device")) GTEST_SKIP() << "host_device is built: auto picks the kernel";
  auto b = Backend::Open("driver=null_blk,size=64,zoned=1,zone_size=4" + stand_in_);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE((*b)->Describe().find("host_device driver is not built"), std::string::npos)
      << (*b)->Describe();
  EXPECT_TRUE(RootEmpty());
}

TEST_F(KernelBackend, MissingConfigfsIsAnErrorThatSaysHowToGetIt) {
  auto b = Backend::Open("driver=null_blk,backend=kernel,configfs=" + (base_ / "none").string());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), ENODEV);
  EXPECT_NE(b.status().message().find("modprobe null_blk nr_devices=0"), std::string::npos)
      << b.status().ToString();
}

TEST_F(KernelBackend, ConfigurationTheKernelWouldRefuseIsRefusedBeforeAnythingIsMade) {
  auto b = Backend::Open("driver=null_blk,backend=kernel,zoned=1,zone_size=3" + stand_in_);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), EINVAL);
  EXPECT_NE(b.status().message().find("power-of-two"), std::string::npos);
  EXPECT_TRUE(RootEmpty());
}

// ---- the twin test, on a kernel with null_blk ----

std::string KernelSkipReason() {
  if (auto why = KernelUnavailableReason(kConfigfsRoot); !why.empty()) return why;
  if (!FindDriver("host_device")) return "the host_device driver is not built";
  return "";
}

struct Step {
  enum Kind { kWrite, kAppend, kOp, kResetAll } kind;
  uint64_t offset;
  uint64_t len;
  ZoneOp op = ZoneOp::kOpen;
};

// Runs `steps` and records each result and the report after it.
std::vector<std::string> RunSteps(Backend& b, const std::vector<Step>& steps) {
  std::vector<std::string> out;
  std::vector<uint8_t> buf(1 << 20, 0x5A);
  for (const Step& s : steps) {
    int err = 0;
    uint64_t where = 0;
    switch (s.kind) {
      case Step::kWrite: err = b.Write(s.offset, buf.data(), s.len).code(); break;
      case Step::kAppend: {
        auto r = b.ZoneAppend(s.offset, buf.data(), s.len);
        err = r.status().code();
        where = r.ok() ? *r : 0;
        break;
      }
      case Step::kOp: err = b.ZoneMgmt(s.op, s.offset, s.len).code(); break;
      case Step::kResetAll: err = b.ZoneResetAll().code(); break;
    }
    std::string line = "err=" + std::to_string(err) + " at=" + std::to_string(where) + " |";
    auto zones = b.ReportZones(0, 0);
    if (!zones.ok()) line += " report failed: " + zones.status().ToString();
    else
      for (const Zone& z : *zones)
        line += fmt::format(" {}:{}:{:x}:{:x}", ToString(z.condition), ToString(z.type),
                            z.write_pointer, z.capacity);
    out.push_back(line);
  }
  return out;
}

TEST(NullBlkTwin, KernelAndUserTwinAgree) {
  if (auto why = KernelSkipReason(); !why.empty()) GTEST_SKIP() << why;
  const std::string params =
      "size=64,zoned=1,zone_size=4,zone_capacity=3,zone_nr_conv=2,zone_max_open=2,"
      "zone_max_active=3,memory_backed=1";
  auto k = Backend::Open("driver=null_blk,backend=kernel," + params);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  auto u = Backend::Open("driver=null_blk,backend=user," + params);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  const Limits& kl = (*k)->limits();
  const Limits& ul = (*u)->limits();
  EXPECT_EQ(kl.size, ul.size);
  EXPECT_EQ(kl.model, ul.model);
  EXPECT_EQ(kl.zone_size, ul.zone_size);
  EXPECT_EQ(kl.nr_zones, ul.nr_zones);
  EXPECT_EQ(kl.logical_block_size, ul.logical_block_size);
  EXPECT_EQ(kl.max_open_zones, ul.max_open_zones);
  EXPECT_EQ(kl.max_active_zones, ul.max_active_zones);
  EXPECT_EQ(kl.max_append_bytes, ul.max_append_bytes);
  const uint64_t z = 4 * kMb;
  const std::vector<Step> steps{
      {Step::kWrite, 2 * z, 4096},           {Step::kWrite, 3 * z, 4096},
      {Step::kWrite, 4 * z, 4096},           {Step::kWrite, 2 * z + 8192, 4096},
      {Step::kOp, 5 * z, z, ZoneOp::kOpen},  {Step::kOp, 6 * z, z, ZoneOp::kOpen},
      {Step::kOp, 3 * z, z, ZoneOp::kClose}, {Step::kOp, 7 * z, z, ZoneOp::kFinish},
      {Step::kAppend, 2 * z, 8192},          {Step::kWrite, 5 * z, 3 * kMb - 4096},
      {Step::kWrite, 5 * z + 3 * kMb - 4096, 8192},  // one fragment past the capacity
      {Step::kOp, 0, z, ZoneOp::kReset},     {Step::kOp, 8 * z, z, ZoneOp::kClose},
      {Step::kResetAll, 0, 0},               {Step::kWrite, 9 * z, 3 * kMb},
  };
  EXPECT_EQ(RunSteps(**k, steps), RunSteps(**u, steps));
}

// A long write past the capacity: the kernel writes the fragments that fit, where the
// fragments end depends on how the submitter built its bios. The error must match; the write
// pointers are recorded for the twin's maintainers.
TEST(NullBlkTwin, LongWritePastCapacity) {
  if (auto why = KernelSkipReason(); !why.empty()) GTEST_SKIP() << why;
  const std::string params = "size=16,zoned=1,zone_size=4,zone_capacity=3,memory_backed=1";
  auto k = Backend::Open("driver=null_blk,backend=kernel," + params);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  auto u = Backend::Open("driver=null_blk,backend=user," + params);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  std::vector<uint8_t> buf(3 * kMb + 4096, 0x33);
  EXPECT_EQ((*k)->Write(0, buf.data(), buf.size()).code(), (*u)->Write(0, buf.data(), buf.size()).code());
  auto kz = (*k)->ReportZones(0, 1);
  auto uz = (*u)->ReportZones(0, 1);
  ASSERT_TRUE(kz.ok() && uz.ok());
  ::testing::Test::RecordProperty("kernel_wp", std::to_string((*kz)[0].write_pointer));
  ::testing::Test::RecordProperty("twin_wp", std::to_string((*uz)[0].write_pointer));
  EXPECT_LE((*kz)[0].write_pointer, 3 * kMb);
}

TEST(NullBlkTwin, DefaultZonedGeometryMatches) {
  if (auto why = KernelSkipReason(); !why.empty()) GTEST_SKIP() << why;
  auto k = Backend::Open("driver=null_blk,backend=kernel,zoned=1");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ((*k)->limits().nr_zones, 1000u);
  EXPECT_EQ((*k)->limits().zone_size, 256 * kMb);
  EXPECT_EQ((*k)->limits().logical_block_size, 512u);
  EXPECT_EQ((*k)->limits().max_append_bytes, 255u * 512);
}

}  // namespace
}  // namespace zbl::null_blk
