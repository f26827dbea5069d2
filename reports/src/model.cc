#include "model.h"

#include "kernels.h"

#include <fmt/format.h>

#include <map>
#include <set>

namespace zbl::report {

using nlohmann::json;

namespace {

void PutIf(json& obj, const char* key, const std::string& value) {
  if (!value.empty()) {
    obj[key] = value;
  }
}

template <typename T>
void PutIf(json& obj, const char* key, const std::optional<T>& value) {
  if (value) {
    obj[key] = *value;
  }
}

json EnvJson(const Environment& env) {
  json j = json::object();
  PutIf(j, "host", env.host);
  PutIf(j, "kernel", env.kernel);
  PutIf(j, "cpu", env.cpu);
  PutIf(j, "zbl_version", env.zbl_version);
  PutIf(j, "commit", env.commit);
  PutIf(j, "generated", env.generated);
  if (!env.bench_context.empty()) {
    j["bench_context"] = env.bench_context;
  }
  if (!env.vm_devices.is_null()) {
    j["vm_devices"] = env.vm_devices;
  }
  return j;
}

json ConfigJson(const DeviceConfig& c) {
  json j = {{"name", c.name}};
  PutIf(j, "option_string", c.option_string);
  PutIf(j, "driver_graph", c.driver_graph);
  PutIf(j, "model", c.model);
  PutIf(j, "profile", c.profile);
  if (!c.limits.empty()) {
    j["limits"] = c.limits;
  }
  if (!c.fingerprint.empty()) {
    j["fingerprint"] = c.fingerprint;
    j["fingerprint_origin"] = c.fingerprint_src;
  }
  PutIf(j, "fingerprint_match", c.fingerprint_match);
  if (!c.identity.empty()) {
    j["identity"] = c.identity;
  }
  return j;
}

json SourceJson(const Source& s) {
  json files = json::array();
  for (const FileInfo& f : s.files) {
    files.push_back({{"path", f.path}, {"kind", f.kind}});
  }
  json configs = json::array();
  for (const DeviceConfig& c : s.configs) {
    configs.push_back(ConfigJson(c));
  }
  return {{"label", s.label},
          {"dir", s.dir},
          {"files", files},
          {"env", EnvJson(s.env)},
          {"configs", configs}};
}

// Column order inside a source: configurations in devices.json order, then the others as the
// tests name them, "unit" (plain unit tests) last.
std::vector<std::string> ColumnConfigs(const Source& s) {
  std::set<std::string> tested;
  for (const TestResult& t : s.tests) {
    tested.insert(t.config);
  }
  std::vector<std::string> order;
  std::set<std::string> placed;
  auto place = [&](const std::string& c) {
    if (tested.count(c) && c != "unit" && placed.insert(c).second) {
      order.push_back(c);
    }
  };
  for (const DeviceConfig& c : s.configs) {
    place(c.name);
  }
  for (const TestResult& t : s.tests) {
    place(t.config);
  }
  if (tested.count("unit")) {
    order.push_back("unit");
  }
  return order;
}

// Interns suite and rule names in order of first appearance.
class Tables {
 public:
  size_t Rule(const std::string& suite, const std::string& rule) {
    size_t si = Intern(suite_index_, suites_, suite);
    auto [it, fresh] = rule_index_.try_emplace({si, rule}, rules_.size());
    if (fresh) {
      rules_.push_back({{"suite", si}, {"name", rule}});
    }
    return it->second;
  }
  json suites() const { return suites_; }
  json rules() const { return rules_; }

 private:
  static size_t Intern(std::map<std::string, size_t>& index, json& list, const std::string& v) {
    auto [it, fresh] = index.try_emplace(v, list.size());
    if (fresh) {
      list.push_back(v);
    }
    return it->second;
  }
  std::map<std::string, size_t> suite_index_;
  std::map<std::pair<size_t, std::string>, size_t> rule_index_;
  json suites_ = json::array();
  json rules_ = json::array();
};

json ResultJson(const TestResult& t, size_t rule, size_t col) {
  json j = {{"rule", rule}, {"col", col}, {"status", OutcomeName(t.outcome)}};
  PutIf(j, "message", t.message);
  PutIf(j, "variant", t.variant);
  if (t.outcome != Outcome::kPass) {
    j["file"] = t.file;
  }
  if (t.seen > 1) {
    j["seen"] = t.seen;
  }
  if (t.seconds > 0) {
    j["seconds"] = t.seconds;
  }
  return j;
}

// Fills columns, suites, rules, results and the test totals.
void AddTests(const std::vector<Source>& sources, json& model) {
  bool fleet = sources.size() > 1;
  json columns = json::array(), results = json::array();
  Tables tables;
  size_t counts[3] = {0, 0, 0};
  for (size_t si = 0; si < sources.size(); ++si) {
    const Source& s = sources[si];
    std::map<std::string, size_t> col_of;
    for (const std::string& c : ColumnConfigs(s)) {
      col_of[c] = columns.size();
      std::string label = fleet ? fmt::format("{} · {}", s.label, c) : c;
      columns.push_back({{"source", si}, {"config", c}, {"label", label}});
      PutIf(columns.back(), "kernel", s.env.kernel);
    }
    for (const TestResult& t : s.tests) {
      results.push_back(ResultJson(t, tables.Rule(t.suite, t.rule), col_of.at(t.config)));
      ++counts[static_cast<int>(t.outcome)];
    }
  }
  model["columns"] = columns;
  model["suites"] = tables.suites();
  model["rules"] = tables.rules();
  model["results"] = results;
  json& totals = model["totals"];
  totals["passed"] = counts[static_cast<int>(Outcome::kPass)];
  totals["failed"] = counts[static_cast<int>(Outcome::kFail)];
  totals["skipped"] = counts[static_cast<int>(Outcome::kSkip)];
  totals["total"] = results.size();
  totals["rules"] = model["rules"].size();
  totals["columns"] = columns.size();
}

json BenchJson(const BenchRun& b, size_t source) {
  json j = {{"source", source},
            {"name", b.name},
            {"key", b.key},
            {"family", b.family},
            {"params", b.params},
            {"stat", b.stat},
            {"repetitions", b.repetitions},
            {"file", b.file}};
  PutIf(j, "config", b.config);
  PutIf(j, "bytes_per_second", b.bytes_per_second);
  PutIf(j, "items_per_second", b.items_per_second);
  PutIf(j, "real_time_ns", b.real_time_ns);
  PutIf(j, "cpu_time_ns", b.cpu_time_ns);
  PutIf(j, "cv_pct", b.cv_pct);
  if (!b.counters.empty()) {
    j["counters"] = b.counters;
  }
  PutIf(j, "label", b.label);
  PutIf(j, "error", b.error);
  return j;
}

json ComparisonJson(const Comparison& c, size_t source) {
  json results = json::array();
  for (const ToolResult& t : c.results) {
    json r = {{"tool", t.tool}};
    PutIf(r, "variant", t.variant);
    PutIf(r, "qd", t.qd);
    PutIf(r, "cache", t.cache);
    PutIf(r, "iops", t.iops);
    PutIf(r, "bw_bytes", t.bw_bytes);
    if (t.runs) {
      r["runs"] = t.runs;
    }
    results.push_back(r);
  }
  json ratios = json::array();
  for (const auto& [name, value] : c.ratios) {
    ratios.push_back({{"name", name}, {"value", value}});
  }
  return {{"source", source},       {"file", c.file},     {"target", c.target},
          {"workload", c.workload}, {"results", results}, {"ratios", ratios}};
}

void AddBenchmarks(const std::vector<Source>& sources, json& model) {
  json benchmarks = json::array(), comparisons = json::array();
  size_t errors = 0;
  for (size_t si = 0; si < sources.size(); ++si) {
    for (const BenchRun& b : sources[si].benchmarks) {
      benchmarks.push_back(BenchJson(b, si));
      errors += b.error.empty() ? 0 : 1;
    }
    for (const Comparison& c : sources[si].comparisons) {
      comparisons.push_back(ComparisonJson(c, si));
    }
  }
  model["totals"]["benchmarks"] = benchmarks.size();
  model["totals"]["bench_errors"] = errors;
  model["benchmarks"] = benchmarks;
  model["comparisons"] = comparisons;
}

json ChangesJson(const std::vector<StatusChange>& changes) {
  json list = json::array();
  for (const StatusChange& c : changes) {
    json j = {{"config", c.config},
              {"suite", c.suite},
              {"rule", c.rule},
              {"before", c.before},
              {"after", c.after}};
    PutIf(j, "machine", c.machine);
    PutIf(j, "message", c.message);
    list.push_back(j);
  }
  return list;
}

json RegressionsJson(const Regressions& r, const std::string& baseline_dir) {
  json slower = json::array();
  for (const BenchChange& c : r.slower) {
    json j = {{"name", c.name},
              {"metric", c.metric},
              {"before", c.before},
              {"after", c.after},
              {"slower_pct", c.slower_pct}};
    PutIf(j, "machine", c.machine);
    PutIf(j, "note", c.note);
    slower.push_back(j);
  }
  return {{"baseline", baseline_dir},
          {"threshold_pct", r.threshold_pct},
          {"count", r.Count()},
          {"compared_tests", r.compared_tests},
          {"compared_benchmarks", r.compared_benchmarks},
          {"newly_failing", ChangesJson(r.newly_failing)},
          {"newly_skipped", ChangesJson(r.newly_skipped)},
          {"vanished", ChangesJson(r.vanished)},
          {"fixed", ChangesJson(r.fixed)},
          {"slower", slower}};
}

}  // namespace

json BuildModel(const std::vector<Source>& sources, const Diagnostics& diag, const ReportMeta& meta,
                const Regressions* regressions) {
  json model = {
      {"schema", kModelSchema},
      {"title", meta.title},
      {"generated", meta.generated},
      {"generator", {{"name", "zbl-report"}, {"version", meta.version}, {"commit", meta.commit}}},
      {"fleet", sources.size() > 1}};
  json src = json::array();
  for (const Source& s : sources) {
    src.push_back(SourceJson(s));
  }
  model["sources"] = src;
  model["totals"] = {{"sources", sources.size()}};
  AddTests(sources, model);
  AddBenchmarks(sources, model);
  model["kernels"] = KernelView(sources);
  model["totals"]["kernels"] = model["kernels"]["kernels"].size();
  model["totals"]["kernel_changes"] = model["kernels"]["changes"].size();
  json warnings = json::array();
  for (const Warning& w : diag.warnings()) {
    warnings.push_back({{"file", w.file}, {"message", w.message}});
  }
  model["totals"]["warnings"] = warnings.size();
  model["warnings"] = warnings;
  model["regressions"] = regressions ? RegressionsJson(*regressions, meta.baseline_dir) : json();
  return model;
}

}  // namespace zbl::report
