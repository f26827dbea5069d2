// Baseline comparison: what got worse (or better) between an old results folder and new ones.
//
// Tests match on (configuration, suite, rule); benchmarks on their name without Google
// Benchmark's bookkeeping segments (BenchRun::key), so a changed repetition count still matches.
// With several new folders (a fleet), the machine is part of the key: a new result's machine is its
// folder's label, an old result's machine is the first folder of its path inside the baseline
// folder (a fleet baseline is one folder holding one subfolder per machine, named like the new
// folders). Regressions: rules now failing that did not fail before (new rules included), rules
// now skipped that ran before, rules that passed before and are now missing (a crashed test
// binary writes no JSON), benchmarks slower than the threshold or newly erroring.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "results.h"

namespace zbl::report {

struct StatusChange {
  std::string machine;  // "" unless comparing a fleet
  std::string config, suite, rule;
  std::string before, after;  // "pass", "fail", "skip" or "absent"
  std::string message;        // the new failure message or skip reason
};

struct BenchChange {
  std::string machine;
  std::string name;
  std::string metric;  // "bytes_per_second", "items_per_second", "real_time_ns" or "error"
  double before = 0, after = 0;
  double slower_pct = 0;  // how much slower, in percent (> threshold)
  std::string note;       // the error message for a newly failing benchmark
};

struct Regressions {
  double threshold_pct = 10;
  std::vector<StatusChange> newly_failing, newly_skipped, vanished, fixed;
  std::vector<BenchChange> slower;
  size_t compared_tests = 0, compared_benchmarks = 0;

  // Everything except "fixed" counts.
  size_t Count() const {
    return newly_failing.size() + newly_skipped.size() + vanished.size() + slower.size();
  }
};

Regressions CompareRuns(const std::vector<Source>& before, const std::vector<Source>& after,
                        double threshold_pct);

// Parses "10%", "10" or "2.5%" into percent; nullopt for anything else or a negative value.
std::optional<double> ParseThreshold(std::string_view text);

}  // namespace zbl::report
