#include "bench_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "fields.h"

namespace zbl::report {

using nlohmann::json;

namespace {

// One entry of "benchmarks", before runs are grouped.
struct Entry {
  std::string run_name;
  std::string aggregate;  // "" for an iteration entry
  BenchRun values;        // only the measured fields are filled
};

const std::set<std::string, std::less<>> kKnownKeys = {"name",
                                                       "family_index",
                                                       "per_family_instance_index",
                                                       "run_name",
                                                       "run_type",
                                                       "repetitions",
                                                       "repetition_index",
                                                       "threads",
                                                       "iterations",
                                                       "real_time",
                                                       "cpu_time",
                                                       "time_unit",
                                                       "bytes_per_second",
                                                       "items_per_second",
                                                       "label",
                                                       "error_occurred",
                                                       "error_message",
                                                       "aggregate_name",
                                                       "aggregate_unit",
                                                       "big_o",
                                                       "rms",
                                                       "cpu_coefficient",
                                                       "real_coefficient",
                                                       "complexity"};

const std::set<std::string, std::less<>> kMetaKeys = {"repeats", "iterations", "min_time",
                                                      "min_warmup_time"};
const std::set<std::string, std::less<>> kMetaFlags = {"real_time", "manual_time", "process_time"};

std::vector<std::string_view> SplitSlash(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    parts.push_back(s.substr(start, slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  return parts;
}

// Older Google Benchmark releases have no run_name; strip the aggregate suffix from the name.
std::string RunNameOf(const Fields& f, const std::string& aggregate) {
  if (auto rn = f.Str("run_name"); rn && !rn->empty()) {
    return *rn;
  }
  std::string name = f.StrOr("name");
  std::string suffix = "_" + aggregate;
  if (!aggregate.empty() && name.ends_with(suffix)) {
    name.resize(name.size() - suffix.size());
  }
  return name;
}

std::string AggregateOf(const Fields& f) {
  if (auto agg = f.Str("aggregate_name")) {
    return *agg;
  }
  if (f.StrOr("run_type") == "aggregate") {
    return "aggregate";
  }
  // Very old outputs: recognize the standard suffixes by name.
  std::string name = f.StrOr("name");
  for (const char* s : {"_mean", "_median", "_stddev", "_cv"}) {
    if (name.ends_with(s)) {
      return std::string(s + 1);
    }
  }
  return {};
}

void ReadCounters(const json& raw, const Fields& f, BenchRun& v) {
  for (const auto& [key, val] : raw.items()) {
    if (kKnownKeys.count(key) || !val.is_number()) {
      continue;
    }
    if (auto d = f.Num(key)) {
      v.counters[key] = *d;
    }
  }
}

Entry ReadEntry(const json& raw, const Fields& f) {
  Entry e;
  e.aggregate = AggregateOf(f);
  e.run_name = RunNameOf(f, e.aggregate);
  BenchRun& v = e.values;
  std::string unit = f.StrOr("time_unit", "ns");
  // A "percentage" aggregate (cv) stores a fraction in the time fields: never scale it.
  if (f.StrOr("aggregate_unit") == "percentage") {
    unit = "ns";
  }
  auto time = [&](std::string_view key) -> std::optional<double> {
    auto t = f.Num(key);
    if (!t) {
      return std::nullopt;
    }
    auto ns = ToNanoseconds(*t, unit);
    if (!ns) {
      f.diag().Warn(f.file(), fmt::format("{}: unknown time_unit \"{}\"", f.Path(key), unit));
    }
    return ns;
  };
  v.real_time_ns = time("real_time");
  v.cpu_time_ns = time("cpu_time");
  v.bytes_per_second = f.Num("bytes_per_second");
  v.items_per_second = f.Num("items_per_second");
  v.label = f.StrOr("label");
  if (f.Bool("error_occurred").value_or(false)) {
    v.error = f.StrOr("error_message", "error (no message)");
  }
  if (auto th = f.Num("threads")) {
    v.params["threads"] = fmt::format("{}", *th);
  }
  ReadCounters(raw, f, v);
  return e;
}

// Averages a field over several repetitions (only those that have it).
template <typename Get>
std::optional<double> Average(const std::vector<const BenchRun*>& runs, Get get) {
  double sum = 0;
  int n = 0;
  for (const BenchRun* r : runs) {
    if (auto v = get(*r)) {
      sum += *v;
      ++n;
    }
  }
  if (n == 0) {
    return std::nullopt;
  }
  return sum / n;
}

BenchRun AverageRuns(const std::vector<const BenchRun*>& runs) {
  BenchRun out = *runs.front();
  out.real_time_ns = Average(runs, [](const BenchRun& r) { return r.real_time_ns; });
  out.cpu_time_ns = Average(runs, [](const BenchRun& r) { return r.cpu_time_ns; });
  out.bytes_per_second = Average(runs, [](const BenchRun& r) { return r.bytes_per_second; });
  out.items_per_second = Average(runs, [](const BenchRun& r) { return r.items_per_second; });
  for (auto& [key, value] : out.counters) {
    const std::string& name = key;  // lambdas cannot capture structured bindings before C++20 DR
    value = *Average(runs, [&](const BenchRun& r) -> std::optional<double> {
      auto it = r.counters.find(name);
      return it == r.counters.end() ? std::nullopt : std::optional<double>(it->second);
    });
  }
  return out;
}

const Entry* FindAggregate(const std::vector<const Entry*>& group, std::string_view name) {
  for (const Entry* e : group) {
    if (e->aggregate == name) {
      return e;
    }
  }
  return nullptr;
}

std::optional<double> CoefficientOfVariation(const std::vector<const Entry*>& group) {
  if (const Entry* cv = FindAggregate(group, "cv"); cv && cv->values.real_time_ns) {
    return *cv->values.real_time_ns * 100;
  }
  const Entry* sd = FindAggregate(group, "stddev");
  const Entry* mean = FindAggregate(group, "mean");
  if (sd && mean && sd->values.real_time_ns && mean->values.real_time_ns &&
      *mean->values.real_time_ns > 0) {
    return *sd->values.real_time_ns / *mean->values.real_time_ns * 100;
  }
  return std::nullopt;
}

// Picks the representative values of one run (see the header).
BenchRun Reduce(const std::vector<const Entry*>& group) {
  std::vector<const BenchRun*> iterations;
  std::string error;
  for (const Entry* e : group) {
    if (e->aggregate.empty()) {
      iterations.push_back(&e->values);
    }
    if (error.empty()) {
      error = e->values.error;
    }
  }
  BenchRun run;
  if (const Entry* med = FindAggregate(group, "median")) {
    run = med->values;
    run.stat = "median";
  } else if (const Entry* mean = FindAggregate(group, "mean")) {
    run = mean->values;
    run.stat = "mean";
  } else if (iterations.size() > 1) {
    run = AverageRuns(iterations);
    run.stat = fmt::format("avg of {} runs", iterations.size());
  } else {
    run = iterations.empty() ? group.front()->values : *iterations.front();
    run.stat = "single";
  }
  run.repetitions = std::max<int>(1, static_cast<int>(iterations.size()));
  run.cv_pct = CoefficientOfVariation(group);
  run.error = error;
  return run;
}

void AddRun(BenchRun run, const std::string& run_name, const std::string& rel, Source& src) {
  BenchName id = SplitBenchName(run_name);
  run.name = run_name;
  run.family = id.family;
  run.config = id.config;
  // Threads from the JSON field only matter when the name sweeps them (else every run says 1).
  if (!id.params.count("threads")) {
    run.params.erase("threads");
  }
  for (auto& [k, v] : id.params) {
    run.params[k] = v;
  }
  run.key = run.family + (run.config.empty() ? "" : "/" + run.config);
  for (auto& [k, v] : id.params) {
    run.key += fmt::format("/{}:{}", k, v);
  }
  run.file = rel;
  src.benchmarks.push_back(std::move(run));
}

}  // namespace

std::optional<double> ToNanoseconds(double value, std::string_view unit) {
  if (unit == "ns") {
    return value;
  }
  if (unit == "us") {
    return value * 1e3;
  }
  if (unit == "ms") {
    return value * 1e6;
  }
  if (unit == "s") {
    return value * 1e9;
  }
  return std::nullopt;
}

BenchName SplitBenchName(std::string_view run_name) {
  BenchName id;
  std::vector<std::string_view> parts = SplitSlash(run_name);
  id.family = std::string(parts[0]);
  int bare = 0;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    size_t colon = p.find(':');
    if (colon == std::string_view::npos) {
      if (kMetaFlags.count(p) || p.empty()) {
        continue;
      }
      // The first bare segment after the family is the configuration, unless it is a number
      // (Google Benchmark's own Arg()).
      if (i == 1 && !ParseNumber(p)) {
        id.config = std::string(p);
      } else {
        id.params[fmt::format("arg{}", bare++)] = std::string(p);
      }
      continue;
    }
    std::string key(p.substr(0, colon));
    if (kMetaKeys.count(key)) {
      continue;
    }
    id.params[key] = std::string(p.substr(colon + 1));
  }
  return id;
}

void ReadBenchmark(const json& doc, const std::string& file, const std::string& rel, Source& src,
                   Diagnostics& diag) {
  Fields top(doc, file, "", diag);
  const json* list = top.Arr("benchmarks");
  if (!list) {
    return;
  }
  std::vector<Entry> entries;
  for (size_t i = 0; i < list->size(); ++i) {
    Fields f((*list)[i], file, top.Path("benchmarks", i), diag);
    if (!(*list)[i].is_object() || f.StrOr("name").empty()) {
      diag.Warn(file, fmt::format("{} has no name; ignored", top.Path("benchmarks", i)));
      continue;
    }
    entries.push_back(ReadEntry((*list)[i], f));
  }
  // Group repetitions and aggregates of one run, keeping the order of first appearance.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Entry*>> groups;
  for (const Entry& e : entries) {
    auto& g = groups[e.run_name];
    if (g.empty()) {
      order.push_back(e.run_name);
    }
    g.push_back(&e);
  }
  for (const std::string& name : order) {
    AddRun(Reduce(groups[name]), name, rel, src);
  }
}

}  // namespace zbl::report
