// The catalogue of invalid requests: one table, shared by the BadInput suite and by fuzzers.
//
// Each case names a class of invalid request, builds it for a given device (or says it does
// not apply), and states the errno it must return and a fragment its message must contain
// (case-insensitive; empty when the message is the device's own, e.g. a kernel's EIO). Every
// case must leave the device unchanged: no data written, no zone condition or pointer moved.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "zbl/backend.h"
#include "zbl/types.h"

namespace zbl::bad_input {

// The device a request is built for, and the zones prepared before each case.
struct Target {
  Limits limits;
  uint32_t conventional_zone = 0;  // a conventional zone, valid when has_conventional
  bool has_conventional = false;
  uint64_t capacity = 0;           // capacity of the sequential zones
  // Sequential zones prepared by Prepare(): one with two blocks written (implicitly open), one
  // FULL (finished), one EMPTY. Valid when has_sequential.
  bool has_sequential = false;
  uint32_t open_zone = 0, full_zone = 0, empty_zone = 0;
  std::optional<uint32_t> read_only_zone, offline_zone;
};

struct Request {
  enum class Kind : uint8_t { kRead, kWrite, kAppend, kZoneMgmt, kResetAll, kReport, kQueue };
  Kind kind = Kind::kRead;
  uint64_t offset = 0;
  uint64_t len = 0;  // bytes; zone count for kReport; depth for kQueue
  ZoneOp op = ZoneOp::kOpen;
};

struct Case {
  std::string_view name;   // unique, snake_case
  std::string_view cls;    // the rule it belongs to: io_alignment, io_range, zone_range, ...
  // The request for this device, or nullopt when the case does not apply to it.
  std::optional<Request> (*build)(const Target&);
  int expected_errno;
  std::string_view fragment;
  // The SCSI ZBC family's errno where it differs, 0 = the same: Linux 6.12 surfaces a write
  // the device refuses as EREMOTEIO (a check condition) and one its zone write plug refuses
  // first as EIO (drivers/emulated/profile.h, measured by ci/vm/errno-cells.sh).
  int zbc_errno = 0;
  // The family cell (families.h) whose answer this errno is, "" = none: its variants on the
  // kernel the device answers through replace expected_errno / zbc_errno for a device held to
  // a family (a write Linux 6.12's zone write plug refuses is write_plug_errno: EIO there, the
  // ZBC disk's EREMOTEIO on 6.1, which has no plug).
  std::string_view cell = "";
};

// Every case, in a fixed order.
std::span<const Case> Catalogue();
// The classes, in order of first appearance.
std::span<const std::string_view> Classes();

// Finds the zones a Target needs (a small report) and puts them in the prepared state:
// resets the chosen sequential zones, writes two blocks to one and finishes another.
Result<Target> Prepare(Backend& dev);
// Runs the request (buffers allocated here); the status is what the device returned.
Status Execute(Backend& dev, const Request& req);
std::string Describe(const Request& req);

}  // namespace zbl::bad_input
