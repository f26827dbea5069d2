#include "fixture.h"

#include <algorithm>

#include "families.h"
#include "zbl/driver.h"

namespace zbl::suites {
namespace {

// Sequential zones the helpers look at: enough for every rule, few enough for huge devices.
constexpr uint32_t kWindow = 64;
constexpr uint64_t kChunk = 1 << 20;

// The deepest node that declares no keeps-data: the one that loses the data.
const Node* DataLoser(const Node& n) {
  for (const auto& [name, child] : n.children())
    if (const Node* c = DataLoser(*child)) return c;
  return n.Supports(Cap::kKeepsData) ? nullptr : &n;
}

}  // namespace

std::string NoDataReason(const Backend& dev) {
  if (dev.capabilities().Has(Cap::kKeepsData)) return "";
  const Node* n = DataLoser(dev.root());
  return fmt::format("the device keeps no data (node '{}' declares no keeps-data{})",
                     n ? n->driver_name() : "?",
                     n && !n->filename().empty() ? ": " + n->filename() : std::string());
}

void PrintTo(const ConfigParam& p, std::ostream* os) { *os << p.config->option_string; }

std::string ConfigName(const ::testing::TestParamInfo<ConfigParam>& info) {
  return info.param.config->name;
}

std::vector<ConfigParam> ConfigParams() {
  const std::vector<Config>& all = AllConfigs();
  std::vector<ConfigParam> v(all.size());
  for (size_t i = 0; i < all.size(); ++i) v[i].config = &all[i];
  return v;
}

void DeviceTest::SetUp() {
  if (std::string why = SkipReason(cfg()); !why.empty()) GTEST_SKIP() << cfg().name << ": " << why;
  if (Destructive() && !MayDestroy(cfg()))
    GTEST_SKIP() << "destroys data on the user's device; set ZBL_ALLOW_DESTRUCTIVE=1 to run it";
  family_ = ConfigProfile(cfg());
  kernel_ = ConfigKernel(cfg());
  auto d = OpenConfig(cfg(), Destructive());
  // A machine without loop devices (a container) cannot run the loop configuration.
  if (!d.ok() && cfg().option_string.find("<loop>") != std::string::npos &&
      d.status().code() == ENODEV)
    GTEST_SKIP() << cfg().name << ": no loop device here: " << d.status().message();
  ASSERT_TRUE(d.ok()) << cfg().name << ": " << d.status().ToString();
  dev_ = std::move(*d);
  facts_ = {};
  facts_.block = lim().logical_block_size;
  facts_.wblock = std::max<uint32_t>(facts_.block, lim().write_granularity);
  facts_.no_data = NoDataReason(*dev_);
  if (!lim().zoned()) return;
  facts_.first_seq = NrZones();
  for (uint32_t z = 0; z < NrZones(); z += 256) {
    auto zones = dev_->ReportZones(ZoneStart(z), 256);
    ASSERT_TRUE(zones.ok()) << zones.status().ToString();
    auto it = std::find_if(zones->begin(), zones->end(),
                           [](const Zone& x) { return x.type != ZoneType::kConventional; });
    if (it != zones->end()) {
      facts_.first_seq = z + static_cast<uint32_t>(it - zones->begin());
      facts_.capacity = it->capacity;
      break;
    }
    if (zones->empty()) break;
  }
  facts_.conventional = facts_.first_seq;
}

void DeviceTest::TearDown() {
  if (!variants_.empty()) RecordProperty("variant", variants_);
  if (data_unchecked_) RecordProperty("data_unchecked", facts_.no_data);
  dev_.reset();
}

void DeviceTest::Reopen() {
  dev_.reset();
  auto d = ReopenConfig(cfg());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  dev_ = std::move(*d);
}

void DeviceTest::Variant(std::string_view cell, std::string_view variant) {
  std::string item = std::string(cell) + "=" + std::string(variant);
  variants_ += (variants_.empty() ? "" : ";") + item;
  std::string why = JudgeVariant(cell, variant, family_, kernel_);
  EXPECT_TRUE(why.empty()) << cfg().name << ": " << why;
}

std::optional<uint32_t> DeviceTest::SeqZone(uint32_t i) {
  if (!lim().zoned() || facts_.first_seq >= NrZones()) return std::nullopt;
  auto zones = dev_->ReportZones(ZoneStart(facts_.first_seq), kWindow);
  if (!zones.ok()) return std::nullopt;
  uint32_t seen = 0;
  for (const Zone& z : *zones) {
    if (z.type == ZoneType::kConventional || z.length != lim().zone_size) continue;
    if (z.condition == ZoneCondition::kReadOnly || z.condition == ZoneCondition::kOffline) continue;
    if (seen++ == i) return static_cast<uint32_t>(z.start / lim().zone_size);
  }
  return std::nullopt;
}

Zone DeviceTest::Report1(uint32_t z) {
  auto zones = dev_->ReportZones(ZoneStart(z), 1);
  EXPECT_TRUE(zones.ok() && zones->size() == 1)
      << "report of zone " << z << ": " << (zones.ok() ? "no zone" : zones.status().ToString());
  if (!zones.ok() || zones->empty()) return Zone{};
  return (*zones)[0];
}

std::vector<Zone> DeviceTest::ReportRange(uint32_t first, uint32_t n) {
  auto zones = dev_->ReportZones(ZoneStart(first), n);
  EXPECT_TRUE(zones.ok()) << zones.status().ToString();
  return zones.ok() ? *zones : std::vector<Zone>{};
}

std::vector<uint8_t> DeviceTest::Pattern(uint64_t at, size_t len, uint32_t seed) {
  std::vector<uint8_t> b(len);
  // Each 8-byte word names its own offset and the seed, so misplaced data is caught.
  for (size_t i = 0; i < len; ++i) {
    uint64_t off = at + i;
    uint64_t word = (off / 8) * 0x9E3779B97F4A7C15ull ^ (uint64_t{seed} << 32 | seed);
    b[i] = static_cast<uint8_t>(word >> ((off % 8) * 8)) | 1;  // never zero: zeros mean unwritten
  }
  return b;
}

Status DeviceTest::WriteP(uint64_t at, size_t len, uint32_t seed) {
  auto b = Pattern(at, len, seed);
  return dev_->Write(at, b.data(), len);
}

std::string DeviceTest::CheckP(uint64_t at, size_t len, uint32_t seed) {
  std::vector<uint8_t> got(len);
  Status st = dev_->Read(at, got.data(), len);
  if (!st.ok()) return "read failed: " + st.ToString();
  if (!facts_.no_data.empty()) {
    data_unchecked_ = true;
    return "";
  }
  auto want = Pattern(at, len, seed);
  auto mm = std::mismatch(got.begin(), got.end(), want.begin());
  if (mm.first == got.end()) return "";
  return "data differs at byte " + std::to_string(at + (mm.first - got.begin()));
}

Status DeviceTest::Fill(uint32_t z, uint64_t len, uint32_t seed) {
  uint64_t at = Report1(z).write_pointer;
  while (len > 0) {
    uint64_t n = std::min(len, kChunk);
    if (lim().max_transfer) n = std::min<uint64_t>(n, lim().max_transfer);
    ZBL_RETURN_IF_ERROR(WriteP(at, n, seed));
    at += n;
    len -= n;
  }
  return Status::Ok();
}

std::vector<uint32_t> DeviceTest::ImplicitlyOpen(uint32_t n, uint32_t from) {
  std::vector<uint32_t> zs;
  for (uint32_t i = 0; i < n; ++i) {
    auto z = SeqZone(from + i);
    if (!z) {
      ADD_FAILURE() << "not enough sequential zones";
      return zs;
    }
    Status st = WriteP(ZoneStart(*z), facts_.wblock);
    EXPECT_TRUE(st.ok()) << "write opening zone " << *z << ": " << st.ToString();
    zs.push_back(*z);
  }
  return zs;
}

}  // namespace zbl::suites
