// The devices the benchmarks run on: a built-in list of configurations plus the device named by
// ZBL_DEVICE, each opened once and shared by every benchmark of its configuration.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "zbl/backend.h"
#include "zbl/status.h"

namespace zbl::bench {

struct BenchConfig {
  std::string name;     // second segment of every benchmark name: "emulated_hm_64m"
  std::string options;  // option string, as the suites and zbl-io take it
  // A real device: writes and zone management only with ZBL_ALLOW_DESTRUCTIVE=1.
  bool user_device = false;
  // Has an asynchronous queue of its own (io_uring), so queue-depth variants mean something.
  bool queue_capable = false;
  // Data lives in process memory: benchmarks warm a zone (fill and reset it once, untimed) so
  // that they measure the steady state of recycled zone buffers, not first-touch page faults.
  bool in_memory = false;
  // Why the configuration cannot run in this build or environment ("" = it can).
  std::string skip_reason;
  // Files created for the configuration, removed at exit.
  std::vector<std::string> scratch_files;
};

// Built-in configurations, then ZBL_DEVICE when set.
std::vector<BenchConfig> DefaultConfigs();

// Whether writes and zone management are allowed on `cfg`.
bool DestructiveAllowed(const BenchConfig& cfg);

// The shared, lazily opened device of `cfg` (thread-safe). Errors are cached: a device that
// failed to open is not retried by every benchmark.
Result<Backend*> Device(const BenchConfig& cfg);

// Closes every device and removes scratch files.
void CloseAllDevices(const std::vector<BenchConfig>& cfgs);

}  // namespace zbl::bench
