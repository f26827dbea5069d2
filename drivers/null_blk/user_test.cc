// The user twin through the whole stack (driver=null_blk,backend=user): geometry, parameters,
// data, conditions after each operation, and errors, as the kernel's null_blk shows them.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "configfs.h"
#include "zbl/backend.h"
#include "zbl/driver.h"

namespace zbl::null_blk {
namespace {

constexpr uint64_t kMb = 1 << 20;
using ZC = ZoneCondition;

std::unique_ptr<Backend> Open(const std::string& opts) {
  auto b = Backend::Open("driver=null_blk,backend=user," + opts);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(*b) : nullptr;
}

Status OpenError(const std::string& opts) {
  auto b = Backend::Open("driver=null_blk,backend=user," + opts);
  return b.ok() ? Status::Ok() : b.status();
}

Zone ZoneAt(Backend& b, uint64_t offset) {
  auto r = b.ReportZones(offset, 1);
  EXPECT_TRUE(r.ok() && r->size() == 1);
  return r.ok() && !r->empty() ? (*r)[0] : Zone{};
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = static_cast<uint8_t>(seed + i * 13);
  }
  return v;
}

TEST(NullBlkUser, ZonedDefaultsReportAThousandZonesOf256MAnd512ByteBlocks) {
  auto b = Open("zoned=1");
  ASSERT_TRUE(b);
  const Limits& l = b->limits();
  EXPECT_EQ(l.model, ZoneModel::kHostManaged);
  EXPECT_EQ(l.size, 256000 * kMb);
  EXPECT_EQ(l.logical_block_size, 512u);
  EXPECT_EQ(l.zone_size, 256 * kMb);
  EXPECT_EQ(l.nr_zones, 1000u);
  EXPECT_EQ(l.max_open_zones, 128u);  // Linux 6.10+ reports its write-plug pool, not a limit
  EXPECT_EQ(l.max_active_zones, 0u);
  EXPECT_EQ(l.max_append_bytes, 255u * 512);
  auto zones = b->ReportZones(0, 0);
  ASSERT_TRUE(zones.ok()) << zones.status().ToString();
  ASSERT_EQ(zones->size(), 1000u);
  for (size_t i = 0; i < zones->size(); ++i) {
    const Zone& z = (*zones)[i];
    ASSERT_EQ(z.start, i * 256 * kMb);
    ASSERT_EQ(z.length, 256 * kMb);
    ASSERT_EQ(z.capacity, 256 * kMb);
    ASSERT_EQ(z.type, ZoneType::kSequentialWriteRequired);
    ASSERT_EQ(z.condition, ZC::kEmpty);
    ASSERT_EQ(z.write_pointer, z.start);
  }
  // The reported 128 is not a limit: 130 zones open at once.
  std::vector<uint8_t> d(4096);
  for (uint64_t i = 0; i < 130; ++i) {
    ASSERT_TRUE(b->Write(i * 256 * kMb, d.data(), d.size()).ok()) << i;
  }
  EXPECT_EQ(ZoneAt(*b, 0).condition, ZC::kImplicitOpen);
}

// What the suites read to know whether data checks apply: memory_backed=0 keeps nothing; an
// emulated append (zone_append_max_sectors=0) is not the device's own.
TEST(NullBlkUser, CapabilitiesFollowMemoryBackedAndAppend) {
  auto none = Open("size=16,zoned=1,zone_size=4");
  auto kept = Open("size=16,zoned=1,zone_size=4,memory_backed=1");
  auto emul = Open("size=16,zoned=1,zone_size=4,memory_backed=1,zone_append_max_sectors=0");
  ASSERT_TRUE(none && kept && emul);
  EXPECT_FALSE(none->capabilities().Has(Cap::kKeepsData));
  EXPECT_TRUE(kept->capabilities().Has(Cap::kKeepsData));
  EXPECT_TRUE(kept->capabilities().Has(Cap::kZoneAppend));
  EXPECT_FALSE(emul->capabilities().Has(Cap::kZoneAppend));
  EXPECT_FALSE(kept->capabilities().Has(Cap::kPersistent));
}

TEST(NullBlkUser, NotZonedByDefault) {
  auto b = Open("size=64");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->model(), ZoneModel::kNone);
  EXPECT_EQ(b->size(), 64 * kMb);
  EXPECT_EQ(b->ReportZones(0, 1).status().code(), ENOTSUP);
}

TEST(NullBlkUser, BlockSize4096) {
  auto b = Open("size=64,zoned=1,zone_size=4,blocksize=4096");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->limits().logical_block_size, 4096u);
  std::vector<uint8_t> d(512);
  EXPECT_EQ(b->Write(0, d.data(), d.size()).code(), EINVAL);  // below one block
}

TEST(NullBlkUser, SmallerLastZone) {
  auto b = Open("size=10,zoned=1,zone_size=4");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->limits().nr_zones, 3u);
  Zone last = ZoneAt(*b, 8 * kMb);
  EXPECT_EQ(last.start, 8 * kMb);
  EXPECT_EQ(last.length, 2 * kMb);
  EXPECT_EQ(last.capacity, 2 * kMb);
  auto d = Pattern(2 * kMb, 1);
  ASSERT_TRUE(b->Write(8 * kMb, d.data(), d.size()).ok());
  last = ZoneAt(*b, 8 * kMb);
  EXPECT_EQ(last.condition, ZC::kFull);
  EXPECT_EQ(last.write_pointer, 10 * kMb);
}

TEST(NullBlkUser, ZoneCapacityAndConventionalZones) {
  auto b = Open("size=32,zoned=1,zone_size=4,zone_capacity=3,zone_nr_conv=2");
  ASSERT_TRUE(b);
  Zone c = ZoneAt(*b, 0);
  EXPECT_EQ(c.type, ZoneType::kConventional);
  EXPECT_EQ(c.condition, ZC::kNotWritePointer);
  EXPECT_EQ(c.capacity, 4 * kMb);                 // conventional zones use their whole length
  EXPECT_EQ(c.write_pointer, c.start + 4 * kMb);  // as null_blk reports them
  Zone s = ZoneAt(*b, 8 * kMb);
  EXPECT_EQ(s.type, ZoneType::kSequentialWriteRequired);
  EXPECT_EQ(s.capacity, 3 * kMb);
  auto d = Pattern(3 * kMb + 4096, 2);
  ASSERT_TRUE(b->Write(8 * kMb, d.data(), 3 * kMb - 4096).ok());
  EXPECT_EQ(b->Write(8 * kMb + 3 * kMb - 4096, d.data(), 8192).code(), EIO);  // past capacity
  EXPECT_EQ(ZoneAt(*b, 8 * kMb).write_pointer, 8 * kMb + 3 * kMb - 4096);     // changed nothing
  ASSERT_TRUE(b->Write(8 * kMb + 3 * kMb - 4096, d.data(), 4096).ok());
  s = ZoneAt(*b, 8 * kMb);
  EXPECT_EQ(s.condition, ZC::kFull);
  EXPECT_EQ(s.write_pointer, 8 * kMb + 3 * kMb);  // FULL by writes: capacity end
  // Conventional zones take writes anywhere and refuse zone management.
  ASSERT_TRUE(b->Write(4096, d.data(), 4096).ok());
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kReset, 0, 4 * kMb).code(), EIO);
}

TEST(NullBlkUser, WhatReadsReturnFollowsMemoryBacked) {
  auto d = Pattern(size_t{64} * 1024, 3);
  std::vector<uint8_t> back(2 * d.size(), 0xAA);
  {
    // Data below the write pointer, 0xFF at and above it (null_blk's fill pattern).
    auto b = Open("size=16,zoned=1,zone_size=4,memory_backed=1");
    ASSERT_TRUE(b);
    ASSERT_TRUE(b->Write(0, d.data(), d.size()).ok());
    ASSERT_TRUE(b->Read(0, back.data(), back.size()).ok());
    EXPECT_TRUE(std::equal(d.begin(), d.end(), back.begin()));
    EXPECT_EQ(std::vector<uint8_t>(back.begin() + d.size(), back.end()),
              std::vector<uint8_t>(d.size(), 0xFF));
    // Finish moves the write pointer to the zone end: unwritten blocks below it read as zeros.
    ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kFinish, 0, 4 * kMb).ok());
    std::fill(back.begin(), back.end(), 0xAA);
    ASSERT_TRUE(b->Read(0, back.data(), back.size()).ok());
    EXPECT_EQ(std::vector<uint8_t>(back.begin() + d.size(), back.end()),
              std::vector<uint8_t>(d.size(), 0));
  }
  {
    // A flat memory-backed device: unwritten blocks are zeros.
    auto b = Open("size=16,memory_backed=1");
    std::fill(back.begin(), back.end(), 0xAA);
    ASSERT_TRUE(b->Read(0, back.data(), back.size()).ok());
    EXPECT_EQ(back, std::vector<uint8_t>(back.size(), 0));
  }
  for (const char* opts : {"size=16,zoned=1,zone_size=4", "size=16,memory_backed=0"}) {
    // memory_backed=0: the read completes and the buffer is left as it was.
    auto b = Open(opts);
    ASSERT_TRUE(b);
    ASSERT_TRUE(b->Write(0, d.data(), d.size()).ok());
    std::fill(back.begin(), back.end(), 0xAA);
    ASSERT_TRUE(b->Read(0, back.data(), back.size()).ok());
    EXPECT_EQ(back, std::vector<uint8_t>(back.size(), 0xAA)) << opts;
  }
  // Zone state is kept even when data is not.
  auto b = Open("size=16,zoned=1,zone_size=4");
  ASSERT_TRUE(b->Write(0, d.data(), d.size()).ok());
  EXPECT_EQ(ZoneAt(*b, 0).write_pointer, d.size());
  EXPECT_EQ(b->Write(0, d.data(), 4096).code(), EIO);
}

TEST(NullBlkUser, ReportAfterEachOperation) {
  auto b = Open("size=64,zoned=1,zone_size=4");
  ASSERT_TRUE(b);
  auto d = Pattern(8192, 4);
  const uint64_t z = 4 * kMb;
  ASSERT_TRUE(b->Write(z, d.data(), 8192).ok());
  EXPECT_EQ(ZoneAt(*b, z).condition, ZC::kImplicitOpen);
  EXPECT_EQ(ZoneAt(*b, z).write_pointer, z + 8192);
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kClose, z, 4 * kMb).ok());
  EXPECT_EQ(ZoneAt(*b, z).condition, ZC::kClosed);
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, z, 4 * kMb).ok());
  EXPECT_EQ(ZoneAt(*b, z).condition, ZC::kExplicitOpen);
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kFinish, z, 4 * kMb).ok());
  EXPECT_EQ(ZoneAt(*b, z).condition, ZC::kFull);
  EXPECT_EQ(ZoneAt(*b, z).write_pointer, z + 4 * kMb);  // FULL by finish: zone end
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kReset, z, 4 * kMb).ok());
  EXPECT_EQ(ZoneAt(*b, z).condition, ZC::kEmpty);
  EXPECT_EQ(ZoneAt(*b, z).write_pointer, z);
  // null_blk: an explicitly opened zone closed before any write goes back to EMPTY; closing
  // an EMPTY zone is an I/O error.
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, z, 4 * kMb).ok());
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kClose, z, 4 * kMb).ok());
  EXPECT_EQ(ZoneAt(*b, z).condition, ZC::kEmpty);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kClose, z, 4 * kMb).code(), EIO);
  // Append writes at the write pointer and says where.
  auto at = b->ZoneAppend(z, d.data(), 4096);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_EQ(*at, z);
  at = b->ZoneAppend(z, d.data(), 4096);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, z + 4096);
}

// A write longer than max_transfer that the kernel would refuse in one of its fragments is
// refused whole, changing nothing, as zbl's host_device over the kernel disk does
// (file::CheckSplitWrite): the twin reports the kernel's max_transfer and applies the rule.
TEST(NullBlkUser, LongWriteTheKernelWouldRefuseChangesNothing) {
  auto b = Open("size=32,zoned=1,zone_size=4,zone_capacity=3,memory_backed=1");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->limits().max_transfer, 127u * 1024);  // max_sectors 255: max_sectors_kb 127
  auto d = Pattern(3 * kMb + 4096, 9);
  ASSERT_TRUE(b->Write(4 * kMb, d.data(), 8192).ok());
  struct Case {
    uint64_t off;
    size_t len;
    const char* says;
  };
  for (Case c : {Case{4 * kMb + 8192, 3 * kMb, "capacity"},        // past the capacity
                 Case{4 * kMb + 4096, 256 << 10, "write pointer"},  // behind the write pointer
                 Case{8 * kMb + 8192, 256 << 10, "write pointer"},  // ahead, in an EMPTY zone
                 Case{4 * kMb + 8192, 4 * kMb, "capacity"}}) {      // into the next zone
    const auto before = *b->ReportZones(0, 0);
    Status st = b->Write(c.off, d.data(), c.len);
    EXPECT_EQ(st.code(), EIO) << st.ToString();
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
    EXPECT_EQ(*b->ReportZones(0, 0), before) << "a refused write changed zones: " << c.off;
  }
  // Writes up to max_transfer are judged by the device alone, as one request.
  auto e = Open("size=32,zoned=1,zone_size=4");
  ASSERT_TRUE(e->Write(4 * kMb, d.data(), 4096).ok());
  EXPECT_EQ(e->Write(4 * kMb - 4096, d.data(), 8192).code(), EIO);  // zone 0 part not at its wp
  EXPECT_EQ(ZoneAt(*e, 0).condition, ZC::kEmpty);
  EXPECT_EQ(ZoneAt(*e, 4 * kMb).write_pointer, 4 * kMb + 4096);
  // A long write that fits is written whole (in max_sectors fragments).
  auto c = Open("size=32,zoned=1,zone_size=4,zone_capacity=3,max_sectors=8192,memory_backed=1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->limits().max_transfer, 1280u * 1024);  // capped at 2560 sectors
  ASSERT_TRUE(c->Write(4 * kMb, d.data(), 3 * kMb).ok());
  EXPECT_EQ(ZoneAt(*c, 4 * kMb).condition, ZC::kFull);
}

TEST(NullBlkUser, WriteNotAtTheWritePointerIsAnIoError) {
  auto b = Open("size=16,zoned=1,zone_size=4");
  auto d = Pattern(4096, 5);
  Status st = b->Write(8192, d.data(), d.size());
  EXPECT_EQ(st.code(), EIO);
  EXPECT_EQ(ZoneAt(*b, 0).condition, ZC::kEmpty);
}

TEST(NullBlkUser, OpenLimitClosesAnImplicitlyOpenZoneOrFails) {
  auto b = Open("size=64,zoned=1,zone_size=4,zone_max_open=2");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->limits().max_open_zones, 2u);
  auto d = Pattern(4096, 6);
  ASSERT_TRUE(b->Write(0, d.data(), 4096).ok());
  ASSERT_TRUE(b->Write(4 * kMb, d.data(), 4096).ok());
  ASSERT_TRUE(b->Write(8 * kMb, d.data(), 4096).ok());  // closes zone 0 (round robin)
  EXPECT_EQ(ZoneAt(*b, 0).condition, ZC::kClosed);
  EXPECT_EQ(ZoneAt(*b, 8 * kMb).condition, ZC::kImplicitOpen);
  // With every open slot explicitly open, a new open fails with the open-resource error.
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kReset, 0, 64 * kMb).ok());
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 0, 4 * kMb).ok());
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 4 * kMb, 4 * kMb).ok());
  EXPECT_EQ(b->Write(8 * kMb, d.data(), 4096).code(), ETOOMANYREFS);
  EXPECT_EQ(ZoneAt(*b, 8 * kMb).condition, ZC::kEmpty);
}

TEST(NullBlkUser, ActiveLimitIsCheckedFirst) {
  auto b = Open("size=64,zoned=1,zone_size=4,zone_max_open=2,zone_max_active=2");
  ASSERT_TRUE(b);
  auto d = Pattern(4096, 7);
  ASSERT_TRUE(b->Write(0, d.data(), 4096).ok());
  ASSERT_TRUE(b->Write(4 * kMb, d.data(), 4096).ok());
  EXPECT_EQ(b->Write(8 * kMb, d.data(), 4096).code(), EOVERFLOW);
}

TEST(NullBlkUser, AdjustedLimitsReachTheDevice) {
  // 4 zones, 3 asked conventional-or-more: one stays sequential; limits above it are dropped.
  auto b = Open("size=16,zoned=1,zone_size=4,zone_nr_conv=7,zone_max_open=1,zone_max_active=5");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->limits().max_active_zones, 0u);
  EXPECT_EQ(b->limits().max_open_zones, 0u);
  EXPECT_EQ(ZoneAt(*b, 8 * kMb).type, ZoneType::kConventional);
  EXPECT_EQ(ZoneAt(*b, 12 * kMb).type, ZoneType::kSequentialWriteRequired);
  const std::string info = b->Describe();
  EXPECT_NE(info.find("changed the number of conventional zones to 3"), std::string::npos) << info;
  EXPECT_NE(info.find("backend: user (backend=user)"), std::string::npos) << info;
  auto c = Open("size=64,zoned=1,zone_size=4,zone_max_open=6,zone_max_active=4");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->limits().max_open_zones, 4u);
  EXPECT_EQ(c->limits().max_active_zones, 4u);
}

TEST(NullBlkUser, ZoneFull) {
  auto b = Open("size=16,zoned=1,zone_size=4,zone_capacity=3,zone_nr_conv=1,zone_full=1");
  ASSERT_TRUE(b);
  EXPECT_EQ(ZoneAt(*b, 0).condition, ZC::kNotWritePointer);
  for (uint64_t z = 1; z < 4; ++z) {
    Zone d = ZoneAt(*b, z * 4 * kMb);
    EXPECT_EQ(d.condition, ZC::kFull);
    EXPECT_EQ(d.write_pointer, d.start + 3 * kMb);
  }
  std::vector<uint8_t> buf(4096);
  EXPECT_EQ(b->Write(4 * kMb, buf.data(), buf.size()).code(), EIO);
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kReset, 4 * kMb, 4 * kMb).ok());
  EXPECT_TRUE(b->Write(4 * kMb, buf.data(), buf.size()).ok());
}

TEST(NullBlkUser, ReadOnlyAndOfflineZones) {
  auto b = Open("size=32,zoned=1,zone_size=4,zone_readonly=2:3,zone_offline=3:5,memory_backed=1");
  ASSERT_TRUE(b);
  Zone ro = ZoneAt(*b, 8 * kMb), off = ZoneAt(*b, 12 * kMb), off5 = ZoneAt(*b, 20 * kMb);
  EXPECT_EQ(ro.condition, ZC::kReadOnly);
  EXPECT_EQ(ro.write_pointer, kInvalidWritePointer);
  EXPECT_EQ(off.condition, ZC::kOffline);
  EXPECT_EQ(off5.condition, ZC::kOffline);
  std::vector<uint8_t> buf(4096);
  EXPECT_EQ(b->Write(ro.start, buf.data(), buf.size()).code(), EIO);
  EXPECT_TRUE(b->Read(ro.start, buf.data(), buf.size()).ok());
  EXPECT_EQ(b->Read(off.start, buf.data(), buf.size()).code(), EIO);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kReset, ro.start, 4 * kMb).code(), EIO);
}

TEST(NullBlkUser, AppendLimitFollowsTheKernel) {
  auto b = Open("size=16,zoned=1,zone_size=4,zone_append_max_sectors=64");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->limits().max_append_bytes, 64u * 512);
  auto d = Pattern(64 * 512 + 512, 8);
  EXPECT_FALSE(b->ZoneAppend(0, d.data(), d.size()).ok());
  EXPECT_EQ(ZoneAt(*b, 0).condition, ZC::kEmpty);
  EXPECT_TRUE(b->ZoneAppend(0, d.data(), size_t{64} * 512).ok());
}

TEST(NullBlkUser, InvalidConfigurationsAreRefusedWithTheKernelsReason) {
  struct Case {
    const char* opts;
    int err;
    const char* words;
  } cases[] = {
      {"zoned=1,zone_size=3", EINVAL, "zone_size must be power-of-two"},
      {"size=4,zoned=1,zone_size=8", EINVAL, "Zone size larger than device capacity"},
      {"size=16,zoned=1,zone_size=4,zone_capacity=8", EINVAL, "zone capacity"},
      {"size=10,zoned=1,zone_size=4,zone_capacity=2", EINVAL, "smaller last zone"},
      {"blocksize=1000", EINVAL, "blocksize"},
      {"blocksize=1024", ENOTSUP, "user twin"},
      {"size=16,zoned=1,zone_size=4,zone_offline=4", EINVAL, "Sector out of range"},
      {"zoned=maybe", EINVAL, "zoned"},
      {"zone-size=4", EINVAL, "zone-size"},  // the emulated driver's name is not null_blk's
      {"file.driver=emulated", EINVAL, "file"},
  };
  for (const Case& c : cases) {
    Status st = OpenError(c.opts);
    EXPECT_EQ(st.code(), c.err) << c.opts << ": " << st.ToString();
    EXPECT_NE(st.ToString().find(c.words), std::string::npos) << c.opts << ": " << st.ToString();
    EXPECT_NE(st.ToString().find("null_blk"), std::string::npos) << st.ToString();
  }
  auto b = Backend::Open("driver=null_blk,backend=floppy");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), EINVAL);
  EXPECT_NE(b.status().message().find("backend"), std::string::npos) << b.status().ToString();
}

TEST(NullBlkUser, ConcurrentAppendsAndLongWritesToOtherZones) {
  auto b = Open("size=64,zoned=1,zone_size=4,memory_backed=1");
  ASSERT_TRUE(b);
  constexpr int kThreads = 4, kAppends = 64;
  std::vector<std::vector<uint64_t>> where(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> d(4096, static_cast<uint8_t>(t + 1));
      for (int i = 0; i < kAppends; ++i) {
        auto r = b->ZoneAppend(0, d.data(), d.size());
        if (r.ok()) {
          where[t].push_back(*r);
        }
      }
      // Each thread also fills a zone of its own with long (split) writes.
      std::vector<uint8_t> big(1 << 20, static_cast<uint8_t>(t + 1));
      for (uint64_t off = 0; off < 4 * kMb; off += big.size()) {
        EXPECT_TRUE(b->Write(uint64_t(t + 1) * 4 * kMb + off, big.data(), big.size()).ok());
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  std::vector<uint64_t> all;
  for (const auto& w : where) {
    all.insert(all.end(), w.begin(), w.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), size_t{kThreads} * kAppends);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i], i * 4096);
  }
  EXPECT_EQ(ZoneAt(*b, 0).write_pointer, all.size() * 4096);
  for (int t = 0; t < kThreads; ++t) {
    Zone z = ZoneAt(*b, uint64_t(t + 1) * 4 * kMb);
    EXPECT_EQ(z.condition, ZC::kFull);
    std::vector<uint8_t> back(4096);
    ASSERT_TRUE(b->Read(z.start + 4 * kMb - 4096, back.data(), back.size()).ok());
    EXPECT_EQ(back, std::vector<uint8_t>(4096, static_cast<uint8_t>(t + 1)));
  }
}

TEST(NullBlkUser, AutoChoosesUserWhenTheKernelHasNoNullBlk) {
  const std::string why = KernelUnavailableReason(kConfigfsRoot);
  if (why.empty() && FindDriver("host_device")) {
    GTEST_SKIP() << "this kernel has null_blk: auto picks the kernel backend";
  }
  auto b = Backend::Open("driver=null_blk,size=16,zoned=1,zone_size=4");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const std::string info = (*b)->Describe();
  EXPECT_NE(info.find("backend: user (backend=auto: "), std::string::npos) << info;
  // A missing configfs explains how to get it.
  auto c = Backend::Open("driver=null_blk,size=16,configfs=/nonexistent/nullb");
  ASSERT_TRUE(c.ok());
  EXPECT_NE((*c)->Describe().find("modprobe null_blk nr_devices=0"), std::string::npos);
}

}  // namespace
}  // namespace zbl::null_blk
