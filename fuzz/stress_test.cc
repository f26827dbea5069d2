// Stress: many appends from several threads across many zones under a max-open limit. Each
// zone's acknowledged appends are logged; when a zone fills, the thread that sees it full
// verifies the zone (every acknowledged append reads back at the offset it returned, no two
// overlap, the count tallies with the write pointer) and resets it for reuse.
//
// ctest runs a short version (label stress); fuzz/stress.sh runs the full one:
//   ZBL_STRESS_APPENDS=1000000 ZBL_STRESS_THREADS=4 build/.../stress_test
// It prints appends, threads, seconds and appends per second (figures, never asserted).
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "zbl/backend.h"

namespace zbl {
namespace {

constexpr uint64_t kBlock = 512;
constexpr uint64_t kZone = 256 << 10;
constexpr uint32_t kZones = 32;

uint64_t EnvOr(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : def;
}

void Fill(uint8_t* p, uint64_t tag) {
  for (uint64_t i = 0; i < kBlock; i += 8) {
    const uint64_t v = tag * 0x9e3779b97f4a7c15ULL ^ i;
    std::memcpy(p + i, &v, 8);
  }
}

struct ZoneLog {
  std::shared_mutex mu;  // appenders share it; the verifier of a full zone takes it alone
  std::mutex log_mu;
  std::vector<std::pair<uint64_t, uint64_t>> acks;  // (offset, tag)
  uint64_t cycles = 0;
};

class Stress : public ::testing::TestWithParam<const char*> {
 protected:
  // Checks one zone against its log; the zone's unique lock is held.
  void Verify(uint32_t z, ZoneLog& log, const Zone& zd) {
    auto acks = log.acks;
    std::sort(acks.begin(), acks.end());
    uint64_t data_end = zd.condition == ZoneCondition::kFull ? zd.start + zd.capacity : zd.write_pointer;
    ASSERT_EQ(acks.size() * kBlock, data_end - zd.start)
        << "zone " << z << ": acknowledged appends do not tally with the write pointer";
    std::vector<uint8_t> data(data_end - zd.start), want(kBlock);
    if (!data.empty()) {
      ASSERT_TRUE(dev_->Read(zd.start, data.data(), data.size()).ok());
    }
    for (size_t i = 0; i < acks.size(); ++i) {
      const auto [off, tag] = acks[i];
      ASSERT_EQ(off, zd.start + i * kBlock) << "zone " << z << ": appends overlap or leave a gap";
      Fill(want.data(), tag);
      ASSERT_EQ(std::memcmp(data.data() + (off - zd.start), want.data(), kBlock), 0)
          << "zone " << z << ": append acknowledged at " << off << " does not read back";
    }
    verified_ += acks.size();
  }

  void Recycle(uint32_t z) {
    ZoneLog& log = logs_[z];
    std::unique_lock<std::shared_mutex> lk(log.mu);
    auto r = dev_->ReportZones(uint64_t{z} * kZone, 1);
    ASSERT_TRUE(r.ok());
    if ((*r)[0].condition != ZoneCondition::kFull) return;  // another thread recycled it
    Verify(z, log, (*r)[0]);
    ASSERT_TRUE(dev_->ZoneMgmt(ZoneOp::kReset, uint64_t{z} * kZone, kZone).ok());
    log.acks.clear();
    ++log.cycles;
  }

  void Worker(int id, uint64_t target) {
    std::vector<uint8_t> buf(kBlock);
    uint64_t seq = 0;
    uint32_t z = static_cast<uint32_t>(id) * 7 % kZones;
    while (acked_.load(std::memory_order_relaxed) < target && !::testing::Test::HasFatalFailure()) {
      z = (z * 13 + 5 + static_cast<uint32_t>(id)) % kZones;  // wander over every zone
      const uint64_t tag = (uint64_t(id) << 40) | seq++;
      Fill(buf.data(), tag);
      ZoneLog& log = logs_[z];
      Result<uint64_t> at = Status(EINVAL, "not run");
      {
        std::shared_lock<std::shared_mutex> lk(log.mu);
        at = dev_->ZoneAppend(uint64_t{z} * kZone, buf.data(), kBlock);
        if (at.ok()) {
          std::lock_guard<std::mutex> l(log.log_mu);
          log.acks.emplace_back(*at, tag);
        }
      }
      if (at.ok()) {
        acked_.fetch_add(1, std::memory_order_relaxed);
      } else if (at.status().code() == EIO) {
        Recycle(z);  // full
      } else {
        std::lock_guard<std::mutex> l(err_mu_);
        if (errors_.empty()) errors_ = at.status().ToString();
        ++error_count_;
      }
    }
  }

  void TearDown() override {
    dev_.reset();
    if (!image_.empty()) std::filesystem::remove(image_);
  }

  std::unique_ptr<Backend> dev_;
  std::filesystem::path image_;
  ZoneLog logs_[kZones];
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> verified_{0};
  std::mutex err_mu_;
  std::string errors_;
  uint64_t error_count_ = 0;
};

TEST_P(Stress, AppendsNeverLoseOrOverlap) {
  const uint64_t target = EnvOr("ZBL_STRESS_APPENDS", 300000);
  const int threads = static_cast<int>(std::max<uint64_t>(4, EnvOr("ZBL_STRESS_THREADS", 4)));
  // "<profile>+file": the persistent emulated device over an image file.
  std::string profile = GetParam(), extra;
  if (auto plus = profile.find("+file"); plus != std::string::npos) {
    profile.resize(plus);
    image_ = std::filesystem::temp_directory_path() /
             ("zbl-stress-" + std::to_string(::getpid()) + "-" + profile + ".img");
    std::filesystem::remove(image_);
    extra = ",file.driver=file,file.filename=" + image_.string();
  }
  auto b = Backend::Open(fmt::format(
      "driver=emulated,profile={},size={},zone-size={},block-size={},max-open-zones=8,"
      "max-append-bytes={}{}", profile, kZones * kZone, kZone, kBlock, kBlock, extra));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  dev_ = std::move(*b);

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back([this, t, target] { Worker(t, target); });
  for (auto& t : ts) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(error_count_, 0u) << errors_;

  // The zones in use at the end: their partial logs must hold too.
  uint64_t cycles = 0;
  for (uint32_t z = 0; z < kZones; ++z) {
    auto r = dev_->ReportZones(uint64_t{z} * kZone, 1);
    ASSERT_TRUE(r.ok());
    Verify(z, logs_[z], (*r)[0]);
    cycles += logs_[z].cycles;
  }
  EXPECT_EQ(verified_.load(), acked_.load()) << "every acknowledged append was verified once";
  auto zones = dev_->ReportZones(0, 0);
  ASSERT_TRUE(zones.ok());
  uint32_t open = 0;
  for (const Zone& z : *zones) open += IsOpen(z.condition);
  EXPECT_LE(open, 8u);
  std::printf("stress %s: %llu appends (%llu verified, %llu zone cycles) from %d threads over %u "
              "zones in %.2f s = %.0f appends/s\n",
              GetParam(), static_cast<unsigned long long>(acked_.load()),
              static_cast<unsigned long long>(verified_.load()),
              static_cast<unsigned long long>(cycles), threads, kZones, secs, acked_.load() / secs);
}

INSTANTIATE_TEST_SUITE_P(Profiles, Stress, ::testing::Values("null_blk", "zns", "zbc"),
                         [](const auto& info) { return std::string(info.param); });
#ifdef ZBL_HAVE_PERSIST
INSTANTIATE_TEST_SUITE_P(ImageFile, Stress, ::testing::Values("null_blk+file"),
                         [](const auto&) { return std::string("null_blk_file"); });
#endif

}  // namespace
}  // namespace zbl
