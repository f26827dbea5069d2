// The zone state machine against an independent oracle: a table, written here by hand from the
// families' rules, of every starting condition x every operation, including the error cells.
// The engine is never consulted to build the expectations.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "zbl/backend.h"

namespace zbl {
namespace {

using ZC = ZoneCondition;
constexpr uint64_t kZone = 1 << 20;
constexpr uint64_t kCap = 768 << 10;
constexpr uint64_t kBlk = 4096;

enum class Start {
  kEmpty, kImpOpen, kExpOpenAtStart, kExpOpen, kClosed, kFullWritten, kFullFinished,
  kReadOnly, kOffline, kConventional
};
enum class Op { kOpen, kClose, kFinish, kReset, kWriteAtWp, kWriteOffWp, kAppend, kRead };
// Where the write pointer ends, relative to the zone start.
enum class Wp { kSame, kZero, kPlusBlock, kCap, kLen, kInvalid, kConvEnd };

struct Expect {
  int err;  // 0 = success
  ZC cond;
  Wp wp;
};

const char* Name(Start s) {
  static const char* n[] = {"EMPTY", "IMP_OPEN", "EXP_OPEN@start", "EXP_OPEN", "CLOSED",
                            "FULL(written)", "FULL(finished)", "READONLY", "OFFLINE", "CONV"};
  return n[static_cast<int>(s)];
}
const char* Name(Op o) {
  static const char* n[] = {"open", "close", "finish", "reset", "write@wp", "write!wp", "append", "read"};
  return n[static_cast<int>(o)];
}

// Cells every family agrees on, then per-family overrides.
using Table = std::map<std::pair<Start, Op>, Expect>;

Table Common() {
  Table t;
  auto set = [&](Start s, std::initializer_list<std::pair<Op, Expect>> row) {
    for (auto& [op, e] : row) t[{s, op}] = e;
  };
  set(Start::kEmpty, {{Op::kOpen, {0, ZC::kExplicitOpen, Wp::kSame}},
                      {Op::kFinish, {0, ZC::kFull, Wp::kLen}},
                      {Op::kReset, {0, ZC::kEmpty, Wp::kZero}},
                      {Op::kWriteAtWp, {0, ZC::kImplicitOpen, Wp::kPlusBlock}},
                      {Op::kWriteOffWp, {EIO, ZC::kEmpty, Wp::kSame}},
                      {Op::kAppend, {0, ZC::kImplicitOpen, Wp::kPlusBlock}},
                      {Op::kRead, {0, ZC::kEmpty, Wp::kSame}}});
  set(Start::kImpOpen, {{Op::kOpen, {0, ZC::kExplicitOpen, Wp::kSame}},
                        {Op::kClose, {0, ZC::kClosed, Wp::kSame}},
                        {Op::kFinish, {0, ZC::kFull, Wp::kLen}},
                        {Op::kReset, {0, ZC::kEmpty, Wp::kZero}},
                        {Op::kWriteAtWp, {0, ZC::kImplicitOpen, Wp::kPlusBlock}},
                        {Op::kWriteOffWp, {EIO, ZC::kImplicitOpen, Wp::kSame}},
                        {Op::kAppend, {0, ZC::kImplicitOpen, Wp::kPlusBlock}},
                        {Op::kRead, {0, ZC::kImplicitOpen, Wp::kSame}}});
  set(Start::kExpOpenAtStart, {{Op::kOpen, {0, ZC::kExplicitOpen, Wp::kSame}},
                               {Op::kFinish, {0, ZC::kFull, Wp::kLen}},
                               {Op::kReset, {0, ZC::kEmpty, Wp::kZero}},
                               {Op::kWriteAtWp, {0, ZC::kExplicitOpen, Wp::kPlusBlock}},
                               {Op::kWriteOffWp, {EIO, ZC::kExplicitOpen, Wp::kSame}},
                               {Op::kAppend, {0, ZC::kExplicitOpen, Wp::kPlusBlock}},
                               {Op::kRead, {0, ZC::kExplicitOpen, Wp::kSame}}});
  set(Start::kExpOpen, {{Op::kOpen, {0, ZC::kExplicitOpen, Wp::kSame}},
                        {Op::kClose, {0, ZC::kClosed, Wp::kSame}},
                        {Op::kFinish, {0, ZC::kFull, Wp::kLen}},
                        {Op::kReset, {0, ZC::kEmpty, Wp::kZero}},
                        {Op::kWriteAtWp, {0, ZC::kExplicitOpen, Wp::kPlusBlock}},
                        {Op::kWriteOffWp, {EIO, ZC::kExplicitOpen, Wp::kSame}},
                        {Op::kAppend, {0, ZC::kExplicitOpen, Wp::kPlusBlock}},
                        {Op::kRead, {0, ZC::kExplicitOpen, Wp::kSame}}});
  set(Start::kClosed, {{Op::kOpen, {0, ZC::kExplicitOpen, Wp::kSame}},
                       {Op::kClose, {0, ZC::kClosed, Wp::kSame}},
                       {Op::kFinish, {0, ZC::kFull, Wp::kLen}},
                       {Op::kReset, {0, ZC::kEmpty, Wp::kZero}},
                       {Op::kWriteAtWp, {0, ZC::kImplicitOpen, Wp::kPlusBlock}},
                       {Op::kWriteOffWp, {EIO, ZC::kClosed, Wp::kSame}},
                       {Op::kAppend, {0, ZC::kImplicitOpen, Wp::kPlusBlock}},
                       {Op::kRead, {0, ZC::kClosed, Wp::kSame}}});
  for (Start full : {Start::kFullWritten, Start::kFullFinished}) {
    set(full, {{Op::kFinish, {0, ZC::kFull, Wp::kSame}},
               {Op::kReset, {0, ZC::kEmpty, Wp::kZero}},
               {Op::kWriteAtWp, {EIO, ZC::kFull, Wp::kSame}},
               {Op::kWriteOffWp, {EIO, ZC::kFull, Wp::kSame}},
               {Op::kAppend, {EIO, ZC::kFull, Wp::kSame}},
               {Op::kRead, {0, ZC::kFull, Wp::kSame}}});
  }
  for (Op op : {Op::kOpen, Op::kClose, Op::kFinish, Op::kReset, Op::kWriteAtWp, Op::kWriteOffWp,
                Op::kAppend}) {
    t[{Start::kReadOnly, op}] = {EIO, ZC::kReadOnly, Wp::kInvalid};
    t[{Start::kOffline, op}] = {EIO, ZC::kOffline, Wp::kInvalid};
  }
  t[{Start::kReadOnly, Op::kRead}] = {0, ZC::kReadOnly, Wp::kInvalid};
  t[{Start::kOffline, Op::kRead}] = {EIO, ZC::kOffline, Wp::kInvalid};
  // The Backend refuses these before the device, as QEMU's block layer does: management of a
  // conventional zone with EIO, an append to one with EINVAL (qemu-io 10 on null_blk and
  // scsi_debug, ci/vm/errno-cells.sh).
  for (Op op : {Op::kOpen, Op::kClose, Op::kFinish, Op::kReset})
    t[{Start::kConventional, op}] = {EIO, ZC::kNotWritePointer, Wp::kConvEnd};
  t[{Start::kConventional, Op::kAppend}] = {EINVAL, ZC::kNotWritePointer, Wp::kConvEnd};
  for (Op op : {Op::kWriteAtWp, Op::kWriteOffWp, Op::kRead})
    t[{Start::kConventional, op}] = {0, ZC::kNotWritePointer, Wp::kConvEnd};
  return t;
}

Table ForProfile(const std::string& profile) {
  Table t = Common();
  if (profile == "null_blk") {
    t[{Start::kEmpty, Op::kClose}] = {EIO, ZC::kEmpty, Wp::kSame};
    t[{Start::kExpOpenAtStart, Op::kClose}] = {0, ZC::kEmpty, Wp::kSame};
    for (Start s : {Start::kFullWritten, Start::kFullFinished}) {
      t[{s, Op::kOpen}] = {EIO, ZC::kFull, Wp::kSame};
      t[{s, Op::kClose}] = {EIO, ZC::kFull, Wp::kSame};
    }
  } else if (profile == "zns") {
    t[{Start::kEmpty, Op::kClose}] = {EIO, ZC::kEmpty, Wp::kSame};
    t[{Start::kExpOpenAtStart, Op::kClose}] = {0, ZC::kClosed, Wp::kSame};
    for (Start s : {Start::kFullWritten, Start::kFullFinished}) {
      t[{s, Op::kOpen}] = {EIO, ZC::kFull, Wp::kSame};
      t[{s, Op::kClose}] = {EIO, ZC::kFull, Wp::kSame};
    }
  } else {  // zbc
    // Measured through Linux 6.12 sd on scsi_debug (ci/vm/errno-cells.sh): a conventional
    // zone reports no write pointer. A write the device refuses is EREMOTEIO (its check
    // condition); one Linux's zone write plug refuses first is EIO: the plug holds the write
    // pointer of a zone written since it was EMPTY or FULL (IMP_OPEN, EXP_OPEN, CLOSED here),
    // while an EMPTY, untouched EXP_OPEN or FULL zone's write reaches the device.
    for (auto& [cell, e] : t)
      if (cell.first == Start::kConventional) e.wp = Wp::kInvalid;
    t[{Start::kEmpty, Op::kWriteOffWp}].err = EREMOTEIO;
    t[{Start::kExpOpenAtStart, Op::kWriteOffWp}].err = EREMOTEIO;
    for (Start s : {Start::kFullWritten, Start::kFullFinished}) {
      t[{s, Op::kWriteAtWp}].err = EREMOTEIO;   // at the zone start, below capacity
      t[{s, Op::kWriteOffWp}].err = EREMOTEIO;  // one block in, below capacity
    }
    t[{Start::kEmpty, Op::kClose}] = {0, ZC::kEmpty, Wp::kSame};
    t[{Start::kExpOpenAtStart, Op::kClose}] = {0, ZC::kEmpty, Wp::kSame};
    for (Start s : {Start::kFullWritten, Start::kFullFinished}) {
      t[{s, Op::kOpen}] = {0, ZC::kFull, Wp::kSame};
      t[{s, Op::kClose}] = {0, ZC::kFull, Wp::kSame};
    }
  }
  return t;
}

// Where each family puts a FULL zone's write pointer (relative), by how it became full.
uint64_t FullWp(const std::string& profile, Start s) {
  if (profile == "null_blk" && s == Start::kFullWritten) return kCap;
  return kZone;
}

class Transitions : public ::testing::TestWithParam<std::string> {
 protected:
  // Zone 0 conventional, 1..9 sequential; zone 8 read-only, zone 9 offline.
  void SetUp() override {
    auto b = Backend::Open("driver=emulated,size=10M,zone-size=1M,zone-capacity=768K,"
                           "conventional-zones=1,read-only-zones=8,offline-zones=9,profile=" +
                           GetParam());
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    dev_ = std::move(*b);
    buf_.assign(kCap, 0x5a);
  }

  uint64_t ZoneFor(Start s) {
    switch (s) {
      case Start::kConventional: return 0;
      case Start::kReadOnly: return 8;
      case Start::kOffline: return 9;
      default: return 2;
    }
  }

  void Prepare(Start s, uint64_t z) {
    const uint64_t at = z * kZone;
    auto ok = [](Status st) { ASSERT_TRUE(st.ok()) << st.ToString(); };
    switch (s) {
      case Start::kImpOpen: ok(dev_->Write(at, buf_.data(), 2 * kBlk)); break;
      case Start::kExpOpenAtStart: ok(dev_->ZoneMgmt(ZoneOp::kOpen, at, kZone)); break;
      case Start::kExpOpen:
        ok(dev_->ZoneMgmt(ZoneOp::kOpen, at, kZone));
        ok(dev_->Write(at, buf_.data(), 2 * kBlk));
        break;
      case Start::kClosed:
        ok(dev_->Write(at, buf_.data(), 2 * kBlk));
        ok(dev_->ZoneMgmt(ZoneOp::kClose, at, kZone));
        break;
      case Start::kFullWritten: ok(dev_->Write(at, buf_.data(), kCap)); break;
      case Start::kFullFinished: ok(dev_->ZoneMgmt(ZoneOp::kFinish, at, kZone)); break;
      default: break;
    }
  }

  Status Apply(Op op, uint64_t z, uint64_t wp_rel) {
    const uint64_t at = z * kZone;
    std::vector<uint8_t> rd(kBlk);
    switch (op) {
      case Op::kOpen: return dev_->ZoneMgmt(ZoneOp::kOpen, at, kZone);
      case Op::kClose: return dev_->ZoneMgmt(ZoneOp::kClose, at, kZone);
      case Op::kFinish: return dev_->ZoneMgmt(ZoneOp::kFinish, at, kZone);
      case Op::kReset: return dev_->ZoneMgmt(ZoneOp::kReset, at, kZone);
      case Op::kWriteAtWp:
        return dev_->Write(at + (wp_rel < kCap ? wp_rel : 0), buf_.data(), kBlk);
      case Op::kWriteOffWp:
        return dev_->Write(at + (wp_rel + kBlk < kCap ? wp_rel + kBlk : 0) + kBlk, buf_.data(), kBlk);
      case Op::kAppend: return dev_->ZoneAppend(at, buf_.data(), kBlk).status();
      case Op::kRead: return dev_->Read(at, rd.data(), rd.size());
    }
    return Status::Ok();
  }

  std::unique_ptr<Backend> dev_;
  std::vector<uint8_t> buf_;
};

TEST_P(Transitions, EveryConditionTimesEveryOperation) {
  const std::string profile = GetParam();
  const Table table = ForProfile(profile);
  for (const auto& [cell, expect] : table) {
    auto [start, op] = cell;
    SetUp();
    const uint64_t z = ZoneFor(start);
    Prepare(start, z);
    const Zone before = (*dev_->ReportZones(z * kZone, 1))[0];
    const uint64_t wp_before =
        before.write_pointer == kInvalidWritePointer ? 0 : before.write_pointer - before.start;
    Status st = Apply(op, z, wp_before);
    const Zone after = (*dev_->ReportZones(z * kZone, 1))[0];
    SCOPED_TRACE(std::string(profile) + ": " + Name(start) + " x " + Name(op) + " -> " +
                 st.ToString());
    EXPECT_EQ(st.code(), expect.err);
    EXPECT_EQ(after.condition, expect.cond)
        << "got " << ToString(after.condition) << ", want " << ToString(expect.cond);
    uint64_t want = 0;
    switch (expect.wp) {
      case Wp::kSame: want = before.write_pointer; break;
      case Wp::kZero: want = after.start; break;
      case Wp::kPlusBlock: want = before.write_pointer + kBlk; break;
      case Wp::kCap: want = after.start + kCap; break;
      case Wp::kLen: want = after.start + kZone; break;
      case Wp::kInvalid: want = kInvalidWritePointer; break;
      case Wp::kConvEnd: want = after.start + after.length; break;
    }
    if (expect.cond == ZC::kFull && expect.wp != Wp::kSame)
      want = after.start + FullWp(profile, Start::kFullFinished);
    EXPECT_EQ(after.write_pointer, want);
    // Other zones never change.
    EXPECT_EQ((*dev_->ReportZones(3 * kZone, 1))[0].condition, ZC::kEmpty);
  }
}

TEST_P(Transitions, FullZonesReportTheFamilysWritePointer) {
  const std::string profile = GetParam();
  ASSERT_TRUE(dev_->Write(2 * kZone, buf_.data(), kCap).ok());
  ASSERT_TRUE(dev_->ZoneMgmt(ZoneOp::kFinish, 3 * kZone, kZone).ok());
  auto z = *dev_->ReportZones(2 * kZone, 2);
  EXPECT_EQ(z[0].write_pointer - z[0].start, FullWp(profile, Start::kFullWritten));
  EXPECT_EQ(z[1].write_pointer - z[1].start, FullWp(profile, Start::kFullFinished));
}

INSTANTIATE_TEST_SUITE_P(Profiles, Transitions, ::testing::Values("null_blk", "zns", "zbc"),
                         [](const auto& info) { return std::string(info.param); });

// ---- resources: open/active limits and which zone is closed to make room ----

struct ResourceCase {
  std::string profile;
};

class Resources : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Backend> Open(const std::string& limits) {
    auto b = Backend::Open("driver=emulated,size=16M,zone-size=1M,profile=" + GetParam() + limits);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return std::move(*b);
  }
  static Status W(Backend& b, uint64_t z) {
    static const std::vector<uint8_t> buf(kBlk, 1);
    auto zone = (*b.ReportZones(z * kZone, 1))[0];
    return b.Write(zone.write_pointer, buf.data(), buf.size());
  }
  static ZC Cond(Backend& b, uint64_t z) { return (*b.ReportZones(z * kZone, 1))[0].condition; }
};

TEST_P(Resources, ImplicitOpenClosesTheFamilysChoice) {
  auto b = Open(",max-open-zones=3");
  for (uint64_t z : {5, 2, 7}) ASSERT_TRUE(W(*b, z).ok());
  ASSERT_TRUE(W(*b, 9).ok());
  // null_blk: round-robin from zone 0 -> 2; ZNS: oldest -> 5; ZBC: lowest -> 2.
  const uint64_t victim = GetParam() == "zns" ? 5 : 2;
  EXPECT_EQ(Cond(*b, victim), ZC::kClosed);
  for (uint64_t z : {2, 5, 7, 9})
    if (z != victim) {
      EXPECT_EQ(Cond(*b, z), ZC::kImplicitOpen) << z;
    }
  // Next eviction: null_blk continues after 2 -> 5; ZNS next oldest -> 2; ZBC lowest -> 5.
  ASSERT_TRUE(W(*b, 11).ok());
  const uint64_t second = GetParam() == "zns" ? 2 : 5;
  EXPECT_EQ(Cond(*b, second), ZC::kClosed);
}

TEST_P(Resources, ExplicitlyOpenZonesExhaustOpenResources) {
  auto b = Open(",max-open-zones=2");
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 1 * kZone, kZone).ok());
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 2 * kZone, kZone).ok());
  EXPECT_EQ(W(*b, 3).code(), ETOOMANYREFS);
  EXPECT_EQ(Cond(*b, 3), ZC::kEmpty);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kOpen, 3 * kZone, kZone).code(), ETOOMANYREFS);
  // A full zone frees its slot.
  std::vector<uint8_t> big(kZone, 2);
  ASSERT_TRUE(b->Write(1 * kZone, big.data(), big.size()).ok());
  EXPECT_EQ(Cond(*b, 1), ZC::kFull);
  EXPECT_TRUE(W(*b, 3).ok());
}

TEST_P(Resources, ActiveLimit) {
  if (GetParam() == "zbc") GTEST_SKIP() << "ZBC has no active zone limit";
  auto b = Open(",max-open-zones=2,max-active-zones=3");
  ASSERT_TRUE(W(*b, 1).ok());
  ASSERT_TRUE(W(*b, 2).ok());
  ASSERT_TRUE(W(*b, 3).ok());  // closes one implicitly-open zone: 3 active
  EXPECT_EQ(W(*b, 4).code(), EOVERFLOW);
  EXPECT_EQ(Cond(*b, 4), ZC::kEmpty);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kOpen, 4 * kZone, kZone).code(), EOVERFLOW);
  // Re-opening the closed zone: null_blk refuses (no active room to close another);
  // ZNS closes the oldest implicitly-open zone and proceeds.
  const uint64_t closed = Cond(*b, 1) == ZC::kClosed ? 1 : 2;
  Status st = W(*b, closed);
  if (GetParam() == "null_blk") {
    EXPECT_EQ(st.code(), ETOOMANYREFS) << st.ToString();
  } else {
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  // finish of an EMPTY zone with every active slot used.
  st = b->ZoneMgmt(ZoneOp::kFinish, 6 * kZone, kZone);
  if (GetParam() == "null_blk") {
    EXPECT_EQ(st.code(), EOVERFLOW) << st.ToString();
  } else {
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  // Reset frees an active slot.
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kReset, 1 * kZone, kZone).ok());
  EXPECT_TRUE(W(*b, 4).ok());
}

TEST_P(Resources, ZbcImplicitOpensOnlyFailWhenExplicitOpensFillTheLimit) {
  auto b = Open(",max-open-zones=2");
  ASSERT_TRUE(W(*b, 1).ok());
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 2 * kZone, kZone).ok());
  // One implicit + one explicit: a new explicit open closes the implicit one everywhere.
  EXPECT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 3 * kZone, kZone).ok());
  EXPECT_EQ(Cond(*b, 1), ZC::kClosed);
  EXPECT_EQ(W(*b, 4).code(), ETOOMANYREFS);
}

INSTANTIATE_TEST_SUITE_P(Profiles, Resources, ::testing::Values("null_blk", "zns", "zbc"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace zbl
