#include "history.h"

#include <fmt/format.h>

#include <map>
#include <set>

namespace zbl::report {

using nlohmann::json;

namespace {

json ParseOr(const DbCell& c, json fallback) {
  if (!c || c->empty()) {
    return fallback;
  }
  json j = json::parse(*c, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

Outcome ParseOutcome(const std::string& s) {
  if (s == "fail") return Outcome::kFail;
  if (s == "skip") return Outcome::kSkip;
  return Outcome::kPass;
}

struct RunRow {
  int64_t id = 0;
  std::string machine, label, dir, host, kernel, cpu, zbl_version, commit, generated, date,
      ingested;
  json bench_context, vm_devices;
};

std::vector<RunRow> AllRuns(Db& db) {
  std::vector<RunRow> runs;
  for (const DbRow& r :
       db.Query("SELECT id, machine, label, dir, host, kernel, cpu, zbl_version, zbl_commit, "
                "generated, run_date, ingested, bench_context, vm_devices FROM runs "
                "ORDER BY machine, run_date, id",
                {})) {
    RunRow x;
    x.id = CellInt(r[0]).value_or(0);
    x.machine = CellStr(r[1]);
    x.label = CellStr(r[2]);
    x.dir = CellStr(r[3]);
    x.host = CellStr(r[4]);
    x.kernel = CellStr(r[5]);
    x.cpu = CellStr(r[6]);
    x.zbl_version = CellStr(r[7]);
    x.commit = CellStr(r[8]);
    x.generated = CellStr(r[9]);
    x.date = CellStr(r[10]);
    x.ingested = CellStr(r[11]);
    x.bench_context = ParseOr(r[12], json::object());
    x.vm_devices = ParseOr(r[13], json());
    runs.push_back(std::move(x));
  }
  return runs;
}

DbValue Id(int64_t id) { return DbValue(id); }

void LoadConfigs(Db& db, int64_t run, Source& s) {
  for (const DbRow& r :
       db.Query("SELECT config, option_string, driver_graph, model, profile, limits, "
                "fingerprint_match, id_vendor, id_model, id_serial, id_firmware, id_source "
                "FROM devices WHERE run_id = $1 ORDER BY seq",
                {Id(run)})) {
    DeviceConfig& c = s.Config(CellStr(r[0]));
    c.option_string = CellStr(r[1]);
    c.driver_graph = CellStr(r[2]);
    c.model = CellStr(r[3]);
    c.profile = CellStr(r[4]);
    c.limits = ParseOr(r[5], json::object());
    c.fingerprint_match = CellStr(r[6]);
    const char* keys[] = {"vendor", "model", "serial", "firmware", "source"};
    for (int i = 0; i < 5; ++i) {
      if (r[7 + i]) {
        c.identity[keys[i]] = *r[7 + i];
      }
    }
  }
  for (const DbRow& r :
       db.Query("SELECT config, cell, variant, origin FROM fingerprints WHERE run_id = $1 "
                "ORDER BY config, cell",
                {Id(run)})) {
    DeviceConfig& c = s.Config(CellStr(r[0]));
    c.fingerprint[CellStr(r[1])] = CellStr(r[2]);
    if (r[3]) {
      c.fingerprint_src[CellStr(r[1])] = *r[3];
    }
  }
}

void LoadTests(Db& db, int64_t run, Source& s) {
  for (const DbRow& r : db.Query(
           "SELECT suite, rule, config, outcome, message, variant, option_string, seconds, file, "
           "seen FROM results WHERE run_id = $1 ORDER BY seq",
           {Id(run)})) {
    TestResult t;
    t.suite = CellStr(r[0]);
    t.rule = CellStr(r[1]);
    t.config = CellStr(r[2]);
    t.outcome = ParseOutcome(CellStr(r[3]));
    t.message = CellStr(r[4]);
    t.variant = CellStr(r[5]);
    t.option_string = CellStr(r[6]);
    t.seconds = CellNum(r[7]).value_or(0);
    t.file = CellStr(r[8]);
    t.seen = static_cast<int>(CellInt(r[9]).value_or(1));
    s.tests.push_back(std::move(t));
  }
}

void LoadBenchmarks(Db& db, int64_t run, Source& s) {
  std::map<int64_t, size_t> index;
  for (const DbRow& r : db.Query(
           "SELECT id, name, bkey, family, config, params, stat, repetitions, label, error, file "
           "FROM benchmarks WHERE run_id = $1 ORDER BY id",
           {Id(run)})) {
    BenchRun b;
    b.name = CellStr(r[1]);
    b.key = CellStr(r[2]);
    b.family = CellStr(r[3]);
    b.config = CellStr(r[4]);
    json params = ParseOr(r[5], json::object());
    for (const auto& [k, v] : params.items()) {
      if (v.is_string()) {
        b.params[k] = v.get<std::string>();
      }
    }
    b.stat = CellStr(r[6]);
    b.repetitions = static_cast<int>(CellInt(r[7]).value_or(1));
    b.label = CellStr(r[8]);
    b.error = CellStr(r[9]);
    b.file = CellStr(r[10]);
    index[CellInt(r[0]).value_or(0)] = s.benchmarks.size();
    s.benchmarks.push_back(std::move(b));
  }
  for (const DbRow& r :
       db.Query("SELECT v.bench_id, v.metric, v.value FROM bench_values v JOIN benchmarks b ON "
                "v.bench_id = b.id WHERE b.run_id = $1",
                {Id(run)})) {
    auto it = index.find(CellInt(r[0]).value_or(0));
    auto value = CellNum(r[2]);
    if (it == index.end() || !value) {
      continue;
    }
    BenchRun& b = s.benchmarks[it->second];
    std::string metric = CellStr(r[1]);
    if (metric == "bytes_per_second")
      b.bytes_per_second = value;
    else if (metric == "items_per_second")
      b.items_per_second = value;
    else if (metric == "real_time_ns")
      b.real_time_ns = value;
    else if (metric == "cpu_time_ns")
      b.cpu_time_ns = value;
    else if (metric == "cv_pct")
      b.cv_pct = value;
    else if (metric.rfind("counter:", 0) == 0)
      b.counters[metric.substr(8)] = *value;
  }
}

void LoadComparisons(Db& db, int64_t run, Source& s) {
  std::map<int64_t, size_t> index;
  for (const DbRow& r :
       db.Query("SELECT id, file, target, workload FROM comparisons WHERE run_id = $1 ORDER BY id",
                {Id(run)})) {
    Comparison c;
    c.file = CellStr(r[1]);
    c.target = CellStr(r[2]);
    c.workload = ParseOr(r[3], json::object());
    index[CellInt(r[0]).value_or(0)] = s.comparisons.size();
    s.comparisons.push_back(std::move(c));
  }
  for (const DbRow& r : db.Query(
           "SELECT x.comparison_id, x.tool, x.variant, x.qd, x.cache, x.iops, x.bw_bytes, x.runs "
           "FROM compare_results x JOIN comparisons c ON x.comparison_id = c.id "
           "WHERE c.run_id = $1 ORDER BY x.comparison_id, x.seq",
           {Id(run)})) {
    auto it = index.find(CellInt(r[0]).value_or(0));
    if (it == index.end()) continue;
    ToolResult t;
    t.tool = CellStr(r[1]);
    t.variant = CellStr(r[2]);
    t.qd = CellNum(r[3]);
    t.cache = CellStr(r[4]);
    t.iops = CellNum(r[5]);
    t.bw_bytes = CellNum(r[6]);
    t.runs = static_cast<size_t>(CellInt(r[7]).value_or(0));
    s.comparisons[it->second].results.push_back(std::move(t));
  }
  for (const DbRow& r : db.Query(
           "SELECT x.comparison_id, x.name, x.value FROM compare_ratios x JOIN comparisons c ON "
           "x.comparison_id = c.id WHERE c.run_id = $1 ORDER BY x.comparison_id, x.seq",
           {Id(run)})) {
    auto it = index.find(CellInt(r[0]).value_or(0));
    if (it == index.end()) continue;
    s.comparisons[it->second].ratios.emplace_back(CellStr(r[1]), CellNum(r[2]).value_or(0));
  }
}

Source FromRow(Db& db, const RunRow& run) {
  Source s;
  s.dir = run.dir;
  s.label = run.machine;
  s.env.host = run.host;
  s.env.kernel = run.kernel;
  s.env.cpu = run.cpu;
  s.env.zbl_version = run.zbl_version;
  s.env.commit = run.commit;
  s.env.generated = run.generated;
  s.env.bench_context = run.bench_context;
  s.env.vm_devices = run.vm_devices;
  for (const DbRow& r :
       db.Query("SELECT path, kind FROM files WHERE run_id = $1 ORDER BY path", {Id(run.id)})) {
    s.files.push_back({CellStr(r[0]), CellStr(r[1])});
  }
  LoadConfigs(db, run.id, s);
  LoadTests(db, run.id, s);
  LoadBenchmarks(db, run.id, s);
  LoadComparisons(db, run.id, s);
  return s;
}

template <typename T>
void TagMachine(std::vector<T>& list, const std::string& machine) {
  for (T& c : list) {
    c.machine = machine;
  }
}

// Firmware of every (run, configuration) that has one, for the trends' firmware axis.
std::map<std::pair<int64_t, std::string>, std::string> Firmware(Db& db) {
  std::map<std::pair<int64_t, std::string>, std::string> fw;
  for (const DbRow& r : db.Query(
           "SELECT run_id, config, id_firmware FROM devices WHERE id_firmware IS NOT NULL", {})) {
    fw[{CellInt(r[0]).value_or(0), CellStr(r[1])}] = CellStr(r[2]);
  }
  return fw;
}

json Trends(Db& db, const std::map<std::pair<int64_t, std::string>, std::string>& fw) {
  json trends = json::array();
  std::map<std::tuple<std::string, std::string, std::string>, size_t> index;
  for (const DbRow& r : db.Query(
           "SELECT r.machine, b.bkey, v.metric, b.run_id, v.value, v.unit, b.family, b.config, "
           "b.params FROM bench_values v JOIN benchmarks b ON v.bench_id = b.id "
           "JOIN runs r ON b.run_id = r.id WHERE b.error IS NULL "
           "ORDER BY r.machine, b.bkey, v.metric, r.run_date, r.id",
           {})) {
    auto key = std::make_tuple(CellStr(r[0]), CellStr(r[1]), CellStr(r[2]));
    auto [it, fresh] = index.try_emplace(key, trends.size());
    if (fresh) {
      json t = {{"machine", std::get<0>(key)},
                {"key", std::get<1>(key)},
                {"metric", std::get<2>(key)},
                {"unit", CellStr(r[5])},
                {"family", CellStr(r[6])},
                {"config", CellStr(r[7])},
                {"params", ParseOr(r[8], json::object())},
                {"points", json::array()}};
      trends.push_back(std::move(t));
    }
    int64_t run = CellInt(r[3]).value_or(0);
    json p = {{"run", run}, {"value", CellNum(r[4]).value_or(0)}};
    auto f = fw.find({run, CellStr(r[7])});
    if (f != fw.end()) {
      p["firmware"] = f->second;
    }
    trends[it->second]["points"].push_back(std::move(p));
  }
  return trends;
}

json FailingRules(Db& db, const std::map<std::string, const Source*>& latest_of,
                  const std::map<std::string, size_t>& runs_of) {
  json list = json::array();
  std::map<std::tuple<std::string, std::string, std::string, std::string>, size_t> index;
  for (const DbRow& r :
       db.Query("SELECT r.machine, x.suite, x.rule, x.config, x.run_id, r.run_date, x.message "
                "FROM results x JOIN runs r ON x.run_id = r.id WHERE x.outcome = 'fail' "
                "ORDER BY r.machine, x.suite, x.rule, x.config, r.run_date, r.id",
                {})) {
    auto key = std::make_tuple(CellStr(r[0]), CellStr(r[1]), CellStr(r[2]), CellStr(r[3]));
    auto [it, fresh] = index.try_emplace(key, list.size());
    int64_t run = CellInt(r[4]).value_or(0);
    if (fresh) {
      list.push_back({{"machine", std::get<0>(key)},
                      {"suite", std::get<1>(key)},
                      {"rule", std::get<2>(key)},
                      {"config", std::get<3>(key)},
                      {"first_seen", {{"run", run}, {"date", CellStr(r[5])}}},
                      {"failed_runs", 0}});
    }
    json& f = list[it->second];
    f["last_seen"] = {{"run", run}, {"date", CellStr(r[5])}};
    f["failed_runs"] = f["failed_runs"].get<int>() + 1;
    f["message"] = CellStr(r[6]);
  }
  for (json& f : list) {
    std::string machine = f["machine"];
    auto runs = runs_of.find(machine);
    f["machine_runs"] = runs == runs_of.end() ? 0 : runs->second;
    std::string now = "absent";
    auto src = latest_of.find(machine);
    if (src != latest_of.end()) {
      for (const TestResult& t : src->second->tests) {
        if (t.suite == f["suite"] && t.rule == f["rule"] && t.config == f["config"]) {
          now = OutcomeName(t.outcome);
        }
      }
    }
    f["now"] = now;
  }
  return list;
}

}  // namespace

Source LoadRun(Db& db, int64_t run_id) {
  for (const RunRow& r : AllRuns(db)) {
    if (r.id == run_id) {
      return FromRow(db, r);
    }
  }
  throw DbError(fmt::format("{}: no run {}", db.name(), run_id));
}

DbPage LoadPage(Db& db, double threshold_pct) {
  DbPage page;
  page.regressions.threshold_pct = threshold_pct;
  std::vector<RunRow> runs = AllRuns(db);
  std::map<std::string, std::vector<const RunRow*>> by_machine;
  for (const RunRow& r : runs) {
    by_machine[r.machine].push_back(&r);
  }
  json machines = json::array();
  std::map<std::string, size_t> runs_of;
  for (const auto& [machine, list] : by_machine) {
    const RunRow& last = *list.back();
    page.latest.push_back(FromRow(db, last));
    runs_of[machine] = list.size();
    json m = {{"name", machine}, {"runs", list.size()}, {"latest", last.id}};
    for (const DbRow& w : db.Query(
             "SELECT file, message FROM warnings WHERE run_id = $1 ORDER BY seq", {Id(last.id)})) {
      page.diag.Warn(CellStr(w[0]), CellStr(w[1]));
    }
    if (list.size() >= 2) {
      const RunRow& prev = *list[list.size() - 2];
      m["previous"] = prev.id;
      Regressions r = CompareRuns({FromRow(db, prev)}, {page.latest.back()}, threshold_pct);
      TagMachine(r.newly_failing, machine);
      TagMachine(r.newly_skipped, machine);
      TagMachine(r.vanished, machine);
      TagMachine(r.fixed, machine);
      TagMachine(r.slower, machine);
      auto append = [](auto& to, auto& from) { to.insert(to.end(), from.begin(), from.end()); };
      append(page.regressions.newly_failing, r.newly_failing);
      append(page.regressions.newly_skipped, r.newly_skipped);
      append(page.regressions.vanished, r.vanished);
      append(page.regressions.fixed, r.fixed);
      append(page.regressions.slower, r.slower);
      page.regressions.compared_tests += r.compared_tests;
      page.regressions.compared_benchmarks += r.compared_benchmarks;
      ++page.machines_compared;
    }
    machines.push_back(std::move(m));
  }
  std::map<std::string, const Source*> latest_of;
  for (const Source& s : page.latest) {
    latest_of[s.label] = &s;
  }
  auto fw = Firmware(db);
  json run_list = json::array();
  for (const RunRow& r : runs) {
    json j = {{"id", r.id}, {"machine", r.machine}, {"date", r.date}, {"ingested", r.ingested}};
    if (!r.commit.empty()) j["commit"] = r.commit;
    if (!r.kernel.empty()) j["kernel"] = r.kernel;
    if (!r.zbl_version.empty()) j["zbl_version"] = r.zbl_version;
    if (!r.host.empty()) j["host"] = r.host;
    run_list.push_back(std::move(j));
  }
  json devices = json::array();
  for (const Source& s : page.latest) {
    for (const DeviceConfig& c : s.configs) {
      json d = {{"machine", s.label}, {"config", c.name}};
      if (!c.identity.empty()) {
        d["identity"] = c.identity;
      } else {
        d["identity"] = {{"source", "options"}, {"model", c.option_string}};
      }
      devices.push_back(std::move(d));
    }
  }
  page.history = {{"database", db.name()},    {"runs", run_list},
                  {"machines", machines},     {"devices", devices},
                  {"trends", Trends(db, fw)}, {"failing", FailingRules(db, latest_of, runs_of)}};
  return page;
}

}  // namespace zbl::report
