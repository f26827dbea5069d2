// zbl-ublk's kernel-independent half: what the kernel will be told about a Backend (and whether
// it would accept it), and how one ublk request becomes Backend calls. The kernel half
// (ublk.cc) only moves descriptors and bytes; everything here is testable without root.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ublk_abi.h"
#include "zbl/backend.h"
#include "zbl/status.h"

namespace zbl::ublk {

struct ServeOptions {
  unsigned queues = 1;
  unsigned depth = 64;
  uint32_t max_io = 512 * 1024;  // bytes; a multiple of 4096, at most 32 MiB
};

// What the device looks like to Linux.
struct Plan {
  bool zoned = false;      // served with kFlagZoned (host-managed zones)
  uint32_t lbs = 512;      // logical block size given to the kernel
  uint32_t max_io = 0;     // bytes per request
  uint32_t zone_size = 0;  // bytes (zoned)
  uint32_t nr_zones = 0;
  uint32_t seq_zones = 0;
  uint32_t conventional_zones = 0;
  uint64_t zone_capacity = 0;      // of the sequential zones
  Params params{};                 // ready for SET_PARAMS
  std::vector<std::string> notes;  // said once at start (host-aware served flat, limits dropped)
};

// Checks the device against what Linux accepts for a ublk device and builds the parameters.
// Refusals are EINVAL with one line naming the rule: a zone size that is not a power of two, a
// partial last zone, no sequential zone, sequential zones of different capacities, zone append
// of 0 bytes, a zone report (64 bytes a zone) larger than the max I/O size. model=ha is planned
// as a regular disk (Linux rejects host-aware zones) and model=none as one, with a note.
Result<Plan> MakePlan(Backend& dev, const ServeOptions& o);

// A one-line description of the plan ("zoned: 256 zones of 4 MiB ...").
std::string Describe(const Plan& p, const Backend& dev);

// Where a request's data lives: the kernel's request buffer (pread/pwrite on /dev/ublkcN in the
// server, memory in tests). Both return bytes moved or -errno.
class DataChannel {
 public:
  virtual ~DataChannel() = default;
  virtual long ToKernel(const void* buf, size_t len) = 0;
  virtual long FromKernel(void* buf, size_t len) = 0;
};

struct Reply {
  int32_t result = 0;          // bytes done, or -errno
  uint64_t append_sector = 0;  // kOpZoneAppend: the sector the data went to
};

// Serves one request. `scratch` is the caller's buffer (grown to the request's size). Thread
// safe for distinct scratch buffers (the Backend is).
Reply Handle(Backend& dev, const Plan& plan, const IoDesc& desc, DataChannel& data,
             std::vector<unsigned char>& scratch);

}  // namespace zbl::ublk
