#include "baseline.h"

#include <map>
#include <tuple>

#include "fields.h"

namespace zbl::report {

namespace {

using TestKey = std::tuple<std::string, std::string, std::string, std::string>;
using BenchKey = std::pair<std::string, std::string>;

std::string FirstFolder(const std::string& rel) {
  size_t slash = rel.find('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

// The machine part of a key: see the header.
std::string Machine(const Source& src, const std::string& rel, bool fleet, bool is_baseline) {
  if (!fleet) {
    return {};
  }
  return is_baseline ? FirstFolder(rel) : src.label;
}

std::map<TestKey, const TestResult*> IndexTests(const std::vector<Source>& sources, bool fleet,
                                                bool is_baseline) {
  std::map<TestKey, const TestResult*> index;
  for (const Source& s : sources) {
    for (const TestResult& t : s.tests) {
      index[{Machine(s, t.file, fleet, is_baseline), t.config, t.suite, t.rule}] = &t;
    }
  }
  return index;
}

std::map<BenchKey, const BenchRun*> IndexBenchmarks(const std::vector<Source>& sources, bool fleet,
                                                    bool is_baseline) {
  std::map<BenchKey, const BenchRun*> index;
  for (const Source& s : sources) {
    for (const BenchRun& b : s.benchmarks) {
      index[{Machine(s, b.file, fleet, is_baseline), b.key}] = &b;
    }
  }
  return index;
}

StatusChange MakeChange(const TestKey& key, const char* before, const char* after,
                        std::string message) {
  auto& [machine, config, suite, rule] = key;
  return {machine, config, suite, rule, before, after, std::move(message)};
}

void ClassifyTest(const TestKey& key, const TestResult* old, const TestResult* now,
                  Regressions& out) {
  const char* before = old ? OutcomeName(old->outcome) : "absent";
  if (!now) {
    if (old->outcome == Outcome::kPass) {
      out.vanished.push_back(MakeChange(key, before, "absent", {}));
    }
    return;
  }
  const char* after = OutcomeName(now->outcome);
  bool was_fail = old && old->outcome == Outcome::kFail;
  bool was_run = old && old->outcome != Outcome::kSkip;
  if (now->outcome == Outcome::kFail && !was_fail) {
    out.newly_failing.push_back(MakeChange(key, before, after, now->message));
  } else if (now->outcome == Outcome::kSkip && was_run) {
    out.newly_skipped.push_back(MakeChange(key, before, after, now->message));
  } else if (now->outcome == Outcome::kPass && was_fail) {
    out.fixed.push_back(MakeChange(key, before, after, {}));
  }
}

// Compares the best metric both runs have: throughput (higher is better) before time.
std::optional<BenchChange> CompareBench(const BenchRun& old, const BenchRun& now) {
  BenchChange c;
  c.name = now.name;
  auto pick = [&](const char* metric, std::optional<double> a, std::optional<double> b,
                  bool higher_is_better) {
    if (!a || !b || *a <= 0) {
      return false;
    }
    c.metric = metric;
    c.before = *a;
    c.after = *b;
    c.slower_pct = higher_is_better ? (*a - *b) / *a * 100 : (*b - *a) / *a * 100;
    return true;
  };
  if (pick("bytes_per_second", old.bytes_per_second, now.bytes_per_second, true) ||
      pick("items_per_second", old.items_per_second, now.items_per_second, true) ||
      pick("real_time_ns", old.real_time_ns, now.real_time_ns, false)) {
    return c;
  }
  return std::nullopt;
}

void CompareBenchmarks(const std::vector<Source>& before, const std::vector<Source>& after,
                       bool fleet, Regressions& out) {
  auto old_index = IndexBenchmarks(before, fleet, true);
  for (const auto& [key, now] : IndexBenchmarks(after, fleet, false)) {
    auto it = old_index.find(key);
    if (it == old_index.end()) {
      continue;
    }
    const BenchRun& old = *it->second;
    ++out.compared_benchmarks;
    if (!now->error.empty() && old.error.empty()) {
      out.slower.push_back({key.first, now->name, "error", 0, 0, 0, now->error});
      continue;
    }
    if (!now->error.empty() || !old.error.empty()) {
      continue;
    }
    auto change = CompareBench(old, *now);
    if (change && change->slower_pct > out.threshold_pct) {
      change->machine = key.first;
      out.slower.push_back(*change);
    }
  }
}

}  // namespace

Regressions CompareRuns(const std::vector<Source>& before, const std::vector<Source>& after,
                        double threshold_pct) {
  Regressions out;
  out.threshold_pct = threshold_pct;
  bool fleet = after.size() > 1;
  auto old_tests = IndexTests(before, fleet, true);
  auto new_tests = IndexTests(after, fleet, false);
  for (const auto& [key, now] : new_tests) {
    auto it = old_tests.find(key);
    ClassifyTest(key, it == old_tests.end() ? nullptr : it->second, now, out);
    if (it != old_tests.end()) {
      ++out.compared_tests;
    }
  }
  for (const auto& [key, old] : old_tests) {
    if (!new_tests.count(key)) {
      ClassifyTest(key, old, nullptr, out);
    }
  }
  CompareBenchmarks(before, after, fleet, out);
  return out;
}

std::optional<double> ParseThreshold(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    text.remove_suffix(1);
  }
  auto value = ParseNumber(text);
  if (!value || *value < 0) {
    return std::nullopt;
  }
  return value;
}

}  // namespace zbl::report
