#include "device_checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "emulated.h"

namespace zbl::fuzz {
namespace {

using ZC = ZoneCondition;
constexpr const char* kProfiles[] = {"null_blk", "zns", "zbc"};

bool Sequential(const Zone& z) { return z.type != ZoneType::kConventional; }
bool Dead(const Zone& z) {
  return z.condition == ZC::kReadOnly || z.condition == ZC::kOffline;
}

}  // namespace

std::unique_ptr<DeviceChecker> DeviceChecker::Create(ByteReader& in) {
  const uint8_t b0 = in.U8(), b1 = in.U8(), b2 = in.U8(), b3 = in.U8(), b4 = in.U8();
  const std::string profile = kProfiles[b0 % 3];
  const bool ha = (b0 & 0x80) != 0;
  const uint64_t bs = (b1 & 1) ? 512 : 4096;
  const uint64_t conv = (b1 >> 1) % 3;
  const bool runt = (b1 >> 3) & 1;
  const uint64_t nr_seq = 2 + ((b1 >> 4) & 7);
  uint64_t max_open = b2 & 7, max_active = (b2 >> 3) & 7;
  if (profile == "zbc") max_active = 0;
  if (max_active && max_active < max_open) max_active = max_open;
  const uint64_t zone_blocks = 3 + (b3 & 7);
  const uint64_t cap_blocks = std::max<uint64_t>(1, zone_blocks - ((b3 >> 3) & 3));
  const uint64_t append_blocks = std::min<uint64_t>(1 + (b3 >> 5), zone_blocks);
  const uint64_t zone = zone_blocks * bs;
  const uint64_t nr = conv + nr_seq + (runt ? 1 : 0);
  const uint64_t size = zone * (conv + nr_seq) + (runt ? 2 * bs : 0);
  std::string opts = fmt::format(
      "driver=emulated,profile={},model={},size={},zone-size={},zone-capacity={},"
      "conventional-zones={},max-open-zones={},max-active-zones={},max-append-bytes={},"
      "block-size={}",
      profile, ha ? "ha" : "hm", size, zone, cap_blocks * bs, conv, max_open, max_active,
      append_blocks * bs, bs);
  // Fault injection: a read-only and/or an offline sequential zone.
  if (b4 & 1) opts += fmt::format(",read-only-zones={}", nr - 1);
  if (b4 & 2) opts += fmt::format(",offline-zones={}", conv + 1);
  auto b = Backend::Open(opts);
  if (!b.ok()) {
    // Every configuration above is valid; a refusal is a bug in the harness or the device.
    std::fprintf(stderr, "device refused '%s': %s\n", opts.c_str(), b.status().ToString().c_str());
    std::abort();
  }
  return std::unique_ptr<DeviceChecker>(new DeviceChecker(std::move(*b), std::move(opts)));
}

namespace {
struct Buffers {
  std::vector<uint8_t> shadow, buf, read;
};
thread_local Buffers buffers;
}  // namespace

DeviceChecker::DeviceChecker(std::unique_ptr<Backend> b, std::string opts)
    : b_(std::move(b)),
      option_string_(std::move(opts)),
      lim_(b_->limits()),
      shadow_(buffers.shadow),
      buf_(buffers.buf),
      read_(buffers.read) {
  shadow_.assign(lim_.size, 0);
  auto* node = dynamic_cast<emulated::EngineNode*>(&b_->root());
  evicts_before_check_ = node && !node->engine().profile().active_check_first;
  if (node) {
    const auto& prof = node->engine().profile();
    fill_ = prof.read_unwritten == emulated::ReadUnwritten::kOnes && node->engine().config().store_data
                ? 0xff
                : 0;
    read_across_cap_err_ = prof.err_read_across_capacity;
  }
  trace_ = std::getenv("ZBL_FUZZ_TRACE") != nullptr;
}

void DeviceChecker::Fail(const std::string& what) const {
  std::fprintf(stderr, "INVARIANT BROKEN after step %u on '%s': %s\n", steps_,
               option_string_.c_str(), what.c_str());
  std::abort();
}

uint64_t DeviceChecker::DecodeOffset(ByteReader& in, bool zone_start) const {
  const uint8_t mode = in.U8();
  const uint64_t zi = in.U8() % (lim_.nr_zones + 1);  // nr_zones: just past the end
  if (zone_start || mode % 4 == 1) return zi * lim_.zone_size;
  switch (mode % 4) {
    case 0: {  // at the write pointer: the requests that get past the first checks
      if (zi >= lim_.nr_zones) return lim_.size;
      auto z = b_->ReportZones(zi * lim_.zone_size, 1);
      if (!z.ok() || z->empty() || !Sequential((*z)[0]) || Dead((*z)[0])) return zi * lim_.zone_size;
      return (*z)[0].write_pointer;
    }
    case 2: return (in.U16() % (lim_.size / lim_.logical_block_size)) * lim_.logical_block_size;
    default: return (uint64_t{in.U16()} * 64) % (lim_.size + lim_.zone_size);  // may be misaligned
  }
}

uint64_t DeviceChecker::DecodeLength(ByteReader& in) const {
  const uint8_t l = in.U8();
  if (l & 0x80) return static_cast<uint64_t>(l & 0x7f) * 256;  // may be misaligned or zero
  const uint64_t zone_blocks = lim_.zone_size / lim_.logical_block_size;
  return (l % (2 * zone_blocks + 1)) * lim_.logical_block_size;
}

DeviceChecker::Request DeviceChecker::Decode(ByteReader& in) const {
  Request r;
  const uint8_t op = in.U8();
  switch (op % 16) {
    case 0: case 1: r.kind = Kind::kRead; break;
    case 2: case 3: case 4: case 5: r.kind = Kind::kWrite; break;
    case 6: case 7: case 8: r.kind = Kind::kAppend; break;
    case 9: r.kind = Kind::kReport; break;
    case 10: case 11: case 12: case 13: r.kind = Kind::kZoneOp; break;
    case 14: r.kind = Kind::kResetAll; break;
    default: r.kind = Kind::kFlush; break;
  }
  switch (r.kind) {
    case Kind::kRead:
    case Kind::kWrite:
      r.offset = DecodeOffset(in, false);
      r.len = DecodeLength(in);
      break;
    case Kind::kAppend:
      r.offset = DecodeOffset(in, (op & 0x10) == 0);
      r.len = DecodeLength(in);
      break;
    case Kind::kReport:
      r.offset = DecodeOffset(in, false);
      r.max_zones = in.U8() % (lim_.nr_zones + 2);
      break;
    case Kind::kZoneOp: {
      r.op = static_cast<ZoneOp>(op % 4);
      r.offset = DecodeOffset(in, (op & 0x10) == 0);
      const uint8_t n = in.U8();
      r.len = n == 0xff ? lim_.size : static_cast<uint64_t>(n % 4) * lim_.zone_size;
      break;
    }
    default: break;
  }
  return r;
}

std::vector<Zone> DeviceChecker::Report() const {
  auto z = b_->ReportZones(0, 0);
  if (!z.ok()) Fail("full zone report failed: " + z.status().ToString());
  return std::move(*z);
}

void DeviceChecker::CheckReport(const std::vector<Zone>& zones) const {
  if (zones.size() != lim_.nr_zones)
    Fail(fmt::format("report has {} zones, device {}", zones.size(), lim_.nr_zones));
  uint32_t open = 0, active = 0;
  for (size_t i = 0; i < zones.size(); ++i) {
    const Zone& z = zones[i];
    const uint64_t start = i * lim_.zone_size;
    const uint64_t len = std::min(lim_.zone_size, lim_.size - start);
    if (z.start != start || z.length != len || z.capacity > len || z.capacity == 0)
      Fail(fmt::format("zone {}: geometry {:#x}+{:#x} cap {:#x}", i, z.start, z.length, z.capacity));
    if (!Sequential(z)) {
      if (z.condition != ZC::kNotWritePointer) Fail(fmt::format("conventional zone {} has a condition", i));
      continue;
    }
    if (Dead(z)) {
      if (z.write_pointer != kInvalidWritePointer) Fail(fmt::format("zone {}: dead zone with a wp", i));
      continue;
    }
    if (z.write_pointer < z.start || z.write_pointer > z.start + z.length)
      Fail(fmt::format("zone {}: write pointer {:#x} outside the zone", i, z.write_pointer));
    if (z.condition != ZC::kFull && z.write_pointer >= z.start + z.capacity)
      Fail(fmt::format("zone {}: {} with write pointer at or past capacity", i, ToString(z.condition)));
    if (z.condition == ZC::kEmpty && z.write_pointer != z.start)
      Fail(fmt::format("zone {}: EMPTY with write pointer {:#x}", i, z.write_pointer));
    if (z.condition == ZC::kFull && z.write_pointer != z.start + z.capacity &&
        z.write_pointer != z.start + z.length)
      Fail(fmt::format("zone {}: FULL with write pointer {:#x}", i, z.write_pointer));
    if (z.type == ZoneType::kSequentialWriteRequired) {
      open += IsOpen(z.condition);
      active += IsActive(z.condition);
    }
  }
  if (lim_.max_open_zones && open > lim_.max_open_zones)
    Fail(fmt::format("{} open zones, max-open {}", open, lim_.max_open_zones));
  if (lim_.max_active_zones && active > lim_.max_active_zones)
    Fail(fmt::format("{} active zones, max-active {}", active, lim_.max_active_zones));
}

// Reads [offset, offset+len) (clipped to the device, whole blocks, skipping offline zones) and
// compares it with the shadow.
void DeviceChecker::ExpectedInto(uint64_t lo, uint64_t n, const std::vector<Zone>& zones,
                                 std::vector<uint8_t>& out) const {
  out.assign(shadow_.begin() + static_cast<std::ptrdiff_t>(lo),
             shadow_.begin() + static_cast<std::ptrdiff_t>(lo + n));
  for (uint64_t at = lo; at < lo + n;) {
    const Zone& z = zones[at / lim_.zone_size];
    const uint64_t zend = std::min(lo + n, z.start + z.length);
    if (Sequential(z) && !Dead(z) && z.write_pointer < zend) {
      const uint64_t from = std::max(at, z.write_pointer);
      std::memset(out.data() + (from - lo), fill_, zend - from);
    }
    at = zend;
  }
}

void DeviceChecker::ReadAndCompare(uint64_t lo, uint64_t n, const std::vector<Zone>& zones,
                                   const char* why) {
  read_.resize(n);
  Status st = b_->Read(lo, read_.data(), n);
  if (!st.ok()) Fail(fmt::format("{}: read {:#x}+{:#x} failed: {}", why, lo, n, st.ToString()));
  ExpectedInto(lo, n, zones, expected_);
  if (std::memcmp(read_.data(), expected_.data(), n) != 0) {
    uint64_t at = 0;
    while (read_[at] == expected_[at]) ++at;
    const uint64_t zi = (lo + at) / lim_.zone_size;
    Fail(fmt::format("{}: data at {:#x} is {:#x}, expected {:#x} (zone {} {})", why, lo + at,
                     read_[at], expected_[at], zi, ToString(zones[zi].condition)));
  }
}

// Reads [offset, offset+len) (clipped to the device, whole blocks, skipping offline zones, and
// split at capacity where the family refuses reads into the gap) and compares it.
void DeviceChecker::CheckRange(uint64_t offset, uint64_t len, const char* why) {
  const uint64_t bs = lim_.logical_block_size;
  uint64_t lo = offset / bs * bs;
  uint64_t hi = std::min(lim_.size, (offset + len + bs - 1) / bs * bs);
  auto zones = Report();
  while (lo < hi) {
    const uint64_t zi = lo / lim_.zone_size;
    const Zone& z = zones[zi];
    uint64_t piece = std::min(hi, (zi + 1) * lim_.zone_size) - lo;
    const uint64_t cap_end = z.start + z.capacity;
    if (read_across_cap_err_ && Sequential(z) && lo < cap_end && lo + piece > cap_end)
      piece = cap_end - lo;
    if (z.condition != ZC::kOffline) ReadAndCompare(lo, piece, zones, why);
    lo += piece;
  }
}

void DeviceChecker::CheckWholeDevice() { CheckRange(0, lim_.size, "whole device"); }

void DeviceChecker::FillPattern(uint64_t offset, uint64_t len) {
  ++serial_;
  buf_.resize(len);
  // Every 8 bytes differ from every other write's, so a misplaced byte shows.
  for (uint64_t i = 0; i + 8 <= len; i += 8) {
    const uint64_t v = (serial_ << 40) ^ (offset + i) ^ 0x5a5a5a5a5aULL;
    std::memcpy(&buf_[i], &v, 8);
  }
  for (uint64_t i = len / 8 * 8; i < len; ++i) buf_[i] = static_cast<uint8_t>(serial_ | 1);
}

void DeviceChecker::ApplyWrite(uint64_t offset, uint64_t len) {
  std::memcpy(shadow_.data() + offset, buf_.data(), len);
}

void DeviceChecker::ApplyReset(const Zone& z) {
  std::memset(shadow_.data() + z.start, 0, z.length);
}

void DeviceChecker::CheckFailed(const Request& r, const std::vector<Zone>& before,
                                const std::vector<Zone>& after) {
  // The zones a request reaches; with more than one, each zone is a command of its own.
  uint64_t first = 0, last = 0;
  bool multi = false;
  if ((r.kind == Kind::kWrite || r.kind == Kind::kZoneOp) && r.len != 0 &&
      b_->CheckIo(r.offset, r.len, "check").ok()) {
    first = r.offset / lim_.zone_size;
    last = (r.offset + r.len - 1) / lim_.zone_size;
    multi = last > first;
  }
  bool some_done = false;
  if (multi && r.kind == Kind::kWrite) {
    auto* node = dynamic_cast<emulated::EngineNode*>(&b_->root());
    const bool split =
        node && node->engine().profile().cross_zone_write == emulated::CrossZoneWrite::kSplit;
    bool all_conv = true;
    for (uint64_t i = first; i <= last; ++i) all_conv &= !Sequential(before[i]);
    for (uint64_t i = first; i <= last && (split || all_conv); ++i) {
      const uint64_t lo = std::max(r.offset, before[i].start);
      const uint64_t hi = std::min(r.offset + r.len, before[i].start + before[i].length);
      bool done;
      if (!Sequential(before[i])) {
        done = true;
      } else if (before[i].type == ZoneType::kSequentialWriteRequired) {
        done = before[i].write_pointer != after[i].write_pointer;  // an eviction keeps the wp
      } else {  // host-aware: writes anywhere below capacity
        done = !Dead(before[i]) && hi <= before[i].start + before[i].capacity;
      }
      if (done) {
        std::memcpy(shadow_.data() + lo, buf_.data() + (lo - r.offset), hi - lo);
        some_done = true;
      }
    }
  }
  for (size_t i = 0; i < after.size(); ++i) {
    const Zone &z0 = before[i], &z1 = after[i];
    if (z0 == z1) continue;
    const bool in_range = multi && i >= first && i <= last;
    if (in_range && r.kind == Kind::kWrite) continue;  // judged by the data check below
    // A zone closed to make room for an open (that then failed, or a later zone failed).
    const bool evicted = z0.condition == ZC::kImplicitOpen && z0.write_pointer == z1.write_pointer &&
                         (z1.condition == ZC::kClosed ||
                          (z1.condition == ZC::kEmpty && z1.write_pointer == z1.start));
    if (evicted && (evicts_before_check_ || some_done || multi)) continue;
    if (in_range && r.kind == Kind::kZoneOp) {
      bool ok = false;
      switch (r.op) {
        case ZoneOp::kOpen: ok = z1.condition == ZC::kExplicitOpen; break;
        case ZoneOp::kClose: ok = z1.condition == ZC::kClosed || z1.condition == ZC::kEmpty; break;
        case ZoneOp::kFinish: ok = z1.condition == ZC::kFull; break;
        case ZoneOp::kReset: ok = z1.condition == ZC::kEmpty && z1.write_pointer == z1.start; break;
      }
      if (!ok) Fail(fmt::format("failed multi-zone {}: zone {} went {} -> {}", ToString(r.op), i,
                                ToString(z0.condition), ToString(z1.condition)));
      if (r.op == ZoneOp::kReset) ApplyReset(z1);
      some_done = true;
      continue;
    }
    Fail(fmt::format("failed request changed zone {}: {} wp {:#x} -> {} wp {:#x}", i,
                     ToString(z0.condition), z0.write_pointer, ToString(z1.condition),
                     z1.write_pointer));
  }
  if (r.kind == Kind::kWrite && b_->CheckIo(r.offset, r.len, "check").ok())
    CheckRange(r.offset, r.len, "after a failed write");
  if (r.kind == Kind::kAppend && r.offset < lim_.size)
    CheckRange(r.offset / lim_.zone_size * lim_.zone_size, lim_.zone_size, "after a failed append");
}

void DeviceChecker::Run(const Request& r) {
  const std::vector<Zone> before = Report();
  Status st;
  switch (r.kind) {
    case Kind::kRead: {
      read_.assign(r.len, 0xee);
      st = b_->Read(r.offset, read_.data(), r.len);
      if (st.ok() && r.len) {
        ExpectedInto(r.offset, r.len, before, expected_);
        if (std::memcmp(read_.data(), expected_.data(), r.len) != 0)
          Fail(fmt::format("read {:#x}+{:#x} differs from what was written", r.offset, r.len));
      }
      break;
    }
    case Kind::kWrite:
      FillPattern(r.offset, r.len);
      st = b_->Write(r.offset, buf_.data(), r.len);
      if (st.ok() && r.len) {
        ApplyWrite(r.offset, r.len);
        CheckRange(r.offset, r.len, "after a write");
      }
      break;
    case Kind::kAppend: {
      FillPattern(r.offset, r.len);
      auto at = b_->ZoneAppend(r.offset, buf_.data(), r.len);
      st = at.status();
      if (at.ok()) {
        const Zone& z = before[r.offset / lim_.zone_size];
        if (*at != z.write_pointer || *at + r.len > z.start + z.capacity)
          Fail(fmt::format("append to {:#x} wrote at {:#x}, write pointer was {:#x}", z.start, *at,
                           z.write_pointer));
        ApplyWrite(*at, r.len);
        CheckRange(*at, r.len, "after an append");
      }
      break;
    }
    case Kind::kReport: {
      auto z = b_->ReportZones(r.offset, r.max_zones);
      if (!z.ok()) Fail("report failed: " + z.status().ToString());
      const uint64_t first = r.offset / lim_.zone_size;
      uint64_t want = r.offset < lim_.size ? lim_.nr_zones - first : 0;
      if (r.max_zones && r.max_zones < want) want = r.max_zones;
      if (z->size() != want) Fail(fmt::format("report from {:#x} gave {} zones, want {}", r.offset, z->size(), want));
      for (size_t i = 0; i < z->size(); ++i)
        if (!((*z)[i] == before[first + i])) Fail("partial report differs from the full report");
      break;
    }
    case Kind::kZoneOp:
      st = b_->ZoneMgmt(r.op, r.offset, r.len);
      break;
    case Kind::kResetAll:
      st = b_->ZoneResetAll();
      if (!st.ok()) Fail("reset-all failed: " + st.ToString());
      break;
    case Kind::kFlush:
      st = b_->Flush();
      if (!st.ok()) Fail("flush failed: " + st.ToString());
      break;
  }
  const std::vector<Zone> after = Report();
  CheckReport(after);
  if (!st.ok() && MustSucceed(r, before))
    Fail(fmt::format("a request every family accepts failed: {}", st.ToString()));
  if (!st.ok()) {
    CheckFailed(r, before, after);
    return;
  }
  const bool reset_all = r.kind == Kind::kResetAll ||
                         (r.kind == Kind::kZoneOp && r.op == ZoneOp::kReset && r.offset == 0 &&
                          r.len == lim_.size);
  if (r.kind == Kind::kZoneOp || reset_all) {
    const uint64_t first = reset_all ? 0 : r.offset / lim_.zone_size;
    const uint64_t last = reset_all ? lim_.nr_zones - 1 : (r.offset + r.len - 1) / lim_.zone_size;
    for (uint64_t i = first; i <= last; ++i) {
      const Zone& z = after[i];
      if (!Sequential(z) || Dead(z)) continue;
      if (r.kind == Kind::kResetAll || r.op == ZoneOp::kReset) {
        if (z.condition != ZC::kEmpty) Fail(fmt::format("zone {} not EMPTY after a reset", i));
        ApplyReset(z);
        CheckRange(z.start, z.length, "after a reset");
      } else if (r.op == ZoneOp::kFinish && z.condition != ZC::kFull) {
        Fail(fmt::format("zone {} is {} after a finish", i, ToString(z.condition)));
      }
    }
  }
}

// A write at the write pointer of an open zone (or an append to it) that fits below capacity
// needs no resource and breaks no rule: no family may refuse it.
bool DeviceChecker::MustSucceed(const Request& r, const std::vector<Zone>& before) const {
  if (r.kind != Kind::kWrite && r.kind != Kind::kAppend) return false;
  if (r.len == 0 || r.offset >= lim_.size) return false;
  if (r.kind == Kind::kWrite && !b_->CheckIo(r.offset, r.len, "check").ok()) return false;
  if (r.kind == Kind::kAppend && !b_->CheckAppend(r.offset, r.len).ok()) return false;
  const Zone& z = before[r.offset / lim_.zone_size];
  if (z.type != ZoneType::kSequentialWriteRequired || !IsOpen(z.condition)) return false;
  if (r.kind == Kind::kWrite && r.offset != z.write_pointer) return false;
  return z.write_pointer + r.len <= z.start + z.capacity;
}

void DeviceChecker::Step(ByteReader& in) {
  ++steps_;
  const Request r = Decode(in);
  if (trace_)
    std::fprintf(stderr, "step %u: kind %d op %s offset %#llx len %#llx\n", steps_,
                 static_cast<int>(r.kind), std::string(ToString(r.op)).c_str(),
                 static_cast<unsigned long long>(r.offset), static_cast<unsigned long long>(r.len));
  Run(r);
  if (steps_ % 128 == 0) CheckWholeDevice();
}

}  // namespace zbl::fuzz
