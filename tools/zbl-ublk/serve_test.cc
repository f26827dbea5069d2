// zbl-ublk's kernel-independent half: the refusals (what Linux would refuse, refused first) and
// request handling through Backend, with an in-memory data channel standing in for /dev/ublkcN.
#include "serve.h"

#include <gtest/gtest.h>

#include <cstring>

namespace zbl::ublk {
namespace {

std::unique_ptr<Backend> Open(const std::string& opts) {
  auto b = Backend::Open(opts);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(*b) : nullptr;
}

class MemChannel final : public DataChannel {
 public:
  std::vector<unsigned char> buf;
  long ToKernel(const void* p, size_t len) override {
    buf.assign(static_cast<const unsigned char*>(p), static_cast<const unsigned char*>(p) + len);
    return static_cast<long>(len);
  }
  long FromKernel(void* p, size_t len) override {
    if (buf.size() < len) return -EINVAL;
    std::memcpy(p, buf.data(), len);
    return static_cast<long>(len);
  }
};

std::string Refusal(const std::string& opts, ServeOptions o = {}) {
  auto b = Open(opts);
  if (!b) return "open failed";
  auto p = MakePlan(*b, o);
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), EINVAL);
  return p.status().message();
}

TEST(ZblUblkPlan, NullBlkGeometryIsZoned) {
  auto b = Open(
      "driver=emulated,size=1G,zone-size=4M,zone-capacity=3M,conventional-zones=25,max-open-zones="
      "8");
  auto p = MakePlan(*b, {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->zoned);
  EXPECT_EQ(p->nr_zones, 256u);
  EXPECT_EQ(p->conventional_zones, 25u);
  EXPECT_EQ(p->seq_zones, 231u);
  EXPECT_EQ(p->zone_capacity, 3u << 20);
  EXPECT_EQ(p->params.basic.chunk_sectors, (4u << 20) / 512);
  EXPECT_EQ(p->params.basic.dev_sectors, (1ull << 30) / 512);
  EXPECT_EQ(p->params.basic.logical_bs_shift, 12);
  EXPECT_EQ(p->params.zoned.max_open_zones, 8u);
  EXPECT_EQ(p->params.types, kParamBasic | kParamZoned);
  EXPECT_GT(p->params.zoned.max_zone_append_sectors, 0u);
}

TEST(ZblUblkPlan, RefusesWhatLinuxRefuses) {
  EXPECT_NE(Refusal("driver=emulated,size=96M,zone-size=3M").find("power of two"),
            std::string::npos);
  EXPECT_NE(Refusal("driver=emulated,size=10M,zone-size=4M").find("partial last zone"),
            std::string::npos);
  // (No sequential zone at all: zbl's own drivers refuse such a device already.)
  EXPECT_NE(Refusal("driver=emulated,size=16M,zone-size=4M,max-append-bytes=0").find("append"),
            std::string::npos);
  ServeOptions small;
  small.max_io = 4096;  // 64 zones * 64 bytes = 4096 fits; 65 do not
  EXPECT_EQ(Refusal("driver=emulated,size=64M,zone-size=1M", small), "");
  EXPECT_NE(
      Refusal("driver=emulated,size=128M,zone-size=1M", small).find("larger than the max I/O"),
      std::string::npos);
  ServeOptions bad;
  bad.max_io = 1000;
  EXPECT_NE(Refusal("driver=emulated,size=16M,zone-size=4M", bad).find("--max-io"),
            std::string::npos);
}

TEST(ZblUblkPlan, HostAwareAndNoneAreRegularDisks) {
  for (const char* m : {"ha", "none"}) {
    auto b = Open(std::string("driver=emulated,size=16M,zone-size=4M,model=") + m);
    auto p = MakePlan(*b, {});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_FALSE(p->zoned) << m;
    EXPECT_EQ(p->params.types, kParamBasic) << m;
    ASSERT_FALSE(p->notes.empty()) << m;
  }
}

IoDesc Desc(uint8_t op, uint64_t sector, uint32_t nr) { return IoDesc{op, nr, sector, 0}; }

TEST(ZblUblkHandle, WriteAppendReadReportReset) {
  auto b = Open("driver=emulated,size=16M,zone-size=4M,conventional-zones=1,block-size=512");
  auto plan = MakePlan(*b, {});
  ASSERT_TRUE(plan.ok());
  MemChannel ch;
  std::vector<unsigned char> scratch;
  const uint64_t z1 = (4u << 20) / 512;  // first sequential zone, in sectors
  ch.buf.assign(4096, 0xab);
  Reply r = Handle(*b, *plan, Desc(kOpWrite, z1, 8), ch, scratch);
  EXPECT_EQ(r.result, 4096);
  // A write off the write pointer: the device's errno, negated.
  r = Handle(*b, *plan, Desc(kOpWrite, z1 + 64, 8), ch, scratch);
  EXPECT_EQ(r.result, -EIO);
  ch.buf.assign(1024, 0xcd);
  r = Handle(*b, *plan, Desc(kOpZoneAppend, z1, 2), ch, scratch);
  EXPECT_EQ(r.result, 1024);
  EXPECT_EQ(r.append_sector, z1 + 8);
  r = Handle(*b, *plan, Desc(kOpRead, z1 + 6, 4), ch, scratch);
  ASSERT_EQ(r.result, 2048);
  EXPECT_EQ(ch.buf[0], 0xab);
  EXPECT_EQ(ch.buf[1024], 0xcd);
  // Report of two zones from zone 1 on a 4-zone device asked for 5: 3 filled, the rest zero.
  r = Handle(*b, *plan, Desc(kOpReportZones, z1, 5), ch, scratch);
  ASSERT_EQ(r.result, 5 * 64);
  const auto* zones = reinterpret_cast<const blk_zone*>(ch.buf.data());
  EXPECT_EQ(zones[0].start, z1);
  EXPECT_EQ(zones[0].wp, z1 + 10);
  EXPECT_EQ(zones[0].cond, 2);  // implicitly open
  EXPECT_EQ(zones[0].type, 2);
  EXPECT_EQ(zones[2].start, 3 * z1);
  EXPECT_EQ(zones[3].len, 0u);
  EXPECT_EQ(zones[4].len, 0u);
  r = Handle(*b, *plan, Desc(kOpZoneFinish, z1, 0), ch, scratch);
  EXPECT_EQ(r.result, 0);
  r = Handle(*b, *plan, Desc(kOpReportZones, z1, 1), ch, scratch);
  EXPECT_EQ(reinterpret_cast<const blk_zone*>(ch.buf.data())->cond, 0xE);
  r = Handle(*b, *plan, Desc(kOpZoneResetAll, 0, 0), ch, scratch);
  EXPECT_EQ(r.result, 0);
  r = Handle(*b, *plan, Desc(kOpReportZones, z1, 1), ch, scratch);
  EXPECT_EQ(reinterpret_cast<const blk_zone*>(ch.buf.data())->cond, 0x1);
  EXPECT_EQ(Handle(*b, *plan, Desc(kOpDiscard, 0, 8), ch, scratch).result, -EOPNOTSUPP);
  EXPECT_EQ(Handle(*b, *plan, Desc(kOpFlush, 0, 0), ch, scratch).result, 0);
}

}  // namespace
}  // namespace zbl::ublk
