#include "ingest.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "load.h"
#include "sha256.h"

namespace zbl::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string NowIso() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool EndsWith(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<fs::path> JsonFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw IngestError(fmt::format("{}: not a folder", dir.string()));
  }
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_regular_file(ec2)) {
      continue;
    }
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (ext == ".json") {
      files.push_back(it->path());
    }
  }
  if (ec) {
    throw IngestError(fmt::format("{}: cannot list the folder: {}", dir.string(), ec.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadOrThrow(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) {
    text << in.rdbuf();
  }
  if (!in) {
    throw IngestError(fmt::format("{}: cannot be read", path.string()));
  }
  return text.str();
}

PreparedRun Prepare(const std::string& dir) {
  PreparedRun run;
  Diagnostics diag;
  Source& src = run.source;
  src.dir = dir;
  Sha256 hash;
  std::vector<fs::path> files = JsonFiles(dir);
  if (files.empty()) {
    throw IngestError(fmt::format("{}: no *.json results in this folder", dir));
  }
  for (const fs::path& path : files) {
    std::string rel = fs::relative(path, dir).generic_string();
    std::string text = ReadOrThrow(path);
    // Length-prefixed, so no two different folders hash alike by moving bytes between fields.
    hash.Update(fmt::format("{}:{}\n{}:", rel.size(), rel, text.size()));
    hash.Update(text);
    Diagnostics parse_diag;
    auto doc = ParseResultJson(text, path.string(), parse_diag);
    if (!doc) {
      std::string why =
          parse_diag.warnings().empty() ? "not valid JSON" : parse_diag.warnings().back().message;
      const std::string ignored = "malformed JSON, file ignored: ";
      if (why.rfind(ignored, 0) == 0) {
        why = "not valid JSON (" + why.substr(ignored.size()) + ")";
      }
      throw IngestError(fmt::format("{}: {}; nothing was ingested", path.string(), why));
    }
    for (const Warning& w : parse_diag.warnings()) {
      diag.Warn(w.file, w.message);
    }
    ReadDocument(*doc, path.string(), rel, src, diag);
  }
  FinishSource(src, diag);
  run.content_hash = hash.HexDigest();
  run.warnings = diag.warnings();
  run.run_date = src.env.generated;
  if (run.run_date.empty() && src.env.bench_context.contains("date") &&
      src.env.bench_context["date"].is_string()) {
    run.run_date = src.env.bench_context["date"].get<std::string>();
  }
  if (run.run_date.empty()) {
    run.run_date = NowIso();
  }
  return run;
}

DbValue Text(const std::string& s) { return s.empty() ? DbValue() : DbValue(s); }
DbValue Int(int64_t v) { return DbValue(v); }
template <typename T>
DbValue Opt(const std::optional<T>& v) {
  return v ? DbValue(static_cast<double>(*v)) : DbValue();
}
DbValue JsonText(const json& j) {
  if (j.is_null() || (j.is_object() && j.empty())) {
    return DbValue();
  }
  return DbValue(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

int64_t Id(const std::vector<DbRow>& rows) { return CellInt(rows.at(0).at(0)).value(); }

void StoreDevices(Db& db, int64_t run, const Source& s) {
  int64_t seq = 0;
  for (const DeviceConfig& c : s.configs) {
    auto id = [&](const char* k) {
      auto it = c.identity.find(k);
      return it == c.identity.end() ? DbValue() : Text(it->second);
    };
    db.Query(
        "INSERT INTO devices (run_id, config, seq, option_string, driver_graph, model, profile, "
        "limits, fingerprint_match, id_vendor, id_model, id_serial, id_firmware, id_source) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        {Int(run), DbValue(c.name), Int(seq++), Text(c.option_string), Text(c.driver_graph),
         Text(c.model), Text(c.profile), JsonText(c.limits), Text(c.fingerprint_match),
         id("vendor"), id("model"), id("serial"), id("firmware"), id("source")});
    for (const auto& [cell, variant] : c.fingerprint) {
      auto origin = c.fingerprint_src.find(cell);
      db.Query(
          "INSERT INTO fingerprints (run_id, config, cell, variant, origin) "
          "VALUES ($1, $2, $3, $4, $5)",
          {Int(run), DbValue(c.name), DbValue(cell), DbValue(variant),
           origin == c.fingerprint_src.end() ? DbValue() : Text(origin->second)});
    }
  }
}

void StoreResults(Db& db, int64_t run, const Source& s) {
  int64_t seq = 0;
  for (const TestResult& t : s.tests) {
    db.Query(
        "INSERT INTO results (run_id, seq, suite, rule, config, outcome, message, variant, "
        "option_string, seconds, file, seen) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        {Int(run), Int(seq++), DbValue(t.suite), DbValue(t.rule), DbValue(t.config),
         DbValue(std::string(OutcomeName(t.outcome))), Text(t.message), Text(t.variant),
         Text(t.option_string), DbValue(t.seconds), Text(t.file), Int(t.seen)});
  }
}

void StoreBenchmarks(Db& db, int64_t run, const Source& s) {
  for (const BenchRun& b : s.benchmarks) {
    int64_t id = Id(db.Query(
        "INSERT INTO benchmarks (run_id, name, bkey, family, config, params, stat, repetitions, "
        "label, error, file) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        {Int(run), DbValue(b.name), DbValue(b.key), DbValue(b.family), Text(b.config),
         DbValue(json(b.params).dump()), Text(b.stat), Int(b.repetitions), Text(b.label),
         Text(b.error), Text(b.file)}));
    std::vector<std::pair<std::string, std::optional<double>>> figures = {
        {"bytes_per_second", b.bytes_per_second},
        {"items_per_second", b.items_per_second},
        {"real_time_ns", b.real_time_ns},
        {"cpu_time_ns", b.cpu_time_ns},
        {"cv_pct", b.cv_pct}};
    for (const auto& [name, value] : b.counters) {
      if (name != "bytes_per_second" && name != "items_per_second") {
        figures.emplace_back("counter:" + name, value);
      }
    }
    for (const auto& [metric, value] : figures) {
      if (value) {
        db.Query("INSERT INTO bench_values (bench_id, metric, value, unit) VALUES ($1, $2, $3, $4)",
                 {Int(id), DbValue(metric), DbValue(*value), DbValue(FigureUnit(metric))});
      }
    }
  }
}

void StoreComparisons(Db& db, int64_t run, const Source& s) {
  for (const Comparison& c : s.comparisons) {
    int64_t id = Id(
        db.Query("INSERT INTO comparisons (run_id, file, target, workload) VALUES ($1, $2, $3, $4) "
                 "RETURNING id",
                 {Int(run), Text(c.file), Text(c.target), DbValue(c.workload.dump())}));
    int64_t seq = 0;
    for (const ToolResult& t : c.results) {
      db.Query(
          "INSERT INTO compare_results (comparison_id, seq, tool, variant, qd, cache, iops, "
          "bw_bytes, runs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          {Int(id), Int(seq++), DbValue(t.tool), Text(t.variant), Opt(t.qd), Text(t.cache),
           Opt(t.iops), Opt(t.bw_bytes), Int(static_cast<int64_t>(t.runs))});
    }
    seq = 0;
    for (const auto& [name, value] : c.ratios) {
      db.Query(
          "INSERT INTO compare_ratios (comparison_id, seq, name, value) VALUES ($1, $2, $3, $4)",
          {Int(id), Int(seq++), DbValue(name), DbValue(value)});
    }
  }
}

}  // namespace

std::string FigureUnit(const std::string& metric) {
  std::string m = metric.rfind("counter:", 0) == 0 ? metric.substr(8) : metric;
  if (m == "bytes_per_second") return "B/s";
  if (EndsWith(m, "_per_second")) return "1/s";
  if (EndsWith(m, "_ns")) return "ns";
  if (EndsWith(m, "_us")) return "us";
  if (EndsWith(m, "_ms")) return "ms";
  if (EndsWith(m, "_pct")) return "%";
  return "";
}

std::vector<PreparedRun> PrepareRuns(const std::vector<std::string>& dirs) {
  std::vector<PreparedRun> runs;
  for (const std::string& d : dirs) {
    runs.push_back(Prepare(d));
  }
  std::vector<Source> labelled;
  for (const PreparedRun& r : runs) {
    Source only_dir;
    only_dir.dir = r.source.dir;
    labelled.push_back(std::move(only_dir));
  }
  AssignLabels(labelled);
  for (size_t i = 0; i < runs.size(); ++i) {
    Source& s = runs[i].source;
    s.label = labelled[i].label;
    runs[i].machine = s.env.host.empty() ? s.label : s.env.host + ":" + s.label;
  }
  return runs;
}

std::vector<IngestedRun> StoreRuns(Db& db, const std::vector<PreparedRun>& runs,
                                   const std::string& ingested_by) {
  std::vector<IngestedRun> out;
  DbTransaction tx(db);
  std::string now = NowIso();
  for (const PreparedRun& r : runs) {
    const Source& s = r.source;
    IngestedRun done{s.dir, r.machine,      r.content_hash,     0,
                     false, s.tests.size(), s.benchmarks.size()};
    // ON CONFLICT DO NOTHING: a concurrent ingest of the same folder waits for the other
    // transaction and then adds nothing (PostgreSQL), or finds the row (SQLite's write lock).
    auto rows = db.Query(
        "INSERT INTO runs (content_hash, machine, label, dir, host, kernel, cpu, zbl_version, "
        "zbl_commit, generated, run_date, ingested, ingested_by, bench_context, vm_devices) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
        "ON CONFLICT (content_hash) DO NOTHING RETURNING id",
        {DbValue(r.content_hash), DbValue(r.machine), DbValue(s.label), DbValue(s.dir),
         Text(s.env.host), Text(s.env.kernel), Text(s.env.cpu), Text(s.env.zbl_version),
         Text(s.env.commit), Text(s.env.generated), DbValue(r.run_date), DbValue(now),
         DbValue(ingested_by), JsonText(s.env.bench_context), JsonText(s.env.vm_devices)});
    if (rows.empty()) {
      auto existing =
          db.Query("SELECT id FROM runs WHERE content_hash = $1", {DbValue(r.content_hash)});
      done.run_id = existing.empty() ? 0 : Id(existing);
      out.push_back(done);
      continue;
    }
    done.run_id = Id(rows);
    done.added = true;
    int64_t seq = 0;
    for (const FileInfo& f : s.files) {
      db.Query("INSERT INTO files (run_id, path, kind) VALUES ($1, $2, $3)",
               {Int(done.run_id), DbValue(f.path), DbValue(f.kind)});
    }
    for (const Warning& w : r.warnings) {
      db.Query("INSERT INTO warnings (run_id, seq, file, message) VALUES ($1, $2, $3, $4)",
               {Int(done.run_id), Int(seq++), DbValue(w.file), DbValue(w.message)});
    }
    StoreDevices(db, done.run_id, s);
    StoreResults(db, done.run_id, s);
    StoreBenchmarks(db, done.run_id, s);
    StoreComparisons(db, done.run_id, s);
    out.push_back(done);
  }
  tx.Commit();
  return out;
}

}  // namespace zbl::report
