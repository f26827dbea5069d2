#include "engine.h"
#include "zbl/format.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace zbl::emulated {
namespace {

using ZC = ZoneCondition;

constexpr uint64_t kWpBits = 56;
constexpr uint64_t kWpMask = (uint64_t{1} << kWpBits) - 1;
constexpr uint64_t Pack(ZC c, uint64_t wp) { return (uint64_t{static_cast<uint8_t>(c)} << kWpBits) | wp; }
constexpr ZC CondOf(uint64_t s) { return static_cast<ZC>(s >> kWpBits); }
constexpr uint64_t WpOf(uint64_t s) { return s & kWpMask; }
constexpr uint64_t kPage = 4096;
constexpr uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }


}  // namespace

struct alignas(64) Engine::ZoneRt {
  std::mutex mu;
  // (condition << 56) | write pointer relative to the zone start. Conditions change only under
  // res_mu_, write pointers only under mu; both are updated with CAS so neither loses the other.
  std::atomic<uint64_t> state{0};
  // Bytes of the zone actually written, from its start (finish moves the write pointer, not
  // this); reads between data_end and the write pointer return zeros.
  std::atomic<uint64_t> data_end{0};
  uint8_t* data = nullptr;  // under mu; null until first write
  uint64_t data_len = 0;    // bytes mapped at data
  ZoneType type = ZoneType::kConventional;
  uint64_t open_seq = 0;  // under res_mu_: when it last became implicitly open
  // Queued writes (BeginWrite/EndWrite), all under mu. data_end is the end of the completed
  // prefix while some are in flight; `ahead` holds completed ranges past it, `broken_at` the
  // lowest offset whose data write failed (UINT64_MAX: none).
  std::atomic<uint32_t> inflight{0};
  uint64_t broken_at = UINT64_MAX;
  std::vector<std::pair<uint64_t, uint64_t>> ahead;
  // Under mu. Linux holds no zone write plug for this zone although it has been written (a
  // refused write at the write pointer ran past the capacity, which moved the plug's write
  // pointer past it and removed the plug; or the zone was restored after a power cycle).
  // Matters only for profiles with err_write_plug, in zones neither EMPTY nor FULL.
  bool unplugged = false;

  ZC cond() const { return CondOf(state.load(std::memory_order_acquire)); }
  uint64_t wp() const { return WpOf(state.load(std::memory_order_acquire)); }
  void set_wp(uint64_t wp) {
    uint64_t s = state.load(std::memory_order_relaxed);
    while (!state.compare_exchange_weak(s, (s & ~kWpMask) | wp, std::memory_order_release,
                                        std::memory_order_relaxed)) {
    }
  }
  void set_cond(ZC c) {
    uint64_t s = state.load(std::memory_order_relaxed);
    while (!state.compare_exchange_weak(s, Pack(c, WpOf(s)), std::memory_order_release,
                                        std::memory_order_relaxed)) {
    }
  }
};

Status EngineConfig::Validate() const {
  if (block_size != 512 && block_size != 4096)
    return Error(EINVAL, "block-size {} must be 512 or 4096", block_size);
  if (size == 0 || size % block_size != 0)
    return Error(EINVAL, "size {} must be a non-zero multiple of the block size {}", size, block_size);
  if (zone_size == 0 || zone_size % block_size != 0)
    return Error(EINVAL, "zone-size {} must be a non-zero multiple of the block size {}", zone_size,
                 block_size);
  if (zone_size > size) return Error(EINVAL, "zone-size {} exceeds the device size {}", zone_size, size);
  if (zone_size > kWpMask) return Error(EINVAL, "zone-size {} is too large", zone_size);
  uint64_t cap = zone_capacity ? zone_capacity : zone_size;
  if (cap % block_size != 0 || cap > zone_size)
    return Error(EINVAL, "zone-capacity {} must be a multiple of the block size and at most zone-size {}",
                 cap, zone_size);
  uint64_t nr = (size + zone_size - 1) / zone_size;
  if (nr > (uint64_t{1} << 31)) return Error(EINVAL, "too many zones ({})", nr);
  if (model != ZoneModel::kNone) {
    if (conventional_zones >= nr)
      return Error(EINVAL, "conventional-zones {} leaves no sequential zone (device has {} zones)",
                   conventional_zones, nr);
    if (max_active_zones && max_open_zones > max_active_zones)
      return Error(EINVAL, "max-open-zones {} exceeds max-active-zones {}", max_open_zones,
                   max_active_zones);
    if (max_active_zones && !profile->has_active_limit)
      return Error(EINVAL, "profile '{}' has no active zone limit; max-active-zones must be 0",
                   profile->name);
    if (max_append_bytes % block_size != 0)
      return Error(EINVAL, "max-append-bytes {} must be a multiple of the block size {}",
                   max_append_bytes, block_size);
    for (const auto* list : {&read_only_zones, &offline_zones}) {
      const char* what = list == &read_only_zones ? "read-only-zones" : "offline-zones";
      for (uint64_t z : *list) {
        if (z >= nr) return Error(EINVAL, "{}: zone {} does not exist ({} zones)", what, z, nr);
        if (z < conventional_zones)
          return Error(EINVAL, "{}: zone {} is conventional", what, z);
      }
    }
  } else if (!read_only_zones.empty() || !offline_zones.empty() || conventional_zones) {
    return Error(EINVAL, "a non-zoned (model=none) device has no zones to configure");
  }
  return Status::Ok();
}

Engine::Engine(const EngineConfig& cfg, EngineBacking* backing) : cfg_(cfg), backing_(backing) {}

Engine::~Engine() {
  for (uint32_t z = 0; z < nr_zones_; ++z)
    if (zones_[z].data) munmap(zones_[z].data, zones_[z].data_len);
  for (uint8_t* p : pool_) munmap(p, RoundUp(zone_cap_, kPage));
}

Result<std::unique_ptr<Engine>> Engine::Create(const EngineConfig& cfg, EngineBacking* backing) {
  ZBL_RETURN_IF_ERROR(cfg.Validate());
  std::unique_ptr<Engine> e(new Engine(cfg, backing));
  e->nr_zones_ = static_cast<uint32_t>((cfg.size + cfg.zone_size - 1) / cfg.zone_size);
  e->zone_cap_ = cfg.zone_capacity ? cfg.zone_capacity : cfg.zone_size;
  e->zones_ = std::make_unique<ZoneRt[]>(e->nr_zones_);
  for (uint32_t z = 0; z < e->nr_zones_; ++z) {
    ZoneRt& zr = e->zones_[z];
    if (cfg.model == ZoneModel::kNone || z < cfg.conventional_zones) {
      zr.type = ZoneType::kConventional;
      zr.state.store(Pack(ZC::kNotWritePointer, 0));
    } else {
      zr.type = cfg.model == ZoneModel::kHostAware ? ZoneType::kSequentialWritePreferred
                                                    : ZoneType::kSequentialWriteRequired;
      zr.state.store(Pack(ZC::kEmpty, 0));
    }
  }
  for (uint64_t z : cfg.read_only_zones) e->zones_[z].state.store(Pack(ZC::kReadOnly, 0));
  for (uint64_t z : cfg.offline_zones) e->zones_[z].state.store(Pack(ZC::kOffline, 0));
  return e;
}

Limits Engine::limits() const {
  Limits l;
  l.size = cfg_.size;
  l.logical_block_size = cfg_.block_size;
  l.request_alignment = cfg_.block_size;
  l.model = cfg_.model;
  if (cfg_.model != ZoneModel::kNone) {
    l.zone_size = cfg_.zone_size;
    l.nr_zones = nr_zones_;
    l.max_open_zones = cfg_.max_open_zones;
    l.max_active_zones = cfg_.max_active_zones;
    l.max_append_bytes = cfg_.max_append_bytes;
    l.write_granularity = cfg_.block_size;
  }
  return l;
}

uint64_t Engine::ZoneLen(uint32_t z) const {
  uint64_t start = uint64_t{z} * cfg_.zone_size;
  return std::min(cfg_.zone_size, cfg_.size - start);
}

uint64_t Engine::ZoneCap(uint32_t z) const {
  if (zones_[z].type == ZoneType::kConventional) return ZoneLen(z);
  return std::min(zone_cap_, ZoneLen(z));
}

// ---- buffers ----

Status Engine::EnsureBuffer(ZoneRt& zr, uint32_t z) {
  if (zr.data || backing_ || !cfg_.store_data) return Status::Ok();
  const bool recyclable = zr.type == ZoneType::kSequentialWriteRequired && ZoneCap(z) == zone_cap_;
  const uint64_t len = RoundUp(recyclable ? zone_cap_ : ZoneCap(z), kPage);
  if (recyclable) {
    std::lock_guard<std::mutex> lk(pool_mu_);
    if (!pool_.empty()) {
      zr.data = pool_.back();
      pool_.pop_back();
      pool_bytes_ -= len;
    }
  }
  if (!zr.data) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) return ErrnoStatus(errno, fmt::format("allocating zone {} memory", z));
    zr.data = static_cast<uint8_t*>(p);
  }
  zr.data_len = len;
  resident_.fetch_add(len, std::memory_order_relaxed);
  return Status::Ok();
}

void Engine::ReleaseBuffer(ZoneRt& zr, uint32_t z) {
  if (!zr.data) return;
  resident_.fetch_sub(zr.data_len, std::memory_order_relaxed);
  // Stale bytes in a recycled buffer are never read: a sequential zone's reads stop at data_end.
  const bool recyclable = zr.type == ZoneType::kSequentialWriteRequired && ZoneCap(z) == zone_cap_;
  if (recyclable) {
    std::lock_guard<std::mutex> lk(pool_mu_);
    if (pool_bytes_ + zr.data_len <= cfg_.recycle_bytes) {
      pool_.push_back(zr.data);
      pool_bytes_ += zr.data_len;
      zr.data = nullptr;
      return;
    }
  }
  munmap(zr.data, zr.data_len);
  zr.data = nullptr;
}

// ---- resource accounting (res_mu_ held) ----

void Engine::SetCond(uint32_t z, ZC from, ZC to) {
  ZoneRt& zr = zones_[z];
  if (zr.type == ZoneType::kSequentialWriteRequired && from != to) {
    switch (from) {
      case ZC::kImplicitOpen:
        --imp_open_;
        imp_open_zones_.erase(z);
        imp_open_order_.erase(zr.open_seq);
        break;
      case ZC::kExplicitOpen: --exp_open_; break;
      case ZC::kClosed: --closed_; break;
      default: break;
    }
    switch (to) {
      case ZC::kImplicitOpen:
        ++imp_open_;
        imp_open_zones_.insert(z);
        zr.open_seq = ++open_seq_;
        imp_open_order_.emplace(zr.open_seq, z);
        break;
      case ZC::kExplicitOpen: ++exp_open_; break;
      case ZC::kClosed: ++closed_; break;
      default: break;
    }
  }
  zr.set_cond(to);
}

bool Engine::EvictOne() {
  if (imp_open_zones_.empty()) return false;
  uint32_t victim = 0;
  switch (profile().evict) {
    case EvictPolicy::kRoundRobin: {
      auto it = imp_open_zones_.lower_bound(rr_next_);
      if (it == imp_open_zones_.end()) it = imp_open_zones_.begin();
      victim = *it;
      rr_next_ = victim + 1;
      break;
    }
    case EvictPolicy::kOldest: victim = imp_open_order_.begin()->second; break;
    case EvictPolicy::kLowest: victim = *imp_open_zones_.begin(); break;
  }
  ZoneRt& v = zones_[victim];
  SetCond(victim, ZC::kImplicitOpen, v.wp() == 0 ? profile().close_at_start : ZC::kClosed);
  Notify(victim);
  return true;
}

Status Engine::AcquireOpen(uint32_t z, ZC from, bool explicit_open) {
  if (zones_[z].type != ZoneType::kSequentialWriteRequired) return Status::Ok();
  const Profile& p = profile();
  const uint32_t max_open = cfg_.max_open_zones, max_active = cfg_.max_active_zones;
  const bool need_active = from == ZC::kEmpty;
  auto active_room = [&] { return !max_active || imp_open_ + exp_open_ + closed_ < max_active; };
  auto open_room = [&] { return !max_open || imp_open_ + exp_open_ < max_open; };
  auto active_error = [&] {
    return Error(p.err_active_resource, "zone {}: no active zone resource (max-active-zones {})", z,
                 max_active);
  };
  auto open_error = [&] {
    return Error(p.err_open_resource, "zone {}: no open zone resource (max-open-zones {})", z,
                 max_open);
  };
  if (!p.active_check_first) {
    // Close an implicitly-open zone first, then check (QEMU ZNS order).
    if (!open_room()) EvictOne();
    if (need_active && !active_room()) return active_error();
    if (!open_room()) return open_error();
    return Status::Ok();
  }
  if (need_active && !active_room()) return active_error();
  if (open_room()) return Status::Ok();
  const bool only_explicit = explicit_open ? p.explicit_open_fails_only_on_explicit
                                           : p.implicit_open_fails_only_on_explicit;
  if (only_explicit && exp_open_ >= max_open) return open_error();
  if (imp_open_ > 0 && (!p.evict_needs_active_room || active_room())) {
    EvictOne();
    return Status::Ok();
  }
  return open_error();
}

void Engine::Notify(uint32_t z) {
  if (!backing_) return;
  const ZoneRt& zr = zones_[z];
  uint64_t s = zr.state.load(std::memory_order_acquire);
  const uint64_t data_end = zr.data_end.load(std::memory_order_relaxed);
  // Queued writes move the write pointer at submission and data_end as they complete: the
  // backing persists the completed part only (a FULL zone's gap, after finish, is its own).
  uint64_t wp = WpOf(s);
  ZC cond = CondOf(s);
  if (cond != ZC::kFull && zr.type == ZoneType::kSequentialWriteRequired && data_end < wp) {
    wp = data_end;
    // Nothing of a zone whose writes are all in flight is durable: it comes back EMPTY.
    if (wp == 0 && (cond == ZC::kClosed || IsOpen(cond))) cond = ZC::kEmpty;
  }
  backing_->ZoneChanged(z, cond, wp, data_end);
}

// ---- data path ----

Status Engine::WritePiece(uint32_t z, uint64_t rel, const uint8_t* src, uint64_t len, bool append,
                          uint64_t* written_at) {
  ZoneRt& zr = zones_[z];
  const Profile& p = profile();
  const uint64_t start = uint64_t{z} * cfg_.zone_size;
  std::unique_lock<std::mutex> lk(zr.mu);
  auto store = [&](uint64_t at) -> Status {
    if (backing_) return backing_->WriteData(start + at, src, len);
    if (!cfg_.store_data) return Status::Ok();
    ZBL_RETURN_IF_ERROR(EnsureBuffer(zr, z));
    std::memcpy(zr.data + at, src, len);
    return Status::Ok();
  };

  if (zr.type == ZoneType::kConventional) {
    if (append) return Error(p.err_conventional_op, "zone append to conventional zone {}", z);
    ZBL_RETURN_IF_ERROR(store(rel));
    return Status::Ok();
  }
  if (backing_ && zr.inflight.load(std::memory_order_relaxed) > 0) {
    // Queued writes are in flight in this zone: this one queues behind them, moving its data
    // itself, so that data_end keeps covering only completed data.
    auto t = BeginLocked(z, rel, len, append);
    lk.unlock();
    if (!t.ok()) return t.status();
    ZBL_RETURN_IF_ERROR(EndWrite(*t, backing_->WriteData(t->offset, src, len)));
    if (written_at) *written_at = t->offset;
    return Status::Ok();
  }

  const uint64_t cap = ZoneCap(z);
  ZC cond = zr.cond();
  uint64_t wp = zr.wp();
  if (cond == ZC::kReadOnly || cond == ZC::kOffline)
    return Error(p.err_read_only, "zone {} is {}", z, cond == ZC::kReadOnly ? "read-only" : "offline");
  if (append) rel = wp;
  const bool swr = zr.type == ZoneType::kSequentialWriteRequired;
  // The errno of a refused write: Linux's zone write plug's, when it refuses first, else the
  // device's (profile.h err_write_plug).
  // A write that passes the plug moves the plug's write pointer past it; when the device then
  // refuses it, Linux removes the plug if that pointer reached the capacity, else resyncs it
  // from the zone report that follows a failed write. A plug that refuses a write itself is
  // kept and resynced the same way. (Measured with ci/vm/diff.sh zbc on Linux 6.12.118: after
  // a refused write past the capacity, a write behind the write pointer reaches the device;
  // after a further refused write into the gap, the plug refuses one again.)
  auto refused = [&] {
    if (!p.err_write_plug) return p.err_write_violation;
    const bool plugged = cond != ZC::kEmpty && cond != ZC::kFull && wp != 0 && !zr.unplugged;
    const uint64_t plug_wp = plugged ? wp : rel;
    if (plug_wp >= cap || rel != plug_wp) {
      zr.unplugged = false;  // a plug that refused a write is kept, resynced by the report
      return p.err_write_plug;
    }
    zr.unplugged = plug_wp + len >= cap;
    return p.err_write_violation;
  };
  if (swr) {
    if (cond == ZC::kFull)
      return Error(append ? p.err_append_full : refused(), "zone {} is full", z);
    if (rel != wp)
      return Error(refused(), "write at {} is not at the write pointer {} of zone {}",
                   Hex(start + rel), Hex(start + wp), z);
  }
  if (append && rel + len > cap && p.err_write_plug) zr.unplugged = true;  // a write at the wp
  if (rel + len > cap)
    return Error(append ? p.err_append_violation : refused(),
                 "{} of {} bytes at {} exceeds the capacity of zone {} (ends at {})",
                 append ? "append" : "write", len, Hex(start + rel), z, Hex(start + cap));

  const uint64_t new_wp = std::max(wp, rel + len);
  const bool needs_open = cond == ZC::kEmpty || cond == ZC::kClosed;
  const bool fills = new_wp == cap;
  if (swr && !needs_open && !fills) {
    // Fast path: the zone stays open. A concurrent eviction may close it; set_wp keeps that.
    ZBL_RETURN_IF_ERROR(store(rel));
    zr.unplugged = false;
    zr.data_end.store(new_wp, std::memory_order_relaxed);
    zr.set_wp(new_wp);
    if (backing_) Notify(z);
    if (written_at) *written_at = start + rel;
    return Status::Ok();
  }

  std::lock_guard<std::mutex> res(res_mu_);
  // Stable now: conditions change only under res_mu_. The only change since the check above
  // can be an eviction (open -> CLOSED), handled like any closed zone.
  cond = zr.cond();
  ZC from = cond;
  if (cond == ZC::kEmpty || cond == ZC::kClosed) {
    ZBL_RETURN_IF_ERROR(AcquireOpen(z, cond, /*explicit_open=*/false));
    SetCond(z, cond, ZC::kImplicitOpen);
    cond = ZC::kImplicitOpen;
  }
  if (Status st = store(rel); !st.ok()) {
    SetCond(z, cond, from);  // undo the implicit open
    return st;
  }
  zr.unplugged = false;
  zr.data_end.store(std::max(zr.data_end.load(std::memory_order_relaxed), rel + len),
                    std::memory_order_relaxed);
  if (fills) {
    SetCond(z, cond, ZC::kFull);
    zr.set_wp(p.full_wp_after_write == FullWritePointer::kZoneEnd ? ZoneLen(z) : cap);
  } else {
    zr.set_wp(new_wp);
  }
  Notify(z);
  if (written_at) *written_at = start + rel;
  return Status::Ok();
}

Status Engine::Write(uint64_t offset, const void* buf, size_t len) {
  auto* src = static_cast<const uint8_t*>(buf);
  uint32_t z = static_cast<uint32_t>(offset / cfg_.zone_size);
  uint64_t rel = offset - uint64_t{z} * cfg_.zone_size;
  if (rel + len <= ZoneLen(z)) return WritePiece(z, rel, src, len, false, nullptr);

  // The request crosses zone boundaries.
  const uint32_t last = static_cast<uint32_t>((offset + len - 1) / cfg_.zone_size);
  bool all_conventional = true;
  for (uint32_t i = z; i <= last; ++i)
    all_conventional &= zones_[i].type == ZoneType::kConventional;
  if (!all_conventional && profile().cross_zone_write == CrossZoneWrite::kReject)
    return Error(profile().err_write_violation, "write of {} bytes at {} crosses zone boundaries",
                 len, Hex(offset));
  // Each zone's part is a request of its own, as after Linux's split at zone boundaries; the
  // errno the caller sees follows the profile (which failing piece's status survives).
  const bool last_wins = profile().split_write_errno == SplitErrno::kLastFailing;
  Status result;
  uint64_t done = 0;
  while (done < len) {
    uint64_t piece = std::min<uint64_t>(len - done, ZoneLen(z) - rel);
    Status st = WritePiece(z, rel, src + done, piece, false, nullptr);
    if (!st.ok() && (result.ok() || last_wins)) result = std::move(st);
    done += piece;
    ++z;
    rel = 0;
  }
  return result;
}

Result<uint64_t> Engine::Append(uint64_t zone_offset, const void* buf, size_t len) {
  uint32_t z = static_cast<uint32_t>(zone_offset / cfg_.zone_size);
  uint64_t at = 0;
  ZBL_RETURN_IF_ERROR(WritePiece(z, 0, static_cast<const uint8_t*>(buf), len, true, &at));
  return at;
}

Status Engine::ReadPiece(uint32_t z, uint64_t rel, uint8_t* dst, uint64_t len) {
  ZoneRt& zr = zones_[z];
  const Profile& p = profile();
  const uint64_t start = uint64_t{z} * cfg_.zone_size;
  std::lock_guard<std::mutex> lk(zr.mu);
  uint64_t valid;        // bytes from rel that hold written data
  uint64_t below_wp = len;  // bytes from rel below the write pointer (the rest: unwritten fill)
  if (zr.type == ZoneType::kConventional) {
    valid = len;
  } else {
    ZC cond = zr.cond();
    if (cond == ZC::kOffline) return Error(p.err_offline_read, "zone {} is offline", z);
    const uint64_t cap = ZoneCap(z);
    if (p.err_read_across_capacity && rel < cap && rel + len > cap)
      return Error(p.err_read_across_capacity,
                   "read of {} bytes at {} crosses the capacity end {} of zone {}", len,
                   Hex(start + rel), Hex(start + cap), z);
    uint64_t wp = cond == ZC::kReadOnly ? ZoneLen(z) : zr.wp();
    if (p.read_unwritten == ReadUnwritten::kError && rel + len > wp)
      return Error(EIO, "read of {} bytes at {} goes beyond the write pointer {} of zone {}", len,
                   Hex(start + rel), Hex(start + wp), z);
    uint64_t end = std::min(wp, zr.data_end.load(std::memory_order_relaxed));
    valid = end > rel ? std::min(len, end - rel) : 0;
    below_wp = wp > rel ? std::min(len, wp - rel) : 0;
  }
  if (valid) {
    if (backing_) {
      ZBL_RETURN_IF_ERROR(backing_->ReadData(start + rel, dst, valid));
    } else if (zr.data) {
      std::memcpy(dst, zr.data + rel, valid);
    } else {
      std::memset(dst, 0, valid);
    }
  }
  if (valid < below_wp) std::memset(dst + valid, 0, below_wp - valid);
  if (below_wp < len) {
    // Above the write pointer: the family's fill. Without stored data (null_blk
    // memory_backed=0 leaves the caller's buffer as it was) zeros stand in.
    const bool ones = p.read_unwritten == ReadUnwritten::kOnes && cfg_.store_data;
    std::memset(dst + std::max(valid, below_wp), ones ? 0xff : 0, len - std::max(valid, below_wp));
  }
  return Status::Ok();
}

Status Engine::Read(uint64_t offset, void* buf, size_t len) {
  auto* dst = static_cast<uint8_t*>(buf);
  uint32_t z = static_cast<uint32_t>(offset / cfg_.zone_size);
  uint64_t rel = offset - uint64_t{z} * cfg_.zone_size;
  uint64_t done = 0;
  while (done < len) {
    uint64_t piece = std::min<uint64_t>(len - done, ZoneLen(z) - rel);
    ZBL_RETURN_IF_ERROR(ReadPiece(z, rel, dst + done, piece));
    done += piece;
    ++z;
    rel = 0;
  }
  return Status::Ok();
}

// ---- queued writes ----

bool Engine::Queueable(uint64_t offset, size_t len) const {
  if (len == 0 || offset >= cfg_.size) return false;
  const uint32_t z = static_cast<uint32_t>(offset / cfg_.zone_size);
  const uint64_t rel = offset - uint64_t{z} * cfg_.zone_size;
  const ZoneType t = zones_[z].type;
  return backing_ && rel + len <= ZoneLen(z) &&
         (t == ZoneType::kConventional || t == ZoneType::kSequentialWriteRequired);
}

Result<WriteTicket> Engine::BeginWrite(uint64_t offset, size_t len, bool append) {
  const uint32_t z = static_cast<uint32_t>(offset / cfg_.zone_size);
  std::lock_guard<std::mutex> lk(zones_[z].mu);
  return BeginLocked(z, offset - uint64_t{z} * cfg_.zone_size, len, append);
}

Result<WriteTicket> Engine::BeginLocked(uint32_t z, uint64_t rel, uint64_t len, bool append) {
  ZoneRt& zr = zones_[z];
  const Profile& p = profile();
  const uint64_t start = uint64_t{z} * cfg_.zone_size;
  if (zr.type == ZoneType::kConventional) {
    if (append) return Error(p.err_conventional_op, "zone append to conventional zone {}", z);
    return WriteTicket{z, rel, len, start + rel, false};
  }
  if (zr.type != ZoneType::kSequentialWriteRequired)
    return Error(EINVAL, "zone {}: only sequential-write-required zones take queued writes", z);
  if (zr.broken_at != UINT64_MAX)
    return Error(EIO, "zone {}: a queued write at {} failed and {} later ones are still in flight", z,
                 Hex(start + zr.broken_at), zr.inflight.load(std::memory_order_relaxed));
  const uint64_t cap = ZoneCap(z);
  ZC cond = zr.cond();
  const uint64_t wp = zr.wp();
  if (cond == ZC::kReadOnly || cond == ZC::kOffline)
    return Error(p.err_read_only, "zone {} is {}", z, cond == ZC::kReadOnly ? "read-only" : "offline");
  if (append) rel = wp;
  const int violation = append ? p.err_append_violation : p.err_write_violation;
  if (cond == ZC::kFull) return Error(violation, "zone {} is full", z);
  if (rel != wp)
    return Error(p.err_write_violation, "write at {} is not at the write pointer {} of zone {}",
                 Hex(start + rel), Hex(start + wp), z);
  if (rel + len > cap)
    return Error(violation, "{} of {} bytes at {} exceeds the capacity of zone {} (ends at {})",
                 append ? "append" : "write", len, Hex(start + rel), z, Hex(start + cap));
  if (zr.inflight.load(std::memory_order_relaxed) == 0) zr.ahead.clear();
  if (cond == ZC::kEmpty || cond == ZC::kClosed) {
    std::lock_guard<std::mutex> res(res_mu_);
    cond = zr.cond();  // an eviction may have closed it meanwhile
    if (cond == ZC::kEmpty || cond == ZC::kClosed) {
      ZBL_RETURN_IF_ERROR(AcquireOpen(z, cond, /*explicit_open=*/false));
      SetCond(z, cond, ZC::kImplicitOpen);
    }
    zr.inflight.fetch_add(1, std::memory_order_relaxed);
    zr.set_wp(rel + len);
    Notify(z);
  } else {
    // The zone stays open and its persisted state does not change until data lands. A write
    // that reaches the capacity leaves the zone open with its write pointer there: later
    // writes are refused as past the capacity, and the zone becomes FULL in EndWrite.
    zr.inflight.fetch_add(1, std::memory_order_relaxed);
    zr.set_wp(rel + len);
  }
  return WriteTicket{z, rel, len, start + rel, true};
}

Status Engine::EndWrite(const WriteTicket& t, Status data) {
  if (!t.tracked) return data;
  ZoneRt& zr = zones_[t.zone];
  const uint64_t start = uint64_t{t.zone} * cfg_.zone_size;
  std::lock_guard<std::mutex> lk(zr.mu);
  uint64_t done = zr.data_end.load(std::memory_order_relaxed);
  if (!data.ok()) {
    zr.broken_at = std::min(zr.broken_at, t.rel);
  } else if (t.rel >= zr.broken_at) {
    data = Error(EIO, "zone {}: the queued write at {} failed, so this later one at {} is not kept",
                 t.zone, Hex(start + zr.broken_at), Hex(t.offset));
  } else if (t.rel == done) {
    done = t.rel + t.len;
    // Completed ranges past the prefix join it (few: at most the queue depths in flight).
    for (bool more = true; more;) {
      more = false;
      for (size_t i = 0; i < zr.ahead.size(); ++i) {
        if (zr.ahead[i].first == done) {
          done = zr.ahead[i].second;
          zr.ahead[i] = zr.ahead.back();
          zr.ahead.pop_back();
          more = true;
          break;
        }
      }
    }
    zr.data_end.store(done, std::memory_order_relaxed);
  } else {
    zr.ahead.emplace_back(t.rel, t.rel + t.len);
  }
  const uint32_t left = zr.inflight.fetch_sub(1, std::memory_order_relaxed) - 1;
  if (left == 0) {
    zr.ahead.clear();
    if (zr.broken_at != UINT64_MAX) {
      // Everything before the failed write completed: the zone resumes at the prefix's end.
      zr.broken_at = UINT64_MAX;
      if (zr.cond() != ZC::kFull) zr.set_wp(done);
    } else if (zr.wp() == ZoneCap(t.zone) && zr.cond() != ZC::kFull) {
      std::lock_guard<std::mutex> res(res_mu_);
      const ZC cond = zr.cond();  // stable under res_mu_
      if (cond != ZC::kFull) {
        SetCond(t.zone, cond, ZC::kFull);
        if (profile().full_wp_after_write == FullWritePointer::kZoneEnd) zr.set_wp(ZoneLen(t.zone));
      }
      Notify(t.zone);
      return data;
    }
  }
  Notify(t.zone);
  return data;
}

// ---- zone management ----

Status Engine::ZoneOpLocked(uint32_t z, ZoneOp op) {
  ZoneRt& zr = zones_[z];
  const Profile& p = profile();
  if (zr.type == ZoneType::kConventional)
    return Error(op == ZoneOp::kOpen || op == ZoneOp::kClose ? p.err_conventional_open_close
                                                             : p.err_conventional_op,
                 "zone {} on conventional zone {}", ToString(op), z);
  std::lock_guard<std::mutex> lk(zr.mu);
  std::lock_guard<std::mutex> res(res_mu_);
  const ZC cond = zr.cond();
  if (cond == ZC::kReadOnly || cond == ZC::kOffline)
    return Error(p.err_read_only, "zone {} on {} zone {}", ToString(op),
                 cond == ZC::kReadOnly ? "read-only" : "offline", z);
  auto inapplicable = [&](Inapplicable rule) {
    if (rule == Inapplicable::kNoop) return Status::Ok();
    return Error(p.err_invalid_transition, "zone {} of zone {} is not allowed from {}", ToString(op),
                 z, ToString(cond));
  };
  switch (op) {
    case ZoneOp::kOpen:
      switch (cond) {
        case ZC::kExplicitOpen: return Status::Ok();
        case ZC::kEmpty:
        case ZC::kClosed: ZBL_RETURN_IF_ERROR(AcquireOpen(z, cond, true)); break;
        case ZC::kImplicitOpen: break;
        case ZC::kFull: return inapplicable(p.open_full);
        default: return inapplicable(Inapplicable::kError);
      }
      SetCond(z, cond, ZC::kExplicitOpen);
      break;
    case ZoneOp::kClose:
      switch (cond) {
        case ZC::kClosed: return Status::Ok();
        case ZC::kImplicitOpen:
        case ZC::kExplicitOpen:
          SetCond(z, cond, zr.wp() == 0 ? p.close_at_start : ZC::kClosed);
          break;
        case ZC::kEmpty: return inapplicable(p.close_empty);
        case ZC::kFull: return inapplicable(p.close_full);
        default: return inapplicable(Inapplicable::kError);
      }
      break;
    case ZoneOp::kFinish:
      switch (cond) {
        case ZC::kFull: return Status::Ok();
        case ZC::kEmpty:
        case ZC::kClosed:
          if (p.finish_needs_resources) ZBL_RETURN_IF_ERROR(AcquireOpen(z, cond, true));
          break;
        case ZC::kImplicitOpen:
        case ZC::kExplicitOpen: break;
        default: return inapplicable(Inapplicable::kError);
      }
      SetCond(z, cond, ZC::kFull);
      zr.set_wp(p.full_wp_after_finish == FullWritePointer::kZoneEnd ? ZoneLen(z) : ZoneCap(z));
      break;
    case ZoneOp::kReset:
      if (cond == ZC::kEmpty) return Status::Ok();
      if (uint32_t n = zr.inflight.load(std::memory_order_relaxed))
        return Error(EBUSY, "zone {} has {} queued writes in flight: reap them before the reset", z, n);
      // A persistent backing makes the reset durable here (the EMPTY record, synced): if it
      // cannot, the reset fails with the zone unchanged, or a power cut would undo a reset that
      // was acknowledged.
      if (backing_) ZBL_RETURN_IF_ERROR(backing_->DiscardZone(z, uint64_t{z} * cfg_.zone_size, ZoneLen(z)));
      SetCond(z, cond, ZC::kEmpty);
      zr.unplugged = false;
      zr.set_wp(0);
      zr.data_end.store(0, std::memory_order_relaxed);
      ReleaseBuffer(zr, z);
      break;
  }
  Notify(z);
  return Status::Ok();
}

Status Engine::ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) {
  const uint32_t first = static_cast<uint32_t>(offset / cfg_.zone_size);
  const uint32_t last = static_cast<uint32_t>((offset + len - 1) / cfg_.zone_size);
  // As Linux's blkdev_zone_mgmt: one command per zone, all issued, the first error returned.
  Status result;
  for (uint32_t z = first; z <= last && z < nr_zones_; ++z) {
    Status st = ZoneOpLocked(z, op);
    if (!st.ok() && result.ok()) result = std::move(st);
  }
  return result;
}

Status Engine::ResetAll() {
  // Every zone is tried; the first error (a backing that could not make a reset durable) is
  // returned. READONLY/OFFLINE zones would refuse, so they are skipped.
  Status result;
  for (uint32_t z = 0; z < nr_zones_; ++z) {
    if (zones_[z].type == ZoneType::kConventional) continue;
    ZC c = zones_[z].cond();
    if (c == ZC::kEmpty || c == ZC::kReadOnly || c == ZC::kOffline) continue;
    Status st = ZoneOpLocked(z, ZoneOp::kReset);
    if (!st.ok() && result.ok()) result = std::move(st);
  }
  return result;
}

Status Engine::Flush() { return backing_ ? backing_->Flush() : Status::Ok(); }

Result<size_t> Engine::Report(uint64_t offset, std::span<Zone> out) const {
  if (cfg_.model == ZoneModel::kNone) return Error(ENOTSUP, "zone report on a non-zoned device");
  uint64_t z = offset / cfg_.zone_size;
  size_t n = 0;
  const Profile& p = profile();
  for (; z < nr_zones_ && n < out.size(); ++z, ++n) {
    const ZoneRt& zr = zones_[z];
    Zone& d = out[n];
    d.start = z * cfg_.zone_size;
    d.length = ZoneLen(static_cast<uint32_t>(z));
    d.type = zr.type;
    if (zr.type == ZoneType::kConventional) {
      d.capacity = d.length;
      d.write_pointer = p.conventional_wp == ConventionalWp::kNone ? kInvalidWritePointer
                                                                    : d.start + d.length;
      d.condition = ZC::kNotWritePointer;
      continue;
    }
    uint64_t s = zr.state.load(std::memory_order_acquire);
    d.capacity = std::min(zone_cap_, d.length);
    d.condition = CondOf(s);
    if (d.condition == ZC::kReadOnly || d.condition == ZC::kOffline)
      d.write_pointer = kInvalidWritePointer;
    else
      d.write_pointer = d.start + WpOf(s);
  }
  return n;
}

ZoneState Engine::GetZoneState(uint32_t zone) const {
  const ZoneRt& zr = zones_[zone];
  uint64_t s = zr.state.load(std::memory_order_acquire);
  return {CondOf(s), WpOf(s), zr.data_end.load(std::memory_order_relaxed)};
}

Status Engine::RestoreZone(uint32_t zone, ZoneState st) {
  if (zone >= nr_zones_) return Error(EINVAL, "restore: zone {} does not exist", zone);
  ZoneRt& zr = zones_[zone];
  if (zr.type == ZoneType::kConventional) return Status::Ok();
  if (st.wp > ZoneLen(zone) || st.data_end > ZoneCap(zone))
    return Error(EINVAL, "restore: zone {} write pointer {} is out of range", zone, Hex(st.wp));
  // After a power cycle open zones come back closed (or empty when nothing was written).
  ZC c = st.cond;
  if (IsOpen(c)) c = st.wp == 0 ? ZC::kEmpty : ZC::kClosed;
  std::lock_guard<std::mutex> lk(zr.mu);
  std::lock_guard<std::mutex> res(res_mu_);
  SetCond(zone, zr.cond(), c);
  zr.unplugged = true;  // a power cycle leaves Linux no zone write plug
  zr.set_wp(st.wp);
  zr.data_end.store(st.data_end, std::memory_order_relaxed);
  return Status::Ok();
}

Engine::Counts Engine::counts() const {
  std::lock_guard<std::mutex> res(res_mu_);
  return {imp_open_, exp_open_, closed_};
}

}  // namespace zbl::emulated
