// zbl-bench: Google Benchmark microbenchmarks of zbl devices. Runs the built-in configurations
// and the device in ZBL_DEVICE (writes only with ZBL_ALLOW_DESTRUCTIVE=1). Every flag of Google
// Benchmark applies (--benchmark_filter, --benchmark_out=... --benchmark_out_format=json).
#include <benchmark/benchmark.h>

#include "configs.h"
#include "families.h"
#include "zbl/version.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("zbl_version", std::string(zbl::Version()));
  benchmark::AddCustomContext("zbl_commit", std::string(zbl::Commit()));
  const auto cfgs = zbl::bench::DefaultConfigs();
  zbl::bench::RegisterAll(cfgs);
  const size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  zbl::bench::CloseAllDevices(cfgs);
  // A filter that matches nothing is a mistake (a renamed benchmark), not an empty success.
  return ran == 0 ? 1 : 0;
}
