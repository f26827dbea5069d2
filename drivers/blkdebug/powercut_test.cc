// driver=powercut: unflushed writes are visible until the power goes, then lost; flushed
// writes survive every cut point; after the cut every request fails.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "blkdebug.h"
#include "zbl/backend.h"

namespace zbl::blkdebug {
namespace {

constexpr uint64_t kSize = 256 << 10;
constexpr uint64_t kBlock = 4096;
const std::string kChild = "file.driver=emulated,file.model=none,file.size=256k";

TEST(Powercut, ReadsSeeUnflushedWritesUntilTheCut) {
  auto b = Backend::Open("driver=powercut," + kChild);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  Backend& d = **b;
  std::vector<uint8_t> a(kBlock, 0xaa), z(kBlock, 0), back(kBlock);
  ASSERT_TRUE(d.Write(0, a.data(), kBlock).ok());
  ASSERT_TRUE(d.Read(0, back.data(), kBlock).ok());
  EXPECT_EQ(back, a);
  // Below the cache nothing is written yet.
  ASSERT_TRUE(d.root().file()->Read(0, back.data(), kBlock).ok());
  EXPECT_EQ(back, z);
  ASSERT_TRUE(d.Flush().ok());
  ASSERT_TRUE(d.root().file()->Read(0, back.data(), kBlock).ok());
  EXPECT_EQ(back, a);
  std::vector<uint8_t> c(kBlock, 0xcc);
  ASSERT_TRUE(d.Write(0, c.data(), kBlock).ok());
  ASSERT_TRUE(CutPower(d.root()));
  EXPECT_TRUE(PowerIsCut(d.root()));
  EXPECT_EQ(d.Read(0, back.data(), kBlock).code(), EIO);
  EXPECT_EQ(d.Write(0, c.data(), kBlock).code(), EIO);
  EXPECT_EQ(d.Flush().code(), EIO);
  ASSERT_TRUE(d.root().file()->Read(0, back.data(), kBlock).ok());
  EXPECT_EQ(back, a);  // the flushed version survived, the later write did not
}

TEST(Powercut, RefusesZonedChildAndBadOptions) {
  EXPECT_EQ(Backend::Open("driver=powercut,file.driver=emulated,file.size=8M,file.zone-size=1M")
                .status().code(), EINVAL);
  EXPECT_EQ(Backend::Open("driver=powercut,cut-after=3,cut-seed=1," + kChild).status().code(), EINVAL);
  EXPECT_EQ(Backend::Open("driver=powercut,cut-range=0,cut-seed=1," + kChild).status().code(), EINVAL);
  EXPECT_FALSE(Backend::Open("driver=powercut").ok());
}

// Random writes and flushes until the seeded cut; then the device below holds exactly what was
// flushed, for 128 different cut points.
TEST(Powercut, NothingFlushedIsLostAtAnyCutPoint) {
  int cuts = 0;
  for (uint64_t seed = 1; seed <= 128; ++seed) {
    SCOPED_TRACE(seed);
    auto b = Backend::Open("driver=powercut,cut-range=300,cut-seed=" + std::to_string(seed) + "," +
                           kChild);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    Backend& d = **b;
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> durable(kSize, 0), current(kSize, 0), buf;
    bool cut = false;
    for (int i = 0; i < 400 && !cut; ++i) {
      if (rng() % 8 == 0) {
        Status st = d.Flush();
        if (st.ok()) durable = current;
        cut = !st.ok();
        continue;
      }
      const uint64_t off = rng() % (kSize / kBlock) * kBlock;
      const uint64_t len = std::min<uint64_t>(kSize - off, (1 + rng() % 8) * kBlock);
      buf.resize(len);
      // One random word per 8 bytes: distinct enough to tell versions apart, cheap under TSan.
      for (size_t k = 0; k < len; k += 8) {
        const uint64_t v = rng();
        std::memcpy(&buf[k], &v, 8);
      }
      Status st = d.Write(off, buf.data(), len);
      if (st.ok()) std::memcpy(current.data() + off, buf.data(), len);
      cut = !st.ok();
      if (cut) {
        EXPECT_EQ(st.code(), EIO);
      }
    }
    ASSERT_TRUE(cut) << "the seeded cut point lies within the workload";
    ASSERT_TRUE(PowerIsCut(d.root()));
    ++cuts;
    std::vector<uint8_t> below(kSize);
    ASSERT_TRUE(d.root().file()->Read(0, below.data(), kSize).ok());
    EXPECT_TRUE(below == durable) << "the device below differs from the last flushed state";
  }
  EXPECT_GE(cuts, 100);
}

}  // namespace
}  // namespace zbl::blkdebug
