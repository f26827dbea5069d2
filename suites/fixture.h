// The base of every conformance suite: a fresh device of one configuration per test, plus the
// small helpers rules are written with. Rules never report every zone: devices may have 100k+.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "configs.h"
#include "zbl/backend.h"

namespace zbl::suites {

// What the suites learn about a device from its limits and one small report.
struct Facts {
  uint32_t first_seq = 0;       // index of the first sequential zone (== nr_zones if none)
  uint32_t conventional = 0;    // leading conventional zones
  uint64_t capacity = 0;        // capacity of the first sequential zone
  uint32_t block = 4096;        // logical block size
  uint32_t wblock = 4096;       // smallest sequential write: max(block, write_granularity)
  // Why the device keeps no data ("" = it does): null_blk with memory_backed=0 acknowledges
  // writes and leaves a read's buffer untouched. Data checks are then skipped, and said so.
  std::string no_data;
};

// Why `dev` keeps no data (it lacks Cap::kKeepsData), "" when it does (see Facts::no_data).
std::string NoDataReason(const Backend& dev);

struct ConfigParam {
  const Config* config;
};
void PrintTo(const ConfigParam& p, std::ostream* os);
// "emulated_hm_4k": the instantiation's name for a configuration.
std::string ConfigName(const ::testing::TestParamInfo<ConfigParam>& info);
std::vector<ConfigParam> ConfigParams();

class DeviceTest : public ::testing::TestWithParam<ConfigParam> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Suites whose rules never change the device return false: they run on the user's device
  // without ZBL_ALLOW_DESTRUCTIVE.
  virtual bool Destructive() const { return true; }

  const Config& cfg() const { return *GetParam().config; }
  Backend& dev() { return *dev_; }
  const Limits& lim() const { return dev_->limits(); }
  const Facts& facts() const { return facts_; }
  void CloseDevice() { dev_.reset(); }
  // Reopens over the same storage (persistence); fails the test on error.
  void Reopen();

  // The family the device is held to, if any.
  const std::optional<std::string>& family() const { return family_; }
  // Records "cell=variant" as the test's `variant` property and fails if no family (or the
  // configured family) allows it.
  void Variant(std::string_view cell, std::string_view variant);

  // ---- zones ----
  uint64_t ZoneStart(uint32_t z) const { return uint64_t{z} * lim().zone_size; }
  uint32_t NrZones() const { return lim().nr_zones; }
  // The i-th sequential zone that is usable (not read-only/offline, full length); nullopt when
  // the device has fewer.
  std::optional<uint32_t> SeqZone(uint32_t i);
  // One zone's descriptor (fails the test and returns a default Zone on error).
  Zone Report1(uint32_t z);
  ZoneCondition Cond(uint32_t z) { return Report1(z).condition; }
  uint64_t WpRel(uint32_t z) { return Report1(z).write_pointer - ZoneStart(z); }
  uint64_t ZoneLen(uint32_t z) { return Report1(z).length; }
  uint64_t Cap(uint32_t z) { return Report1(z).capacity; }
  // Zones [first, first+n) as reported.
  std::vector<Zone> ReportRange(uint32_t first, uint32_t n);

  // ---- data ----
  // A buffer of `len` bytes whose content depends on `seed` and the byte offset `at`.
  static std::vector<uint8_t> Pattern(uint64_t at, size_t len, uint32_t seed = 1);
  Status WriteP(uint64_t at, size_t len, uint32_t seed = 1);
  // Reads [at, at+len) and compares with the pattern; "" when equal, else where it differs.
  // On a device that keeps no data it only checks that the read succeeds, and the test records
  // the property data_unchecked (tests about nothing but data use ZBL_REQUIRE_DATA instead).
  std::string CheckP(uint64_t at, size_t len, uint32_t seed = 1);
  // True when the device keeps data; else notes that the test left data unchecked.
  bool DataKept() {
    if (facts_.no_data.empty()) return true;
    data_unchecked_ = true;
    return false;
  }
  // Writes `len` bytes at the zone's write pointer in chunks.
  Status Fill(uint32_t z, uint64_t len, uint32_t seed = 1);
  // Opens `n` zones implicitly (one block each) starting from sequential zone index `from`.
  std::vector<uint32_t> ImplicitlyOpen(uint32_t n, uint32_t from = 0);

  std::unique_ptr<Backend> dev_;
  Facts facts_;
  std::optional<std::string> family_;
  std::optional<uint32_t> kernel_;  // the kernel whose answers the device gives (ConfigKernel)
  std::string variants_;
  bool data_unchecked_ = false;
};

// Test-body guards (GTEST_SKIP returns from the calling function).
#define ZBL_REQUIRE(cond, reason)                                          \
  do {                                                                     \
    if (!(cond)) GTEST_SKIP() << "not applicable to " << cfg().name << ": " << reason; \
  } while (0)
#define ZBL_REQUIRE_ZONED() ZBL_REQUIRE(lim().zoned(), "the device is not zoned (model NONE)")
#define ZBL_REQUIRE_HM() \
  ZBL_REQUIRE(lim().model == ZoneModel::kHostManaged, "the device is not host-managed")
#define ZBL_REQUIRE_SEQ(n)                                                              \
  ZBL_REQUIRE(SeqZone((n) - 1).has_value(), "needs " << (n) << " usable sequential zones")
#define ZBL_REQUIRE_DATA() ZBL_REQUIRE(facts().no_data.empty(), facts().no_data)
#define ZBL_REQUIRE_DESTRUCTIVE()                                                    \
  ZBL_REQUIRE(MayDestroy(cfg()), "destroys data; set ZBL_ALLOW_DESTRUCTIVE=1 to run it")
#define ZBL_ASSERT_OK(expr)                           \
  do {                                                \
    ::zbl::Status st_ = (expr);                       \
    ASSERT_TRUE(st_.ok()) << #expr << ": " << st_.ToString(); \
  } while (0)
#define ZBL_EXPECT_ERRNO(expr, err)                                               \
  do {                                                                            \
    ::zbl::Status st_ = (expr);                                                   \
    EXPECT_EQ(st_.code(), (err)) << #expr << " returned " << st_.ToString();      \
  } while (0)

// Instantiates a suite over every configuration as zbl/<Suite>.<Rule>/<config>.
#define ZBL_INSTANTIATE(Suite)                                                   \
  GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Suite);                          \
  INSTANTIATE_TEST_SUITE_P(zbl, Suite, ::testing::ValuesIn(::zbl::suites::ConfigParams()), \
                           ::zbl::suites::ConfigName)

}  // namespace zbl::suites
