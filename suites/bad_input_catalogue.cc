#include "bad_input_catalogue.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace zbl::bad_input {
namespace {

using R = std::optional<Request>;
using K = Request::Kind;

constexpr uint64_t kMaxBuffer = uint64_t{256} << 20;

bool Zoned(const Target& t) { return t.limits.zoned(); }
bool Hm(const Target& t) { return t.limits.model == ZoneModel::kHostManaged && t.has_sequential; }
uint64_t Ra(const Target& t) { return t.limits.request_alignment; }
uint64_t Wb(const Target& t) {
  return std::max<uint64_t>(t.limits.logical_block_size, t.limits.write_granularity);
}
uint64_t Zs(const Target& t) { return t.limits.zone_size; }
uint64_t Start(const Target& t, uint32_t z) { return uint64_t{z} * Zs(t); }
// Where invalid writes aim: the prepared open zone's write pointer, so that a request that
// slips through validation would change the device and be caught.
uint64_t Base(const Target& t) { return t.has_sequential ? Start(t, t.open_zone) + 2 * Wb(t) : 0; }
uint64_t EndOfZones(const Target& t) { return uint64_t{t.limits.nr_zones} * Zs(t); }
// A block-aligned offset whose range overflows 64 bits.
uint64_t Huge(const Target& t) { return ~uint64_t{0} / Ra(t) * Ra(t); }

R Io(K k, uint64_t off, uint64_t len) { return Request{k, off, len, ZoneOp::kOpen}; }

// ---- io_alignment / io_range, for reads and writes ----
template <K k> R OffsetOneByte(const Target& t) { return Io(k, Base(t) + 1, Ra(t)); }
template <K k> R OffsetHalfBlock(const Target& t) {
  if (Ra(t) < 1024) return std::nullopt;  // 512-byte blocks: same as the next case class
  return Io(k, Base(t) + Ra(t) / 2, Ra(t));
}
template <K k> R LengthOneByte(const Target& t) { return Io(k, Base(t), 1); }
template <K k> R LengthBlockPlusOne(const Target& t) { return Io(k, Base(t), Ra(t) + 1); }
template <K k> R AtEnd(const Target& t) { return Io(k, t.limits.size, Ra(t)); }
template <K k> R StraddlesEnd(const Target& t) { return Io(k, t.limits.size - Ra(t), 2 * Ra(t)); }
template <K k> R OffsetHuge(const Target& t) { return Io(k, Huge(t), Ra(t)); }
template <K k> R LengthExceedsDevice(const Target& t) {
  if (t.limits.size + Ra(t) > kMaxBuffer) return std::nullopt;
  return Io(k, 0, t.limits.size + Ra(t));
}

// ---- zone_range, for every management op ----
R Mgmt(ZoneOp op, uint64_t off, uint64_t len) { return Request{K::kZoneMgmt, off, len, op}; }
template <ZoneOp op> R MgmtNotZoneStart(const Target& t) {
  if (!t.has_sequential) return std::nullopt;
  return Mgmt(op, Start(t, t.empty_zone) + Ra(t), Zs(t));
}
template <ZoneOp op> R MgmtLengthZero(const Target& t) {
  if (!t.has_sequential) return std::nullopt;
  return Mgmt(op, Start(t, t.empty_zone), 0);
}
template <ZoneOp op> R MgmtPartialZone(const Target& t) {
  if (!t.has_sequential || Zs(t) / 2 % Ra(t) != 0) return std::nullopt;
  return Mgmt(op, Start(t, t.empty_zone), Zs(t) / 2);
}
template <ZoneOp op> R MgmtBeyondEnd(const Target& t) {
  if (!Zoned(t)) return std::nullopt;
  return Mgmt(op, Start(t, t.limits.nr_zones - 1), 2 * Zs(t));
}
template <ZoneOp op> R MgmtAtEnd(const Target& t) {
  if (!Zoned(t)) return std::nullopt;
  return Mgmt(op, EndOfZones(t), Zs(t));
}
template <ZoneOp op> R MgmtLengthOverflow(const Target& t) {
  if (!t.has_sequential) return std::nullopt;
  return Mgmt(op, Start(t, t.empty_zone), ~uint64_t{0} / Zs(t) * Zs(t));
}

// ---- append ----
R Append(uint64_t off, uint64_t len) { return Request{K::kAppend, off, len, ZoneOp::kOpen}; }
bool CanAppend(const Target& t) { return t.has_sequential && t.limits.max_append_bytes != 0; }
R AppendNotZoneStart(const Target& t) {
  if (!CanAppend(t)) return std::nullopt;
  return Append(Start(t, t.empty_zone) + Wb(t), Wb(t));
}
R AppendLengthZero(const Target& t) {
  if (!CanAppend(t)) return std::nullopt;
  return Append(Start(t, t.empty_zone), 0);
}
R AppendLengthMisaligned(const Target& t) {
  if (!CanAppend(t)) return std::nullopt;
  return Append(Start(t, t.empty_zone), Ra(t) + 1);
}
R AppendTooLarge(const Target& t) {
  if (!CanAppend(t) || t.limits.max_append_bytes + Ra(t) > kMaxBuffer) return std::nullopt;
  return Append(Start(t, t.empty_zone), t.limits.max_append_bytes + Ra(t));
}
R AppendBeyondEnd(const Target& t) {
  if (!CanAppend(t)) return std::nullopt;
  return Append(EndOfZones(t), Wb(t));
}
R AppendOffsetHuge(const Target& t) {
  if (!CanAppend(t)) return std::nullopt;
  return Append(~uint64_t{0} / Zs(t) * Zs(t), Wb(t));
}
R AppendUnsupported(const Target& t) {
  if (!t.has_sequential || t.limits.max_append_bytes != 0) return std::nullopt;
  return Append(Start(t, t.empty_zone), Wb(t));
}

// ---- not_zoned ----
template <ZoneOp op> R NotZonedMgmt(const Target& t) {
  if (Zoned(t)) return std::nullopt;
  return Mgmt(op, 0, t.limits.size);
}
R NotZonedReport(const Target& t) {
  if (Zoned(t)) return std::nullopt;
  return Request{K::kReport, 0, 1, ZoneOp::kOpen};
}
R NotZonedResetAll(const Target& t) {
  if (Zoned(t)) return std::nullopt;
  return Request{K::kResetAll, 0, 0, ZoneOp::kReset};
}
R NotZonedAppend(const Target& t) {
  if (Zoned(t)) return std::nullopt;
  return Append(0, Ra(t));
}

// ---- write_pointer: what the device itself refuses (host-managed) ----
R WriteNotAtWp(const Target& t) {
  if (!Hm(t)) return std::nullopt;
  return Io(K::kWrite, Start(t, t.open_zone) + 3 * Wb(t), Wb(t));
}
R WriteBeforeWp(const Target& t) {
  if (!Hm(t)) return std::nullopt;
  return Io(K::kWrite, Start(t, t.open_zone), Wb(t));
}
R WriteEmptyZoneMiddle(const Target& t) {
  if (!Hm(t)) return std::nullopt;
  // Below the capacity: a write into the gap is a different cell (profile.h).
  return Io(K::kWrite, Start(t, t.empty_zone) + t.capacity / 2 / Wb(t) * Wb(t), Wb(t));
}
R WriteToFullZone(const Target& t) {
  if (!Hm(t)) return std::nullopt;
  return Io(K::kWrite, Start(t, t.full_zone), Wb(t));
}
R WriteBeyondCapacity(const Target& t) {
  if (!Hm(t) || t.capacity >= Zs(t) || t.capacity > kMaxBuffer) return std::nullopt;
  return Io(K::kWrite, Start(t, t.open_zone) + 2 * Wb(t), t.capacity - Wb(t));
}
R AppendToFullZone(const Target& t) {
  if (!Hm(t) || t.limits.max_append_bytes == 0) return std::nullopt;
  return Append(Start(t, t.full_zone), Wb(t));
}
R AppendBeyondCapacity(const Target& t) {
  if (!Hm(t)) return std::nullopt;
  uint64_t len = t.capacity - Wb(t);  // two blocks are written: one block too many
  if (len > t.limits.max_append_bytes || len > kMaxBuffer) return std::nullopt;
  return Append(Start(t, t.open_zone), len);
}

// ---- conventional ----
template <ZoneOp op> R ConventionalMgmt(const Target& t) {
  if (!t.has_conventional) return std::nullopt;
  return Mgmt(op, Start(t, t.conventional_zone), Zs(t));
}
R ConventionalAppend(const Target& t) {
  if (!t.has_conventional || t.limits.max_append_bytes == 0) return std::nullopt;
  return Append(Start(t, t.conventional_zone), Wb(t));
}

// ---- fault_zone ----
R WriteReadOnly(const Target& t) {
  if (!t.read_only_zone) return std::nullopt;
  return Io(K::kWrite, Start(t, *t.read_only_zone), Wb(t));
}
R ResetReadOnly(const Target& t) {
  if (!t.read_only_zone) return std::nullopt;
  return Mgmt(ZoneOp::kReset, Start(t, *t.read_only_zone), Zs(t));
}
R WriteOffline(const Target& t) {
  if (!t.offline_zone) return std::nullopt;
  return Io(K::kWrite, Start(t, *t.offline_zone), Wb(t));
}
R ReadOffline(const Target& t) {
  if (!t.offline_zone) return std::nullopt;
  return Io(K::kRead, Start(t, *t.offline_zone), Wb(t));
}
R FinishOffline(const Target& t) {
  if (!t.offline_zone) return std::nullopt;
  return Mgmt(ZoneOp::kFinish, Start(t, *t.offline_zone), Zs(t));
}

R QueueDepthZero(const Target&) { return Request{K::kQueue, 0, 0, ZoneOp::kOpen}; }

constexpr std::string_view kNotAligned = "is not aligned";
constexpr std::string_view kNotMultiple = "is not a multiple";
constexpr std::string_view kBeyond = "beyond the end";
constexpr std::string_view kNotStart = "is not a zone start";
constexpr std::string_view kZeroLen = "length is 0";
constexpr std::string_view kNonZoned = "non-zoned";

#define ZBL_IO_CASES(kind, k)                                                                   \
  {kind "_offset_one_byte", "io_alignment", OffsetOneByte<k>, EINVAL, kNotAligned},             \
      {kind "_offset_half_block", "io_alignment", OffsetHalfBlock<k>, EINVAL, kNotAligned},     \
      {kind "_length_one_byte", "io_alignment", LengthOneByte<k>, EINVAL, kNotMultiple},        \
      {kind "_length_block_plus_one", "io_alignment", LengthBlockPlusOne<k>, EINVAL,            \
       kNotMultiple},                                                                           \
      {kind "_at_end", "io_range", AtEnd<k>, EINVAL, kBeyond},                                  \
      {kind "_straddles_end", "io_range", StraddlesEnd<k>, EINVAL, kBeyond},                    \
      {kind "_offset_overflows", "io_range", OffsetHuge<k>, EINVAL, kBeyond},                   \
      {kind "_length_exceeds_device", "io_range", LengthExceedsDevice<k>, EINVAL, kBeyond}

#define ZBL_MGMT_CASES(name, op)                                                                \
  {name "_not_zone_start", "zone_range", MgmtNotZoneStart<op>, EINVAL, kNotStart},              \
      {name "_length_zero", "zone_range", MgmtLengthZero<op>, EINVAL, kZeroLen},                \
      {name "_partial_zone", "zone_range", MgmtPartialZone<op>, EINVAL, "not a multiple of the zone size"}, \
      {name "_beyond_end", "zone_range", MgmtBeyondEnd<op>, EINVAL, kBeyond},                   \
      {name "_at_end", "zone_range", MgmtAtEnd<op>, EINVAL, kBeyond},                           \
      {name "_length_overflows", "zone_range", MgmtLengthOverflow<op>, EINVAL, kBeyond}

const Case kCases[] = {
    ZBL_IO_CASES("read", K::kRead),
    ZBL_IO_CASES("write", K::kWrite),
    ZBL_MGMT_CASES("open", ZoneOp::kOpen),
    ZBL_MGMT_CASES("close", ZoneOp::kClose),
    ZBL_MGMT_CASES("finish", ZoneOp::kFinish),
    ZBL_MGMT_CASES("reset", ZoneOp::kReset),
    {"append_not_zone_start", "append", AppendNotZoneStart, EINVAL, kNotStart},
    {"append_length_zero", "append", AppendLengthZero, EINVAL, kZeroLen},
    {"append_length_misaligned", "append", AppendLengthMisaligned, EINVAL, kNotMultiple},
    {"append_too_large", "append", AppendTooLarge, EINVAL, "exceeds the device's maximum"},
    {"append_beyond_end", "append", AppendBeyondEnd, EINVAL, kBeyond},
    {"append_offset_overflows", "append", AppendOffsetHuge, EINVAL, kBeyond},
    {"append_unsupported", "append", AppendUnsupported, ENOTSUP, "does not support zone append"},
    {"report_not_zoned", "not_zoned", NotZonedReport, ENOTSUP, kNonZoned},
    {"open_not_zoned", "not_zoned", NotZonedMgmt<ZoneOp::kOpen>, ENOTSUP, kNonZoned},
    {"close_not_zoned", "not_zoned", NotZonedMgmt<ZoneOp::kClose>, ENOTSUP, kNonZoned},
    {"finish_not_zoned", "not_zoned", NotZonedMgmt<ZoneOp::kFinish>, ENOTSUP, kNonZoned},
    {"reset_not_zoned", "not_zoned", NotZonedMgmt<ZoneOp::kReset>, ENOTSUP, kNonZoned},
    {"reset_all_not_zoned", "not_zoned", NotZonedResetAll, ENOTSUP, kNonZoned},
    {"append_not_zoned", "not_zoned", NotZonedAppend, ENOTSUP, kNonZoned},
    {"write_not_at_wp", "write_pointer", WriteNotAtWp, EIO, "", 0, "write_plug_errno"},
    {"write_before_wp", "write_pointer", WriteBeforeWp, EIO, "", 0, "write_plug_errno"},
    {"write_empty_zone_middle", "write_pointer", WriteEmptyZoneMiddle, EIO, "", EREMOTEIO},
    {"write_to_full_zone", "write_pointer", WriteToFullZone, EIO, "", EREMOTEIO},
    {"write_beyond_capacity", "write_pointer", WriteBeyondCapacity, EIO, "", EREMOTEIO},
    {"append_to_full_zone", "write_pointer", AppendToFullZone, EIO, ""},
    {"append_beyond_capacity", "write_pointer", AppendBeyondCapacity, EIO, "", EREMOTEIO},
    // Refused by the Backend for every device, as QEMU's block layer (ci/vm/errno-cells.sh).
    {"open_conventional", "conventional", ConventionalMgmt<ZoneOp::kOpen>, EIO, "conventional"},
    {"close_conventional", "conventional", ConventionalMgmt<ZoneOp::kClose>, EIO, "conventional"},
    {"finish_conventional", "conventional", ConventionalMgmt<ZoneOp::kFinish>, EIO, "conventional"},
    {"reset_conventional", "conventional", ConventionalMgmt<ZoneOp::kReset>, EIO, "conventional"},
    {"append_conventional", "conventional", ConventionalAppend, EINVAL, "conventional zone"},
    {"write_read_only_zone", "fault_zone", WriteReadOnly, EIO, ""},
    {"reset_read_only_zone", "fault_zone", ResetReadOnly, EIO, ""},
    {"write_offline_zone", "fault_zone", WriteOffline, EIO, ""},
    {"read_offline_zone", "fault_zone", ReadOffline, EIO, ""},
    {"finish_offline_zone", "fault_zone", FinishOffline, EIO, ""},
    {"queue_depth_zero", "queue", QueueDepthZero, EINVAL, "depth"},
};

constexpr std::string_view kClasses[] = {"io_alignment", "io_range",     "zone_range",
                                         "append",       "not_zoned",    "write_pointer",
                                         "conventional", "fault_zone",   "queue"};

}  // namespace

std::span<const Case> Catalogue() { return kCases; }
std::span<const std::string_view> Classes() { return kClasses; }

Result<Target> Prepare(Backend& dev) {
  Target t;
  t.limits = dev.limits();
  if (!t.limits.zoned()) return t;
  const Limits& l = t.limits;
  auto zones = dev.ReportZones(0, std::min<uint32_t>(l.nr_zones, 256));
  if (!zones.ok()) return zones.status();
  std::vector<uint32_t> seq;
  for (const Zone& z : *zones) {
    uint32_t i = static_cast<uint32_t>(z.start / l.zone_size);
    if (z.type == ZoneType::kConventional) {
      if (!t.has_conventional) t.conventional_zone = i;
      t.has_conventional = true;
    } else if (z.condition == ZoneCondition::kReadOnly) {
      if (!t.read_only_zone) t.read_only_zone = i;
    } else if (z.condition == ZoneCondition::kOffline) {
      if (!t.offline_zone) t.offline_zone = i;
    } else if (z.length == l.zone_size && i + 1 < l.nr_zones) {
      if (seq.empty()) t.capacity = z.capacity;
      seq.push_back(i);
    }
  }
  if (seq.size() < 3) return t;
  t.has_sequential = true;
  t.open_zone = seq[0];
  t.full_zone = seq[1];
  t.empty_zone = seq[2];
  const uint64_t wb = std::max<uint64_t>(l.logical_block_size, l.write_granularity);
  for (uint32_t z : {t.open_zone, t.full_zone, t.empty_zone})
    ZBL_RETURN_IF_ERROR(dev.ZoneMgmt(ZoneOp::kReset, uint64_t{z} * l.zone_size, l.zone_size));
  std::vector<uint8_t> buf(2 * wb, 0x5a);
  ZBL_RETURN_IF_ERROR(dev.Write(uint64_t{t.open_zone} * l.zone_size, buf.data(), buf.size()));
  ZBL_RETURN_IF_ERROR(dev.ZoneMgmt(ZoneOp::kFinish, uint64_t{t.full_zone} * l.zone_size, l.zone_size));
  return t;
}

Status Execute(Backend& dev, const Request& r) {
  std::vector<uint8_t> buf;
  if (r.kind == Request::Kind::kRead || r.kind == Request::Kind::kWrite ||
      r.kind == Request::Kind::kAppend) {
    if (r.len > kMaxBuffer) return Error(EINVAL, "catalogue: request of {} bytes is too large to run", r.len);
    buf.assign(r.len, 0xc3);
  }
  switch (r.kind) {
    case Request::Kind::kRead: return dev.Read(r.offset, buf.data(), r.len);
    case Request::Kind::kWrite: return dev.Write(r.offset, buf.data(), r.len);
    case Request::Kind::kAppend: return dev.ZoneAppend(r.offset, buf.data(), r.len).status();
    case Request::Kind::kZoneMgmt: return dev.ZoneMgmt(r.op, r.offset, r.len);
    case Request::Kind::kResetAll: return dev.ZoneResetAll();
    case Request::Kind::kReport:
      return dev.ReportZones(r.offset, static_cast<uint32_t>(r.len)).status();
    case Request::Kind::kQueue:
      return dev.CreateQueue(static_cast<unsigned>(r.len)).status();
  }
  return Error(EINVAL, "catalogue: unknown request kind");
}

std::string Describe(const Request& r) {
  switch (r.kind) {
    case Request::Kind::kRead: return fmt::format("read {:#x}+{:#x}", r.offset, r.len);
    case Request::Kind::kWrite: return fmt::format("write {:#x}+{:#x}", r.offset, r.len);
    case Request::Kind::kAppend: return fmt::format("append {:#x}+{:#x}", r.offset, r.len);
    case Request::Kind::kZoneMgmt:
      return fmt::format("zone {} {:#x}+{:#x}", ToString(r.op), r.offset, r.len);
    case Request::Kind::kResetAll: return "zone reset-all";
    case Request::Kind::kReport: return fmt::format("report {:#x} max {}", r.offset, r.len);
    case Request::Kind::kQueue: return fmt::format("queue depth {}", r.len);
  }
  return "?";
}

}  // namespace zbl::bad_input
