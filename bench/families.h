// Registers every benchmark family for every configuration (devices known only at run time,
// hence RegisterBenchmark rather than BENCHMARK macros).
#pragma once

#include <vector>

#include "configs.h"

namespace zbl::bench {

void RegisterAll(const std::vector<BenchConfig>& cfgs);

}  // namespace zbl::bench
