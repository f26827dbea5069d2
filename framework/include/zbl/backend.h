// The backend: the one entry point for users of zbl (tools, suites, benchmarks).
//
// Every request is validated here once, before it reaches a driver: alignment to the logical
// block size, range inside the device, zone alignment and whole zones for management, the
// zoned model supports the command, append size and target. Errors are returned as values.
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zbl/limits.h"
#include "zbl/queue.h"
#include "zbl/status.h"
#include "zbl/types.h"

namespace zbl {

class Node;

struct BackendStats {
  uint64_t reads = 0, writes = 0, appends = 0, flushes = 0, reports = 0, zone_ops = 0;
  uint64_t bytes_read = 0, bytes_written = 0;
  uint64_t errors = 0;
};

class Backend {
 public:
  // Opens a device from an option string ("driver=raw,file.driver=emulated,file.model=hm").
  static Result<std::unique_ptr<Backend>> Open(std::string_view option_string);
  // Takes an already opened node tree.
  static Result<std::unique_ptr<Backend>> FromNode(std::unique_ptr<Node> root);
  ~Backend();

  const Limits& limits() const { return limits_; }
  uint64_t size() const { return limits_.size; }
  ZoneModel model() const { return limits_.model; }
  const std::string& option_string() const { return option_string_; }

  Status Read(uint64_t offset, void* buf, size_t len);
  Status Write(uint64_t offset, const void* buf, size_t len);
  Status Flush();

  // Up to `max_zones` descriptors from the zone containing `offset` (0 = up to the end).
  Result<std::vector<Zone>> ReportZones(uint64_t offset, uint32_t max_zones);
  // The allocation-free form: fills `out`, returns the count.
  Result<size_t> ReportZones(uint64_t offset, std::span<Zone> out);
  // Zone management on whole zones [offset, offset+len). A reset of the whole device is a
  // reset-all; a range that starts in a conventional zone (other than the whole device) is
  // refused with EIO, as QEMU's block layer does.
  Status ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len);
  Status ZoneResetAll();
  // Appends to the zone starting at `zone_offset`; returns the byte offset written.
  Result<uint64_t> ZoneAppend(uint64_t zone_offset, const void* buf, size_t len);

  // An asynchronous queue (validated like the synchronous calls); see zbl/queue.h.
  Result<std::unique_ptr<IoQueue>> CreateQueue(unsigned depth);

  // Zone index and start of the zone containing `offset` (zoned models only).
  uint64_t ZoneIndex(uint64_t offset) const { return offset / limits_.zone_size; }
  uint64_t ZoneStart(uint64_t index) const { return index * limits_.zone_size; }

  // The driver graph, model, limits and geometry as text lines ("info").
  std::string Describe() const;
  // The driver graph in one line: "raw -> emulated".
  std::string GraphString() const;
  Node& root() { return *root_; }
  BackendStats stats() const;

  // Request checks, exposed so queues and tests use the same rules.
  Status CheckIo(uint64_t offset, size_t len, std::string_view what) const;
  Status CheckZoneRange(uint64_t offset, uint64_t len, std::string_view what) const;
  // A zone append must target the start of a sequential zone: a conventional zone's is refused
  // with EINVAL, as QEMU's block layer answers for every device (measured with qemu-io 10 on
  // kernel null_blk and scsi_debug ZBC, ci/vm/errno-cells.sh).
  Status CheckAppend(uint64_t zone_offset, size_t len) const;
  // A write longer than max_transfer reaches a zoned device in pieces (Linux splits it), and the
  // pieces before a refused one stay written. Such a write is checked against the zones it
  // covers first (one report), so that a write the device would refuse changes nothing.
  Status CheckSplitWrite(uint64_t offset, size_t len) const;

 private:
  explicit Backend(std::unique_ptr<Node> root);
  struct Counters;
  struct ConventionalZones;
  // Whether zone `zone` is conventional; false when the device's zone report failed.
  bool IsConventional(uint64_t zone) const;

  std::unique_ptr<Node> root_;
  Limits limits_;
  std::string option_string_;
  std::unique_ptr<Counters> counters_;
  // Which zones are conventional (types never change), read on the first append: CheckAppend.
  std::unique_ptr<ConventionalZones> conventional_;
};

}  // namespace zbl
