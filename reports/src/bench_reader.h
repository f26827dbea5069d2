// Reads Google Benchmark JSON (--benchmark_out=FILE --benchmark_out_format=json) into BenchRuns.
//
// Names: "<Family>/<configuration>/<key>:<value>/..." as zbl's bench registers them; Google
// Benchmark then appends its own segments (bare args, "threads:N", "real_time", "repeats:N",
// "iterations:N", "min_time:X") and, for repetitions, one entry per repetition plus aggregates
// named "<run>_mean", "_median", "_stddev", "_cv" (and user-defined ones). Each run is reduced to
// one value set: the median aggregate if present, else the mean, else the average of the
// repetitions, else the single run; "stat" says which.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

#include "diagnostics.h"
#include "results.h"

namespace zbl::report {

struct BenchName {
  std::string family;
  std::string config;
  std::map<std::string, std::string> params;
};

// Splits a run name (no aggregate suffix). Google Benchmark's bookkeeping segments are dropped,
// except threads:N which is a parameter worth charting.
BenchName SplitBenchName(std::string_view run_name);

// Converts a time in `unit` ("ns", "us", "ms", "s") to nanoseconds; nullopt for unknown units.
std::optional<double> ToNanoseconds(double value, std::string_view unit);

void ReadBenchmark(const nlohmann::json& doc, const std::string& file, const std::string& rel,
                   Source& src, Diagnostics& diag);

}  // namespace zbl::report
