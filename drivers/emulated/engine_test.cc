// Engine behaviour beyond the transition table: data, capacity, HA, NONE, faults, concurrency.
#include "emulated.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "zbl/backend.h"

namespace zbl::emulated {
namespace {

constexpr uint64_t kZone = 1 << 20;

std::unique_ptr<Backend> Open(const std::string& extra) {
  auto b = Backend::Open("driver=emulated,size=16M,zone-size=1M" + extra);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(*b) : nullptr;
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

Zone ZoneAt(Backend& b, uint64_t idx) { return (*b.ReportZones(idx * kZone, 1))[0]; }

TEST(Engine, WritesOnlyAtTheWritePointer) {
  auto b = Open("");
  auto d = Pattern(8192, 1);
  ASSERT_TRUE(b->Write(2 * kZone, d.data(), 4096).ok());
  Status st = b->Write(2 * kZone + 8192, d.data(), 4096);
  EXPECT_EQ(st.code(), EIO);
  EXPECT_NE(st.message().find("write pointer"), std::string::npos) << st.ToString();
  EXPECT_EQ(b->Write(2 * kZone, d.data(), 4096).code(), EIO);  // behind the wp
  Zone z = ZoneAt(*b, 2);
  EXPECT_EQ(z.write_pointer, 2 * kZone + 4096);
  EXPECT_EQ(z.condition, ZoneCondition::kImplicitOpen);
  ASSERT_TRUE(b->Write(2 * kZone + 4096, d.data() + 4096, 4096).ok());
  std::vector<uint8_t> back(8192);
  ASSERT_TRUE(b->Read(2 * kZone, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
}

TEST(Engine, CapacityBelowZoneSize) {
  auto b = Open(",zone-capacity=768K");
  Zone z = ZoneAt(*b, 0);
  EXPECT_EQ(z.length, kZone);
  EXPECT_EQ(z.capacity, 768u << 10);
  auto d = Pattern(768 << 10, 2);
  EXPECT_EQ(b->Write(0, d.data(), (768 << 10) + 4096).code(), EIO);  // past capacity
  EXPECT_EQ(ZoneAt(*b, 0).condition, ZoneCondition::kEmpty);          // changed nothing
  ASSERT_TRUE(b->Write(0, d.data(), d.size()).ok());
  z = ZoneAt(*b, 0);
  EXPECT_EQ(z.condition, ZoneCondition::kFull);
  EXPECT_EQ(z.write_pointer, 768u << 10);  // null_blk: full by writing stops at capacity
  EXPECT_EQ(b->Write(768 << 10, d.data(), 4096).code(), EIO);  // the gap is never writable
  // Reads of the gap (above the write pointer) return null_blk's 0xff fill (Linux 6.12, ci/vm).
  std::vector<uint8_t> gap(4096, 0x5a);
  ASSERT_TRUE(b->Read(768 << 10, gap.data(), gap.size()).ok());
  EXPECT_TRUE(std::all_of(gap.begin(), gap.end(), [](uint8_t c) { return c == 0xff; }));
}

// What a read above the write pointer returns is the family's: null_blk (memory-backed) fills
// 0xff, ZNS and ZBC (as measured through Linux in ci/vm) zeros.
TEST(Engine, ReadsPastTheWritePointerFollowTheProfile) {
  for (auto [extra, fill] : {std::pair{"", 0xff}, std::pair{",profile=zns", 0x00},
                             std::pair{",profile=zbc", 0x00}}) {
    auto b = Open(extra);
    auto d = Pattern(4096, 3);
    ASSERT_TRUE(b->Write(kZone, d.data(), 4096).ok());
    std::vector<uint8_t> back(8192, 0xee);
    ASSERT_TRUE(b->Read(kZone, back.data(), back.size()).ok());
    EXPECT_TRUE(std::equal(d.begin(), d.end(), back.begin()));
    EXPECT_TRUE(std::all_of(back.begin() + 4096, back.end(), [&](uint8_t c) { return c == fill; }))
        << extra;
  }
}

// scsi_debug refuses a read spanning a zone's capacity end and the gap after it (ci/vm).
TEST(Engine, ReadAcrossCapacityFollowsTheProfile) {
  for (auto [extra, err] : {std::pair{"", 0}, std::pair{",profile=zns", 0},
                            std::pair{",profile=zbc", EREMOTEIO}}) {
    auto b = Open(std::string(",zone-capacity=768K") + extra);
    std::vector<uint8_t> back(8192);
    EXPECT_EQ(b->Read((768 << 10) - 4096, back.data(), back.size()).code(), err) << extra;
    EXPECT_TRUE(b->Read(768 << 10, back.data(), back.size()).ok()) << extra;  // the gap alone
  }
}

// The errno of each refused write and append, state by state, as measured on scsi_debug
// through Linux 6.12.118 with qemu-io 10 (ci/vm/errno-cells.sh, three runs each, always the
// same): the device's EREMOTEIO where the write reaches it, EIO where Linux's zone write plug
// refuses it first. null_blk and ZNS answer EIO in every one of these states.
TEST(Engine, RefusedWritesGiveTheErrnoOfWhoRefusesThem) {
  constexpr uint64_t kCap = 768 << 10, kB = 4096;
  for (auto [extra, dev] : {std::pair{"", EIO}, std::pair{",profile=zns", EIO},
                            std::pair{",profile=zbc", EREMOTEIO}}) {
    SCOPED_TRACE(extra);
    auto b = Open(std::string(",zone-capacity=768K,conventional-zones=1") + extra);
    auto d = Pattern(2 * kB, 9);
    auto write = [&](uint32_t z, uint64_t rel, uint64_t len) {
      return b->Write(z * kZone + rel, d.data(), len).code();
    };
    auto fill = [&](uint32_t z, uint64_t to) {
      std::vector<uint8_t> f(to, 1);
      ASSERT_TRUE(b->Write(z * kZone, f.data(), f.size()).ok());
    };
    const int plug = EIO;
    EXPECT_EQ(write(1, kB, kB), dev) << "ahead of the wp of an EMPTY zone";
    EXPECT_EQ(write(1, kCap, kB), plug) << "into the gap of an EMPTY zone";
    EXPECT_EQ(write(1, 0, kB), 0) << "the zone start after both";
    ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 2 * kZone, kZone).ok());
    EXPECT_EQ(write(2, kB, kB), dev) << "ahead of the wp of an untouched EXP_OPEN zone";
    ASSERT_EQ(write(3, 0, 2 * kB), 0);
    EXPECT_EQ(write(3, 4 * kB, kB), plug) << "ahead of the wp of a written zone";
    EXPECT_EQ(write(3, 0, kB), plug) << "behind the wp of a written zone";
    ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kClose, 3 * kZone, kZone).ok());
    EXPECT_EQ(write(3, 4 * kB, kB), plug) << "ahead of the wp of a CLOSED zone";
    fill(4, kCap - kB);
    EXPECT_EQ(write(4, kCap - kB, 2 * kB), dev) << "at the wp, past the capacity";
    // That refusal left Linux no plug for the zone: the next write reaches the device, and
    // its refusal resyncs a new plug to the write pointer (ci/vm/diff.sh zbc).
    EXPECT_EQ(write(4, 0, kB), dev) << "behind the wp after a refusal past the capacity";
    EXPECT_EQ(write(4, 0, kB), plug) << "behind the wp once the plug is back";
    EXPECT_EQ(b->ZoneAppend(4 * kZone, d.data(), 2 * kB).status().code(), dev)
        << "append at the wp, past the capacity";
    EXPECT_EQ(write(4, 0, kB), dev) << "behind the wp after an append past the capacity";
    EXPECT_EQ(b->ZoneAppend(4 * kZone, d.data(), 2 * kB).status().code(), dev);
    EXPECT_EQ(write(4, kCap, kB), plug) << "into the gap: a new plug refuses it and stays";
    EXPECT_EQ(write(4, 0, kB), plug) << "behind the wp after the plug's refusal";
    EXPECT_EQ(write(4, kCap - kB, kB), 0) << "at the wp";
    EXPECT_EQ(write(3, 0, kB), plug) << "zone 3 kept its plug";
    fill(5, kCap);
    EXPECT_EQ(write(5, kCap - kB, kB), dev) << "below the capacity of a FULL zone";
    EXPECT_EQ(write(5, kCap, kB), plug) << "into the gap of a FULL zone";
    EXPECT_EQ(write(5, 0, kB), dev) << "the start of a FULL zone";
    EXPECT_EQ(b->ZoneAppend(5 * kZone, d.data(), kB).status().code(), EIO) << "append to FULL";
    ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kFinish, 6 * kZone, kZone).ok());
    EXPECT_EQ(write(6, 0, kB), dev) << "the start of a finished zone";
    // Refused by the Backend for every family, as QEMU's block layer does.
    EXPECT_EQ(b->ZoneAppend(0, d.data(), kB).status().code(), EINVAL) << "append to conventional";
    EXPECT_EQ(b->ZoneAppend(7 * kZone + kB, d.data(), kB).status().code(), EINVAL)
        << "append not at a zone start";
    for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset})
      EXPECT_EQ(b->ZoneMgmt(op, 0, kZone).code(), EIO) << ToString(op) << " of a conventional zone";
  }
}

TEST(Engine, ResetZeroesAndFreesMemory) {
  auto b = Backend::Open("driver=emulated,size=16M,zone-size=1M");
  ASSERT_TRUE(b.ok());
  auto& node = static_cast<EngineNode&>((*b)->root());
  EXPECT_EQ(node.engine().resident_bytes(), 0u);  // untouched zones cost nothing
  auto d = Pattern(4096, 4);
  ASSERT_TRUE((*b)->Write(3 * kZone, d.data(), d.size()).ok());
  EXPECT_GT(node.engine().resident_bytes(), 0u);
  ASSERT_TRUE((*b)->ZoneMgmt(ZoneOp::kReset, 3 * kZone, kZone).ok());
  EXPECT_EQ(node.engine().resident_bytes(), 0u);
  std::vector<uint8_t> back(4096, 0xee);
  ASSERT_TRUE((*b)->Read(3 * kZone, back.data(), back.size()).ok());
  // Above the write pointer of the reset zone: null_blk's fill, not the old data.
  EXPECT_TRUE(std::all_of(back.begin(), back.end(), [](uint8_t c) { return c == 0xff; }));
  // A recycled buffer never shows its old contents, even below a finished zone's wp.
  ASSERT_TRUE((*b)->Write(4 * kZone, d.data(), d.size()).ok());
  ASSERT_TRUE((*b)->ZoneMgmt(ZoneOp::kFinish, 4 * kZone, kZone).ok());
  ASSERT_TRUE((*b)->Read(4 * kZone + 4096, back.data(), back.size()).ok());
  EXPECT_TRUE(std::all_of(back.begin(), back.end(), [](uint8_t c) { return c == 0; }));
}

TEST(Engine, ConventionalZonesTakeWritesAnywhereAndRefuseManagement) {
  auto b = Open(",conventional-zones=2");
  Zone z = ZoneAt(*b, 1);
  EXPECT_EQ(z.type, ZoneType::kConventional);
  EXPECT_EQ(z.condition, ZoneCondition::kNotWritePointer);
  auto d = Pattern(4096, 5);
  ASSERT_TRUE(b->Write(kZone + 65536, d.data(), d.size()).ok());
  ASSERT_TRUE(b->Write(kZone + 4096, d.data(), d.size()).ok());
  for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset})
    EXPECT_EQ(b->ZoneMgmt(op, kZone, kZone).code(), EIO) << ToString(op);
  // Refused by the Backend before the engine, as QEMU's block layer does (qemu-io 10:
  // "zone append failed: Invalid argument" on kernel null_blk and scsi_debug).
  EXPECT_EQ(b->ZoneAppend(kZone, d.data(), d.size()).status().code(), EINVAL);
  std::vector<uint8_t> back(4096);
  ASSERT_TRUE(b->Read(kZone + 65536, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
}

TEST(Engine, HostAwareZonesAcceptAnyWrite) {
  auto b = Open(",model=ha");
  EXPECT_EQ(b->model(), ZoneModel::kHostAware);
  Zone z = ZoneAt(*b, 3);
  EXPECT_EQ(z.type, ZoneType::kSequentialWritePreferred);
  auto d = Pattern(4096, 6);
  ASSERT_TRUE(b->Write(3 * kZone + 65536, d.data(), d.size()).ok());
  z = ZoneAt(*b, 3);
  EXPECT_EQ(z.condition, ZoneCondition::kImplicitOpen);
  EXPECT_EQ(z.write_pointer, 3 * kZone + 65536 + 4096);
  ASSERT_TRUE(b->Write(3 * kZone, d.data(), d.size()).ok());  // below the wp too
  std::vector<uint8_t> back(4096);
  ASSERT_TRUE(b->Read(3 * kZone + 65536, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kReset, 3 * kZone, kZone).ok());
  EXPECT_EQ(ZoneAt(*b, 3).condition, ZoneCondition::kEmpty);
}

TEST(Engine, FaultInjectedZones) {
  auto b = Open(",read-only-zones=3,offline-zones=4:6");
  EXPECT_EQ(ZoneAt(*b, 3).condition, ZoneCondition::kReadOnly);
  EXPECT_EQ(ZoneAt(*b, 4).condition, ZoneCondition::kOffline);
  EXPECT_EQ(ZoneAt(*b, 6).condition, ZoneCondition::kOffline);
  EXPECT_EQ(ZoneAt(*b, 3).write_pointer, kInvalidWritePointer);
  auto d = Pattern(4096, 7);
  std::vector<uint8_t> back(4096);
  EXPECT_EQ(b->Write(3 * kZone, d.data(), d.size()).code(), EIO);
  EXPECT_TRUE(b->Read(3 * kZone, back.data(), back.size()).ok());
  EXPECT_EQ(b->Write(4 * kZone, d.data(), d.size()).code(), EIO);
  EXPECT_EQ(b->Read(4 * kZone, back.data(), back.size()).code(), EIO);
  EXPECT_EQ(b->ZoneAppend(3 * kZone, d.data(), d.size()).status().code(), EIO);
  for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset}) {
    EXPECT_EQ(b->ZoneMgmt(op, 3 * kZone, kZone).code(), EIO);
    EXPECT_EQ(b->ZoneMgmt(op, 4 * kZone, kZone).code(), EIO);
  }
  EXPECT_TRUE(b->ZoneResetAll().ok());  // reset-all skips them
  EXPECT_EQ(ZoneAt(*b, 3).condition, ZoneCondition::kReadOnly);
}

TEST(Engine, AppendReturnsTheOffsetWritten) {
  auto b = Open(",max-append-bytes=64K,zone-capacity=512K");
  auto d = Pattern(65536, 8);
  for (int i = 0; i < 8; ++i) {
    auto at = b->ZoneAppend(5 * kZone, d.data(), d.size());
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    EXPECT_EQ(*at, 5 * kZone + 65536u * i);
  }
  EXPECT_EQ(ZoneAt(*b, 5).condition, ZoneCondition::kFull);
  EXPECT_EQ(b->ZoneAppend(5 * kZone, d.data(), 4096).status().code(), EIO);  // full
  EXPECT_EQ(b->ZoneAppend(6 * kZone, d.data(), 128 << 10).status().code(), EINVAL);  // too big
  // An append that does not fit below capacity writes nothing.
  ASSERT_TRUE(b->Write(6 * kZone, d.data(), 4096).ok());
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(b->ZoneAppend(6 * kZone, d.data(), d.size()).ok());
  EXPECT_EQ(b->ZoneAppend(6 * kZone, d.data(), d.size()).status().code(), EIO);
  EXPECT_EQ(ZoneAt(*b, 6).write_pointer, 6 * kZone + 4096 + 7 * 65536u);
}

TEST(Engine, NonZonedDeviceIsFlat) {
  auto b = Open(",model=none");
  auto d = Pattern(8192, 9);
  ASSERT_TRUE(b->Write(kZone - 4096, d.data(), d.size()).ok());  // across internal chunks
  std::vector<uint8_t> back(8192);
  ASSERT_TRUE(b->Read(kZone - 4096, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
}

TEST(Engine, ConcurrentAppendsNeverOverlapAndLoseNothing) {
  constexpr int kThreads = 4, kPerThread = 10000, kBlock = 4096;
  constexpr uint64_t kBigZone = uint64_t{64} << 20;  // 16384 blocks per zone
  auto b = Backend::Open("driver=emulated,size=1G,zone-size=64M,max-open-zones=4");
  ASSERT_TRUE(b.ok());
  Backend& dev = **b;
  // Threads share zones 0..3 (two threads per zone) so appends contend.
  std::vector<std::vector<uint64_t>> offsets(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> buf(kBlock);
      for (int i = 0; i < kPerThread; ++i) {
        uint64_t zone = static_cast<uint64_t>((t + i) % 4);
        // Each block carries (thread, sequence) so its content proves where it came from.
        uint32_t tag[2] = {static_cast<uint32_t>(t), static_cast<uint32_t>(i)};
        for (size_t k = 0; k < kBlock; k += sizeof tag) std::memcpy(&buf[k], tag, sizeof tag);
        auto at = dev.ZoneAppend(zone * kBigZone, buf.data(), buf.size());
        ASSERT_TRUE(at.ok()) << at.status().ToString();
        offsets[t].push_back(*at);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (const auto& v : offsets) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t{kThreads} * kPerThread);  // distinct offsets
  std::vector<uint8_t> back(kBlock);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      ASSERT_TRUE(dev.Read(offsets[t][i], back.data(), back.size()).ok());
      uint32_t tag[2];
      std::memcpy(tag, back.data() + kBlock - sizeof tag, sizeof tag);
      ASSERT_EQ(tag[0], static_cast<uint32_t>(t));
      ASSERT_EQ(tag[1], static_cast<uint32_t>(i));
    }
  }
  uint64_t total = 0;
  auto zones = dev.ReportZones(0, 4);
  ASSERT_TRUE(zones.ok());
  for (const Zone& z : *zones) total += z.write_pointer - z.start;
  EXPECT_EQ(total, uint64_t{kThreads} * kPerThread * kBlock);
}

TEST(Engine, WritersOnManyZonesUnderAnOpenLimitKeepTheInvariants) {
  // 8 threads, 32 zones, max-open 4: evictions race with fast-path writes.
  auto b = Backend::Open("driver=emulated,size=32M,zone-size=1M,max-open-zones=4,max-active-zones=6");
  ASSERT_TRUE(b.ok());
  Backend& dev = **b;
  std::atomic<int> ok_writes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> buf(4096, static_cast<uint8_t>(t));
      for (int i = 0; i < 3000; ++i) {
        uint64_t zone = static_cast<uint64_t>((t * 7 + i) % 32);
        if (dev.ZoneAppend(zone * kZone, buf.data(), buf.size()).ok()) ++ok_writes;
        if (i % 97 == 0) (void)dev.ZoneMgmt(ZoneOp::kReset, zone * kZone, kZone);
        if (i % 89 == 0) (void)dev.ZoneMgmt(ZoneOp::kFinish, zone * kZone, kZone);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(ok_writes.load(), 0);
  auto zones = *dev.ReportZones(0, 0);
  int open = 0, active = 0;
  for (const Zone& z : zones) {
    open += IsOpen(z.condition);
    active += IsActive(z.condition);
    EXPECT_LE(z.write_pointer, z.start + z.length);
  }
  EXPECT_LE(open, 4);
  EXPECT_LE(active, 6);
  auto& node = static_cast<EngineNode&>(dev.root());
  auto c = node.engine().counts();
  EXPECT_EQ(static_cast<int>(c.imp_open + c.exp_open), open);
  EXPECT_EQ(static_cast<int>(c.imp_open + c.exp_open + c.closed), active);
}

}  // namespace
}  // namespace zbl::emulated
