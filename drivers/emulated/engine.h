// The zone state machine and its data, written once and shared by every userspace device
// (driver=emulated, null_blk's user twin, and the persistent emulated device over a file).
//
// Locking: each zone has its own mutex for its data and write pointer; conditions and the
// open/active counts change under one resource mutex, always taken after a zone mutex. A write
// into an already open zone that does not fill it takes only its zone's mutex. Reports read
// each zone's packed (condition, write pointer) word without locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "profile.h"
#include "zbl/limits.h"
#include "zbl/status.h"
#include "zbl/types.h"

namespace zbl::emulated {

struct EngineConfig {
  ZoneModel model = ZoneModel::kHostManaged;
  uint64_t size = uint64_t{1} << 30;
  uint64_t zone_size = uint64_t{64} << 20;  // also the internal chunk of a NONE device
  uint64_t zone_capacity = 0;               // 0 = zone_size
  uint32_t conventional_zones = 0;
  uint32_t max_open_zones = 0;
  uint32_t max_active_zones = 0;
  uint64_t max_append_bytes = uint64_t{1} << 20;
  uint32_t block_size = 4096;
  std::vector<uint64_t> read_only_zones;
  std::vector<uint64_t> offline_zones;
  const Profile* profile = &NullBlkProfile();
  // false: data is discarded and reads return zeros (null_blk memory_backed=0).
  bool store_data = true;
  // Zone buffers freed by reset are kept for reuse up to this many bytes (0 = none).
  uint64_t recycle_bytes = uint64_t{256} << 20;

  // Checks geometry; the message names the option ("zone-capacity ...").
  Status Validate() const;
};

// Where data and zone state go when the device is persistent (the emulated device over a
// file). Without one, data lives in memory. Calls come with the zone's lock held (or the
// resource lock, for a zone closed to make room), so implementations need no locking per zone.
class EngineBacking {
 public:
  virtual ~EngineBacking() = default;
  virtual Status WriteData(uint64_t offset, const void* buf, size_t len) = 0;
  virtual Status ReadData(uint64_t offset, void* buf, size_t len) = 0;
  // The zone is being reset: make that durable, then its data may be dropped (punch a hole).
  // Called before the engine changes the zone; an error fails the reset with the zone
  // unchanged, so only errors that leave the reset not durable should be returned.
  virtual Status DiscardZone(uint32_t zone, uint64_t offset, uint64_t len) = 0;
  // The zone's condition or write pointer changed (wp relative to the zone start).
  virtual void ZoneChanged(uint32_t zone, ZoneCondition cond, uint64_t wp, uint64_t data_end) = 0;
  virtual Status Flush() = 0;
};

// A zone's persisted state, for restoring a device (write pointers relative to zone start).
struct ZoneState {
  ZoneCondition cond;
  uint64_t wp;
  uint64_t data_end;
};

// A write accepted by Engine::BeginWrite whose data the caller moves itself (the persistent
// device's queue, persist_queue.cc), then hands back to Engine::EndWrite exactly once.
struct WriteTicket {
  uint32_t zone = 0;
  uint64_t rel = 0;       // offset in the zone
  uint64_t len = 0;
  uint64_t offset = 0;    // device offset of the data (an append's result)
  bool tracked = false;   // a sequential zone: EndWrite accounts it
};

class Engine {
 public:
  // Builds the device; `backing` may be null (memory).
  static Result<std::unique_ptr<Engine>> Create(const EngineConfig& cfg,
                                                 EngineBacking* backing = nullptr);
  ~Engine();

  const EngineConfig& config() const { return cfg_; }
  const Profile& profile() const { return *cfg_.profile; }
  Limits limits() const;
  uint32_t nr_zones() const { return nr_zones_; }

  Status Read(uint64_t offset, void* buf, size_t len);
  Status Write(uint64_t offset, const void* buf, size_t len);
  Result<uint64_t> Append(uint64_t zone_offset, const void* buf, size_t len);
  Result<size_t> Report(uint64_t offset, std::span<Zone> out) const;
  Status ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len);
  Status ResetAll();
  Status Flush();

  // Queued writes (a persistent backing only). BeginWrite checks a write or append against the
  // zone as every write accepted before it left the zone (condition, write pointer, capacity,
  // resources) and moves the write pointer past it at once: writes and appends to one zone take
  // consecutive offsets in the order they are begun, while their data moves in parallel. The
  // zone's data_end (and so what reads return and what the backing persists) advances only over
  // the completed prefix; a zone filled by queued writes becomes FULL when the last of them
  // completes. A data write that fails makes every later write of the zone still in flight fail
  // too, refuses new ones with EIO until they are all back, then sets the write pointer back to
  // the end of the completed prefix. A reset of a zone with queued writes in flight is refused
  // (EBUSY). Only a request inside one conventional or sequential-write-required zone can be
  // queued (Queueable); the rest go through Write/Append.
  bool Queueable(uint64_t offset, size_t len) const;
  Result<WriteTicket> BeginWrite(uint64_t offset, size_t len, bool append);
  // `data` is the outcome of moving the ticket's data; returns the request's status.
  Status EndWrite(const WriteTicket& t, Status data);

  // Current state of one zone (tests and persistence).
  ZoneState GetZoneState(uint32_t zone) const;
  // Sets a zone's state before use (restore after reopen). Open zones come back CLOSED.
  Status RestoreZone(uint32_t zone, ZoneState st);
  // Counts of zones per condition, as the resource accounting sees them.
  struct Counts {
    uint32_t imp_open = 0, exp_open = 0, closed = 0;
  };
  Counts counts() const;
  // Bytes of memory held by zone buffers (sparse accounting).
  uint64_t resident_bytes() const { return resident_.load(std::memory_order_relaxed); }

 private:
  struct ZoneRt;
  Engine(const EngineConfig& cfg, EngineBacking* backing);

  uint64_t ZoneLen(uint32_t z) const;
  uint64_t ZoneCap(uint32_t z) const;
  Status WritePiece(uint32_t z, uint64_t rel, const uint8_t* src, uint64_t len, bool append,
                    uint64_t* written_at);
  Status ReadPiece(uint32_t z, uint64_t rel, uint8_t* dst, uint64_t len);
  // BeginWrite for zone z with zr.mu held (lk); may take res_mu_.
  Result<WriteTicket> BeginLocked(uint32_t z, uint64_t rel, uint64_t len, bool append);
  Status ZoneOpLocked(uint32_t z, ZoneOp op);
  // Resource accounting, under res_mu_.
  Status AcquireOpen(uint32_t z, ZoneCondition from, bool explicit_open);
  void SetCond(uint32_t z, ZoneCondition from, ZoneCondition to);
  bool EvictOne();
  void Notify(uint32_t z);
  // Zone data buffers.
  Status EnsureBuffer(ZoneRt& zr, uint32_t z);
  void ReleaseBuffer(ZoneRt& zr, uint32_t z);

  EngineConfig cfg_;
  EngineBacking* backing_;
  uint32_t nr_zones_ = 0;
  uint64_t zone_cap_ = 0;
  std::unique_ptr<ZoneRt[]> zones_;

  mutable std::mutex res_mu_;
  uint32_t imp_open_ = 0, exp_open_ = 0, closed_ = 0;
  std::set<uint32_t> imp_open_zones_;           // by number (round-robin, lowest)
  std::map<uint64_t, uint32_t> imp_open_order_;  // by time of implicit open (oldest)
  uint64_t open_seq_ = 0;
  uint32_t rr_next_ = 0;

  std::mutex pool_mu_;
  std::vector<uint8_t*> pool_;
  uint64_t pool_bytes_ = 0;
  std::atomic<uint64_t> resident_{0};
};

}  // namespace zbl::emulated
