// host_device's zoned side: the sysfs probe, libzbd report/management, and QEMU's zone append
// emulation over a per-zone write-pointer cache. Kernel and libzbd types stop in this file.
#include <fcntl.h>
#include <libzbd/zbd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include "file_node.h"
#include "zbl/format.h"
#include "null_blk/configfs.h"

namespace zbl::file {
namespace {


Result<std::string> ReadAttr(const std::string& dir, const char* name) {
  std::ifstream in(dir + "/" + name);
  std::string s;
  if (!in || !std::getline(in, s)) {
    return Error(ENOENT, "cannot read {}/{}", dir, name);
  }
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

Result<uint64_t> ReadNum(const std::string& dir, const char* name) {
  auto s = ReadAttr(dir, name);
  if (!s.ok()) {
    return s.status();
  }
  auto v = ParseNumber(*s);
  if (!v.ok()) {
    return Error(EINVAL, "{}/{}: '{}' is not a number", dir, name, *s);
  }
  return v;
}

// Optional attributes (absent on older kernels) read as `def`.
uint64_t ReadNumOr(const std::string& dir, const char* name, uint64_t def) {
  auto v = ReadNum(dir, name);
  return v.ok() ? *v : def;
}

ZonedGeometry NotZoned(std::string reason) {
  ZonedGeometry g;
  g.reason = std::move(reason);
  return g;
}

zbd_zone_op ToZbd(ZoneOp op) {
  switch (op) {
    case ZoneOp::kOpen:
      return ZBD_OP_OPEN;
    case ZoneOp::kClose:
      return ZBD_OP_CLOSE;
    case ZoneOp::kFinish:
      return ZBD_OP_FINISH;
    case ZoneOp::kReset:
      break;
  }
  return ZBD_OP_RESET;
}

bool HasNoWp(uint8_t cond) {
  return cond == ZBD_ZONE_COND_READONLY || cond == ZBD_ZONE_COND_OFFLINE;
}

}  // namespace

ZonedGeometry ProbeZonedSysfs(const std::string& dir, uint64_t size, uint32_t lbs) {
  auto zoned = ReadAttr(dir, "zoned");
  if (!zoned.ok()) {
    return NotZoned(zoned.status().message());
  }
  ZonedGeometry g;
  if (*zoned == "none") {
    return NotZoned("not zoned (queue/zoned is none)");
  }
  if (*zoned == "host-managed") {
    g.model = ZoneModel::kHostManaged;
  } else if (*zoned == "host-aware") {
    g.model = ZoneModel::kHostAware;
  } else {
    return NotZoned(fmt::format("unknown queue/zoned value '{}'", *zoned));
  }
  auto chunk = ReadNum(dir, "chunk_sectors");
  if (!chunk.ok()) {
    return NotZoned(chunk.status().message());
  }
  g.zone_size = *chunk * 512;
  if (g.zone_size == 0 || g.zone_size % lbs != 0 || g.zone_size > size) {
    return NotZoned(
        fmt::format("invalid zone size {} (queue/chunk_sectors {}) for logical block "
                    "size {} and device size {}",
                    g.zone_size, *chunk, lbs, size));
  }
  auto nr = ReadNum(dir, "nr_zones");
  if (!nr.ok()) {
    return NotZoned(nr.status().message());
  }
  const uint64_t expect = (size + g.zone_size - 1) / g.zone_size;
  if (*nr != expect) {
    return NotZoned(fmt::format("queue/nr_zones {} does not match size {} / zone size {} ({})", *nr,
                                size, g.zone_size, expect));
  }
  g.nr_zones = static_cast<uint32_t>(*nr);
  g.max_open_zones = static_cast<uint32_t>(ReadNumOr(dir, "max_open_zones", 0));
  g.max_active_zones = static_cast<uint32_t>(ReadNumOr(dir, "max_active_zones", 0));
  if (g.max_active_zones && g.max_open_zones > g.max_active_zones) {
    return NotZoned(fmt::format("max_open_zones {} exceeds max_active_zones {}", g.max_open_zones,
                                g.max_active_zones));
  }
  // Appends are emulated with writes, so without the attribute the transfer limit bounds them.
  uint64_t append = ReadNumOr(dir, "zone_append_max_bytes", 0);
  if (append == 0) {
    append = ReadNumOr(dir, "max_hw_sectors_kb", 0) * 1024;
  }
  g.max_append_bytes = append / lbs * lbs;
  g.max_transfer = ReadNumOr(dir, "max_sectors_kb", 0) * 1024 / lbs * lbs;
  g.physical_block_size = static_cast<uint32_t>(ReadNumOr(dir, "physical_block_size", lbs));
  if (g.physical_block_size < lbs || g.physical_block_size % lbs != 0) {
    g.physical_block_size = lbs;
  }
  return g;
}

void CloseZbd(int fd) { zbd_close(fd); }

uint64_t FileNode::ZoneLen(uint64_t z) const {
  return std::min(geo_.zone_size, size_ - z * geo_.zone_size);
}

void FileNode::ProbeZoned(const struct stat& st) {
  const std::string base =
      fmt::format("/sys/dev/block/{}:{}", major(st.st_rdev), minor(st.st_rdev));
  const bool partition = access((base + "/partition").c_str(), F_OK) == 0;
  const std::string queue = base + (partition ? "/../queue" : "/queue");
  geo_ = ProbeZonedSysfs(queue, size_, lbs_);
  block_discard_ = ReadNumOr(queue, "discard_max_bytes", 0) > 0;
  // A kernel null_blk disk without memory backing completes writes and keeps nothing.
  std::error_code ec;
  const std::string disk =
      std::filesystem::canonical(base + (partition ? "/.." : ""), ec).filename().string();
  if (!ec) {
    auto mb = null_blk::DiskItemAttr(null_blk::kConfigfsRoot, disk, "memory_backed");
    if (mb.ok() && *mb == "0") {
      no_data_ = fmt::format("none kept: kernel null_blk '{}' has memory_backed=0", disk);
    }
  }
  if (!zoned()) {
    return;
  }
  if (Status st2 = OpenZbd(); !st2.ok()) {
    ZonedGeometry none;
    none.reason = st2.ToString();
    geo_ = none;
    wps_.reset();
    types_.reset();
    caps_.reset();
    zone_mu_.reset();
    if (zbd_fd_ >= 0) {
      zbd_close(zbd_fd_);
    }
    zbd_fd_ = -1;
  }
}

Status FileNode::OpenZbd() {
  static std::once_flag quiet;
  std::call_once(quiet, [] { zbd_set_log_level(ZBD_LOG_NONE); });
  zbd_info info{};
  int r = zbd_open(cfg_.filename.c_str(), (cfg_.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC, &info);
  if (r < 0) {
    return ErrnoStatus(r < -1 ? -r : errno, "zbd_open");
  }
  zbd_fd_ = r;
  ZoneModel model = info.model == ZBD_DM_HOST_MANAGED ? ZoneModel::kHostManaged
                    : info.model == ZBD_DM_HOST_AWARE ? ZoneModel::kHostAware
                                                      : ZoneModel::kNone;
  if (model != geo_.model) {
    return Error(EINVAL, "libzbd says model {}, sysfs says {}", ToString(model),
                 ToString(geo_.model));
  }
  const uint64_t zbd_zone_size = info.zone_size;
  const uint32_t zbd_nr_zones = info.nr_zones;
  if (zbd_zone_size != geo_.zone_size || zbd_nr_zones != geo_.nr_zones) {
    return Error(EINVAL, "libzbd geometry ({} zones of {}) differs from sysfs ({} zones of {})",
                 zbd_nr_zones, zbd_zone_size, geo_.nr_zones, geo_.zone_size);
  }
  zbd_vendor_ = std::string(info.vendor_id, strnlen(info.vendor_id, sizeof info.vendor_id));
  const uint32_t n = geo_.nr_zones;
  wps_ = std::make_unique<std::atomic<uint64_t>[]>(n);
  types_ = std::make_unique<uint8_t[]>(n);
  caps_ = std::make_unique<uint64_t[]>(n);
  zone_mu_ = std::make_unique<std::mutex[]>(n);
  return RefreshWps(0, n).Annotate("initial zone report");
}

Zone FileNode::ToZone(const zbd_zone& z) const {
  Zone d;
  d.start = z.start;
  d.length = z.len;
  d.capacity = z.capacity ? z.capacity : z.len;
  d.type = static_cast<ZoneType>(z.type);
  d.condition = static_cast<ZoneCondition>(z.cond);
  // SCSI ZBC conventional zones report an all-ones write pointer (libzbd shifts it to bytes,
  // so it arrives as 0xfffffffffffffe00); null_blk reports its conventional zones' end.
  const bool in_zone = z.wp >= z.start && z.wp <= z.start + z.len;
  d.write_pointer = HasNoWp(static_cast<uint8_t>(z.cond)) || !in_zone ? kInvalidWritePointer : z.wp;
  return d;
}

// Callers that need the cache stable (appends) hold the zone's lock.
Status FileNode::RefreshWps(uint64_t first, uint64_t count) {
  constexpr uint32_t kBatch = 1024;
  std::vector<zbd_zone> buf(std::min<uint64_t>(count, kBatch));
  uint64_t z = first;
  const uint64_t end = std::min<uint64_t>(first + count, geo_.nr_zones);
  while (z < end) {
    unsigned n = static_cast<unsigned>(std::min<uint64_t>(end - z, kBatch));
    if (zbd_report_zones(zbd_fd_, static_cast<off_t>(z * geo_.zone_size), 0, ZBD_RO_ALL, buf.data(),
                         &n) != 0) {
      return ErrnoStatus(errno, fmt::format("zone report at {}", Hex(z * geo_.zone_size)));
    }
    if (n == 0) {
      return Error(EIO, "zone report at {} returned no zones", Hex(z * geo_.zone_size));
    }
    for (unsigned i = 0; i < n && z < end; ++i, ++z) {
      Zone d = ToZone(buf[i]);
      types_[z] = static_cast<uint8_t>(d.type);
      caps_[z] = d.capacity;
      wps_[z].store(d.write_pointer, std::memory_order_release);
    }
  }
  return Status::Ok();
}

void FileNode::AdvanceWp(uint64_t offset, uint64_t len) {
  uint64_t z = offset / geo_.zone_size;
  const uint64_t end = offset + len;
  for (; z < geo_.nr_zones && z * geo_.zone_size < end; ++z) {
    if (types_[z] == static_cast<uint8_t>(ZoneType::kConventional)) {
      continue;
    }
    const uint64_t new_wp = std::min(end, z * geo_.zone_size + ZoneLen(z));
    uint64_t cur = wps_[z].load(std::memory_order_acquire);
    while (cur != kInvalidWritePointer && cur < new_wp &&
           !wps_[z].compare_exchange_weak(cur, new_wp, std::memory_order_acq_rel)) {
    }
  }
}

void FileNode::NoteWriteDone(uint64_t offset, size_t len, bool ok) {
  if (!zoned() || len == 0) {
    return;
  }
  if (ok) {
    AdvanceWp(offset, len);
    return;
  }
  const uint64_t first = offset / geo_.zone_size;
  const uint64_t last = (offset + len - 1) / geo_.zone_size;
  Status st = RefreshWps(first, last - first + 1);
  (void)st;  // the write's own error is what the caller sees; a failed report keeps the old cache
}

Result<size_t> FileNode::ReportZones(uint64_t offset, std::span<Zone> out) {
  if (!zoned()) {
    return Node::ReportZones(offset, out);
  }
  thread_local std::vector<zbd_zone> buf;
  if (buf.size() < out.size()) {
    buf.resize(out.size());
  }
  unsigned n = static_cast<unsigned>(std::min<size_t>(out.size(), UINT32_MAX));
  if (zbd_report_zones(zbd_fd_, static_cast<off_t>(offset), 0, ZBD_RO_ALL, buf.data(), &n) != 0) {
    return ErrnoStatus(errno, fmt::format("zone report at {} on '{}'", Hex(offset), cfg_.filename));
  }
  for (unsigned i = 0; i < n; ++i) {
    out[i] = ToZone(buf[i]);
  }
  return size_t{n};
}

Status FileNode::ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) {
  if (!zoned()) {
    return Node::ZoneMgmt(op, offset, len);
  }
  if (cfg_.read_only) {
    return RefuseReadOnly(fmt::format("zone {}", ToString(op)));
  }
  const uint64_t first = offset / geo_.zone_size;
  const uint64_t last = std::min<uint64_t>((offset + len - 1) / geo_.zone_size, geo_.nr_zones - 1);
  // QEMU's rule (file-posix.c raw_co_zone_mgmt), so that every family answers EIO where SCSI
  // disks would say EREMOTEIO: a range starting in a conventional zone is refused, unless it
  // is the whole device (a reset-all).
  if (types_[first] == static_cast<uint8_t>(ZoneType::kConventional) && len != size_) {
    return Error(EIO,
                 "zone {} {}+{}: zone {} is conventional (zone management operations are "
                 "not allowed for conventional zones)",
                 ToString(op), Hex(offset), Hex(len), first);
  }
  // Appends hold one zone lock; taking the range in ascending order cannot deadlock with them.
  for (uint64_t z = first; z <= last; ++z) {
    zone_mu_[z].lock();
  }
  Status result;
  if (zbd_zones_operation(zbd_fd_, ToZbd(op), static_cast<off_t>(offset),
                          static_cast<off_t>(len)) != 0) {
    result = ErrnoStatus(errno, fmt::format("zone {} {}+{} on '{}'", ToString(op), Hex(offset),
                                            Hex(len), cfg_.filename));
    Status st = RefreshWps(first, last - first + 1);
    (void)st;
  } else if (op == ZoneOp::kReset || op == ZoneOp::kFinish) {
    for (uint64_t z = first; z <= last; ++z) {
      if (types_[z] == static_cast<uint8_t>(ZoneType::kConventional)) {
        continue;
      }
      if (wps_[z].load(std::memory_order_relaxed) == kInvalidWritePointer) {
        continue;
      }
      const uint64_t start = z * geo_.zone_size;
      wps_[z].store(op == ZoneOp::kReset ? start : start + ZoneLen(z), std::memory_order_release);
    }
  }
  for (uint64_t z = last + 1; z-- > first;) {
    zone_mu_[z].unlock();
  }
  return result;
}

Status FileNode::ZoneResetAll() {
  if (!zoned()) {
    return Node::ZoneResetAll();
  }
  return ZoneMgmt(ZoneOp::kReset, 0, size_);
}

Result<uint64_t> FileNode::ZoneAppend(uint64_t zone_offset, const void* buf, size_t len) {
  if (!zoned()) {
    return Node::ZoneAppend(zone_offset, buf, len);
  }
  if (cfg_.read_only) {
    return RefuseReadOnly("zone append");
  }
  const uint64_t z = zone_offset / geo_.zone_size;
  if (types_[z] == static_cast<uint8_t>(ZoneType::kConventional)) {
    return Error(EIO,
                 "zone append to conventional zone {}: host_device emulates append on "
                 "sequential zones only",
                 z);
  }
  std::lock_guard<std::mutex> lk(zone_mu_[z]);
  const uint64_t wp = wps_[z].load(std::memory_order_acquire);
  if (wp == kInvalidWritePointer) {
    return Error(EIO, "zone append to zone {}: read-only or offline", z);
  }
  // An append that runs past the capacity goes to the device, which answers as for the write
  // (scsi_debug: EREMOTEIO, as through qemu-io; ci/vm/errno-cells.sh append_across_cap), unless
  // Linux would split it (longer than max_sectors: the pieces before the refused one would
  // stay written) or it runs past the zone end (a piece would land in the next zone): those
  // are refused here, with nothing written.
  const bool split = geo_.max_transfer != 0 && len > geo_.max_transfer;
  const uint64_t end = zone_offset + (split ? caps_[z] : ZoneLen(z));
  if (wp + len > end) {
    return Error(EIO, "zone append of {} bytes at write pointer {} runs past {} of zone {} ({})",
                 len, Hex(wp), split ? "the capacity" : "the end", z, Hex(end));
  }
  if (Status st = Pwrite(buf, len, wp); !st.ok()) {
    Status refresh = RefreshWps(z, 1);
    (void)refresh;
    return st;
  }
  wps_[z].store(wp + len, std::memory_order_release);
  return wp;
}

}  // namespace zbl::file
