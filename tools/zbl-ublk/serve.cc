#include "serve.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

namespace zbl::ublk {
namespace {

constexpr uint64_t kSector = 512;

uint8_t Log2(uint64_t v) { return static_cast<uint8_t>(std::countr_zero(v)); }

std::string Bytes(uint64_t b) {
  if (b >= (1ull << 30) && b % (1ull << 30) == 0) return fmt::format("{} GiB", b >> 30);
  if (b >= (1ull << 20) && b % (1ull << 20) == 0) return fmt::format("{} MiB", b >> 20);
  if (b >= (1ull << 10) && b % (1ull << 10) == 0) return fmt::format("{} KiB", b >> 10);
  return fmt::format("{} bytes", b);
}

}  // namespace

Result<Plan> MakePlan(Backend& dev, const ServeOptions& o) {
  const Limits& l = dev.limits();
  Plan p;
  if (o.queues == 0 || o.queues > 64)
    return Error(EINVAL, "--queues must be 1..64 (got {})", o.queues);
  if (o.depth == 0 || o.depth > kMaxQueueDepth) {
    return Error(EINVAL, "--depth must be 1..{} (got {})", kMaxQueueDepth, o.depth);
  }
  if (o.max_io < 4096 || o.max_io % 4096 != 0 || o.max_io > kMaxIoBytes) {
    return Error(EINVAL, "--max-io must be a multiple of 4096 between 4096 and {} (got {})",
                 kMaxIoBytes, o.max_io);
  }
  // The block size the kernel will align every request to: the device's request alignment
  // (a multiple of its logical block), which Linux allows up to the page size.
  const uint32_t lbs = std::max(l.logical_block_size, l.request_alignment);
  if (!std::has_single_bit(lbs) || lbs < 512 || lbs > 4096) {
    return Error(EINVAL,
                 "block size {} cannot be served: Linux needs a power-of-two logical block "
                 "size of 512..4096 bytes",
                 lbs);
  }
  if (l.size == 0 || l.size % lbs != 0) {
    return Error(EINVAL, "device size {} is not a multiple of the block size {}", l.size, lbs);
  }
  p.lbs = lbs;
  uint64_t max_io = o.max_io;
  if (l.max_transfer != 0 && l.max_transfer < max_io) {
    max_io = l.max_transfer / 4096 * 4096;
    if (max_io == 0)
      return Error(EINVAL, "the device's max transfer {} is below 4096 bytes", l.max_transfer);
  }
  p.max_io = static_cast<uint32_t>(max_io);

  Params& pr = p.params;
  pr.len = sizeof(Params);
  pr.types = kParamBasic;
  pr.basic.logical_bs_shift = Log2(lbs);
  uint32_t pbs = std::max<uint32_t>(lbs, l.write_granularity);
  if (!std::has_single_bit(pbs) || pbs > 65536) pbs = lbs;
  pr.basic.physical_bs_shift = Log2(pbs);
  pr.basic.io_min_shift = Log2(pbs);
  pr.basic.io_opt_shift = Log2(pbs);
  pr.basic.max_sectors = static_cast<uint32_t>(max_io / kSector);
  pr.basic.dev_sectors = l.size / kSector;
  // zbl devices may hold writes until Flush (a persistent emulated image is durable only
  // then): a volatile cache makes the kernel send FLUSH for fsync and barriers.
  pr.basic.attrs = kAttrVolatileCache;

  if (l.model == ZoneModel::kNone) {
    p.notes.push_back("model none: served as a regular (non-zoned) disk");
    return p;
  }
  if (l.model == ZoneModel::kHostAware) {
    p.notes.push_back(
        "host-aware zones: Linux rejects host-aware devices, so this one is served as a regular "
        "(non-zoned) disk");
    return p;
  }

  // Host-managed: the kernel's rules for a zoned ublk disk, refused here first.
  const uint64_t zs = l.zone_size;
  if (zs == 0 || !std::has_single_bit(zs) || zs % lbs != 0) {
    return Error(EINVAL,
                 "zone size {} is not a power of two: Linux needs a power-of-two zone size "
                 "(chunk_sectors)",
                 zs);
  }
  if (zs / kSector > UINT32_MAX)
    return Error(EINVAL, "zone size {} is too large for chunk_sectors", zs);
  if (l.size % zs != 0) {
    return Error(EINVAL,
                 "device size {} is not a whole number of zones of {} (a partial last zone): "
                 "Linux needs equal zones",
                 l.size, zs);
  }
  const uint64_t nr = l.size / zs;
  if (nr > UINT32_MAX) return Error(EINVAL, "too many zones ({})", nr);
  p.zoned = true;
  p.zone_size = static_cast<uint32_t>(zs);
  p.nr_zones = static_cast<uint32_t>(nr);
  // Linux reads the whole zone list in one request at start: a report larger than the max I/O
  // is split, and the split reports restart their zone index (the kernel then rejects the disk).
  const uint64_t report_bytes = nr * sizeof(blk_zone);
  if (report_bytes > max_io) {
    return Error(EINVAL,
                 "a zone report of all {} zones is {} bytes, larger than the max I/O size {}: "
                 "Linux splits it and mis-numbers the zones; use --max-io {} or more",
                 nr, report_bytes, max_io, (report_bytes + 4095) / 4096 * 4096);
  }
  if (l.max_append_bytes == 0) {
    return Error(EINVAL, "max zone append is 0: Linux needs zone append on a zoned ublk disk");
  }
  // One report of every zone: conventional and sequential counts, one capacity for all.
  auto zones = dev.ReportZones(0, static_cast<uint32_t>(nr));
  if (!zones.ok()) return zones.status().Annotate("zone report");
  if (zones->size() != nr) {
    return Error(EIO, "the device reported {} zones, its geometry says {}", zones->size(), nr);
  }
  for (const Zone& z : *zones) {
    if (z.type == ZoneType::kConventional) {
      ++p.conventional_zones;
      continue;
    }
    if (z.type == ZoneType::kSequentialWritePreferred) {
      return Error(EINVAL, "zone at {:#x} is sequential-write-preferred on a host-managed device",
                   z.start);
    }
    if (p.seq_zones == 0) {
      p.zone_capacity = z.capacity;
    } else if (z.capacity != p.zone_capacity) {
      return Error(EINVAL,
                   "zone at {:#x} has capacity {}, others {}: Linux needs one capacity for all "
                   "sequential zones",
                   z.start, z.capacity, p.zone_capacity);
    }
    ++p.seq_zones;
  }
  if (p.seq_zones == 0) {
    return Error(EINVAL,
                 "no sequential zone: Linux needs at least one sequential zone on a zoned disk");
  }
  pr.types |= kParamZoned;
  pr.basic.chunk_sectors = static_cast<uint32_t>(zs / kSector);
  uint64_t append = std::min<uint64_t>(l.max_append_bytes, max_io);
  append = append / lbs * lbs;
  if (append == 0)
    return Error(EINVAL, "max zone append {} is below one block", l.max_append_bytes);
  pr.zoned.max_zone_append_sectors = static_cast<uint32_t>(append / kSector);
  // The kernel refuses limits above the number of zones (and ignores those at or above the
  // number of sequential zones): above means none.
  pr.zoned.max_open_zones = l.max_open_zones <= nr ? l.max_open_zones : 0;
  pr.zoned.max_active_zones = l.max_active_zones <= nr ? l.max_active_zones : 0;
  if (l.max_open_zones > nr || l.max_active_zones > nr) {
    p.notes.push_back("open/active limits above the zone count are served as no limit");
  }
  return p;
}

std::string Describe(const Plan& p, const Backend& dev) {
  const Limits& l = dev.limits();
  if (!p.zoned) {
    return fmt::format("regular disk of {}, {}-byte blocks, max I/O {}", Bytes(l.size), p.lbs,
                       Bytes(p.max_io));
  }
  return fmt::format(
      "zoned disk of {}: {} zones of {} ({} conventional, {} sequential of capacity {}), "
      "{}-byte blocks, max open {}, max active {}, max append {}, max I/O {}",
      Bytes(l.size), p.nr_zones, Bytes(p.zone_size), p.conventional_zones, p.seq_zones,
      Bytes(p.zone_capacity), p.lbs, p.params.zoned.max_open_zones, p.params.zoned.max_active_zones,
      Bytes(uint64_t{p.params.zoned.max_zone_append_sectors} * kSector), Bytes(p.max_io));
}

namespace {

int32_t Fail(const Status& st) { return -(st.code() ? st.code() : EIO); }

void Fill(blk_zone& out, const Zone& z) {
  std::memset(&out, 0, sizeof(out));
  out.start = z.start / kSector;
  out.len = z.length / kSector;
  out.capacity = z.capacity / kSector;
  out.wp = z.write_pointer == kInvalidWritePointer ? ~uint64_t{0} : z.write_pointer / kSector;
  out.type = static_cast<uint8_t>(z.type);
  out.cond = static_cast<uint8_t>(z.condition);
}

}  // namespace

Reply Handle(Backend& dev, const Plan& plan, const IoDesc& d, DataChannel& data,
             std::vector<unsigned char>& scratch) {
  Reply r;
  const uint8_t op = d.op_flags & 0xff;
  const uint64_t off = d.start_sector * kSector;
  const size_t len = size_t{d.nr} * kSector;
  auto moved = [](long n, size_t want) { return n == static_cast<long>(want); };
  switch (op) {
    case kOpRead: {
      if (scratch.size() < len) scratch.resize(len);
      if (Status st = dev.Read(off, scratch.data(), len); !st.ok()) return {Fail(st), 0};
      long n = data.ToKernel(scratch.data(), len);
      r.result =
          moved(n, len) ? static_cast<int32_t>(len) : (n < 0 ? static_cast<int32_t>(n) : -EIO);
      return r;
    }
    case kOpWrite: {
      if (scratch.size() < len) scratch.resize(len);
      long n = data.FromKernel(scratch.data(), len);
      if (!moved(n, len)) return {n < 0 ? static_cast<int32_t>(n) : -EIO, 0};
      if (Status st = dev.Write(off, scratch.data(), len); !st.ok()) return {Fail(st), 0};
      if ((d.op_flags & kIoFFua) != 0) {
        if (Status st = dev.Flush(); !st.ok()) return {Fail(st), 0};
      }
      r.result = static_cast<int32_t>(len);
      return r;
    }
    case kOpFlush:
      if (Status st = dev.Flush(); !st.ok()) return {Fail(st), 0};
      return r;
    case kOpZoneAppend: {
      if (scratch.size() < len) scratch.resize(len);
      long n = data.FromKernel(scratch.data(), len);
      if (!moved(n, len)) return {n < 0 ? static_cast<int32_t>(n) : -EIO, 0};
      auto at = dev.ZoneAppend(off, scratch.data(), len);
      if (!at.ok()) return {Fail(at.status()), 0};
      r.result = static_cast<int32_t>(len);
      r.append_sector = *at / kSector;
      return r;
    }
    case kOpZoneOpen:
    case kOpZoneClose:
    case kOpZoneFinish:
    case kOpZoneReset: {
      const ZoneOp zop = op == kOpZoneOpen     ? ZoneOp::kOpen
                         : op == kOpZoneClose  ? ZoneOp::kClose
                         : op == kOpZoneFinish ? ZoneOp::kFinish
                                               : ZoneOp::kReset;
      if (Status st = dev.ZoneMgmt(zop, off, plan.zone_size); !st.ok()) return {Fail(st), 0};
      return r;
    }
    case kOpZoneResetAll:
      if (Status st = dev.ZoneResetAll(); !st.ok()) return {Fail(st), 0};
      return r;
    case kOpReportZones: {
      // Exactly the zones asked, at full length: a short reply would make the kernel requeue
      // the rest of the buffer. Entries after the device's last zone stay zero (end of report).
      const size_t bytes = size_t{d.nr} * sizeof(blk_zone);
      if (scratch.size() < bytes) scratch.resize(bytes);
      std::memset(scratch.data(), 0, bytes);
      std::vector<Zone> zones(d.nr);
      auto got = dev.ReportZones(off, std::span<Zone>(zones));
      if (!got.ok()) return {Fail(got.status()), 0};
      auto* out = reinterpret_cast<blk_zone*>(scratch.data());
      for (size_t i = 0; i < *got && i < d.nr; ++i) Fill(out[i], zones[i]);
      long n = data.ToKernel(scratch.data(), bytes);
      r.result =
          moved(n, bytes) ? static_cast<int32_t>(bytes) : (n < 0 ? static_cast<int32_t>(n) : -EIO);
      return r;
    }
    default:
      return {-EOPNOTSUPP, 0};
  }
}

}  // namespace zbl::ublk
