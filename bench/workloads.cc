#include "workloads.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace zbl::bench {

Buffer::Buffer(size_t len) : len_(len) {
  const size_t alloc = (std::max<size_t>(len, 1) + 4095) / 4096 * 4096;
  p_.reset(static_cast<uint8_t*>(std::aligned_alloc(4096, alloc)));
  if (p_) std::memset(p_.get(), 0xa5, alloc);
}

Result<std::vector<Zone>> WritableZones(Backend& dev, size_t want, uint64_t min_capacity) {
  auto zones = dev.ReportZones(0, 0);
  if (!zones.ok()) return zones.status();
  std::vector<Zone> out;
  for (const Zone& z : *zones) {
    if (out.size() >= want) break;
    if (z.type == ZoneType::kConventional) continue;
    if (z.condition == ZoneCondition::kReadOnly || z.condition == ZoneCondition::kOffline) continue;
    if (z.capacity < min_capacity) continue;
    out.push_back(z);
  }
  if (out.empty())
    return Error(ENOSPC, "no writable sequential zone of at least {} bytes", min_capacity);
  return out;
}

uint32_t MinWrite(const Backend& dev) {
  const Limits& l = dev.limits();
  return std::max(l.request_alignment, l.write_granularity);
}

int64_t Percentile(std::vector<int64_t>& samples, double p) {
  if (samples.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
  const size_t idx = std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(idx), samples.end());
  return samples[idx];
}

}  // namespace zbl::bench
