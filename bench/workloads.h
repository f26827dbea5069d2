// Pieces shared by the benchmark families: aligned buffers, the writable zones of a device,
// latency percentiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "zbl/backend.h"
#include "zbl/status.h"
#include "zbl/types.h"

namespace zbl::bench {

// A page-aligned buffer (O_DIRECT-safe) filled with a non-zero pattern.
class Buffer {
 public:
  explicit Buffer(size_t len);
  uint8_t* data() const { return p_.get(); }
  size_t size() const { return len_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> p_;
  size_t len_;
};

// Zones a benchmark may write: sequential (write pointer) zones that are neither read-only nor
// offline and hold at least `min_capacity` bytes. At most `want` of them, in device order.
Result<std::vector<Zone>> WritableZones(Backend& dev, size_t want, uint64_t min_capacity);

// The smallest write the device accepts (request alignment or write granularity).
uint32_t MinWrite(const Backend& dev);

// p (0..100) percentile of `samples` (sorted in place); 0 when empty.
int64_t Percentile(std::vector<int64_t>& samples, double p);

}  // namespace zbl::bench
