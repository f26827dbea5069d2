// zbl-report: one self-contained HTML page from zbl's results JSON. See reports/README.md.
//
// Exit status: 0 page written; 1 error (nothing or a partial page written); 2 usage error;
// 3 page written and --baseline found regressions.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>

#include "baseline.h"
#include "history.h"
#include "ingest_main.h"
#include "load.h"
#include "model.h"
#include "page.h"
#include "schema.h"

#ifndef ZBL_REPORT_VERSION
#define ZBL_REPORT_VERSION "unknown"
#endif
#ifndef ZBL_REPORT_COMMIT
#define ZBL_REPORT_COMMIT "unknown"
#endif

namespace fs = std::filesystem;
using namespace zbl::report;

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRegressions = 3;

struct Args {
  std::vector<std::string> dirs;
  std::string out = "zbl-report.html";
  std::string title = "zbl report";
  std::string baseline;
  std::string threshold = "10%";
  std::string chartjs;
  std::string db;  // --db: the page from the results database instead of folders
  bool quiet = false;
};

void DefineOptions(CLI::App& app, Args& a) {
  app.add_option("--out,-o", a.out, "HTML file to write")->capture_default_str();
  app.add_option("--title", a.title, "Page title")->capture_default_str();
  app.add_option("--baseline", a.baseline,
                 "Older results folder to compare against; regressions make the exit status 3")
      ->check(CLI::ExistingDirectory);
  app.add_option("--threshold", a.threshold,
                 "How much slower a benchmark may get before it counts as a regression")
      ->capture_default_str();
  app.add_option("--chartjs", a.chartjs,
                 "Chart.js file to inline (default: Debian's libjs-chart.js, else the copy "
                 "built in)");
  app.add_flag("--quiet,-q", a.quiet, "Do not print warnings (they are still in the page)");
  app.add_option("--db", a.db,
                 "The page from the results database (history, trends, each machine against "
                 "its previous run) instead of folders: a SQLite file or postgresql://...");
  app.add_option("DIR", a.dirs, "Results folders; several make a fleet view (one per machine)")
      ->check(CLI::ExistingDirectory);
  app.footer(
      "Exit status: 0 page written, 1 error, 2 usage error, 3 page written and the baseline\n"
      "comparison found regressions (newly failing, newly skipped or vanished rules, or\n"
      "benchmarks slower than --threshold); with --db, against each machine's previous run.\n"
      "zbl-report ingest [--db URL] DIR...  stores folders in the results database\n"
      "(default results/zbl.sqlite); see zbl-report ingest --help.");
}

std::string NowIso8601() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Writes through a temporary file so a failed run never leaves half a page behind.
bool WriteAtomically(const fs::path& path, const std::string& text, std::string& error) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      error = fmt::format("cannot write {}", tmp.string());
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    error = fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), ec.message());
  }
  return !ec;
}

void PrintWarnings(const Diagnostics& diag) {
  for (const Warning& w : diag.warnings()) {
    if (w.file.empty()) {
      fmt::print(stderr, "zbl-report: warning: {}\n", w.message);
    } else {
      fmt::print(stderr, "zbl-report: warning: {}: {}\n", w.file, w.message);
    }
  }
}

std::vector<Source> LoadAll(const std::vector<std::string>& dirs, Diagnostics& diag) {
  std::vector<Source> sources;
  sources.reserve(dirs.size());
  for (const std::string& d : dirs) {
    sources.push_back(LoadSource(d, diag));
  }
  AssignLabels(sources);
  for (const Source& s : sources) {
    if (s.files.empty()) {
      diag.Warn(s.dir, "no *.json results found in this folder");
    }
  }
  return sources;
}

// Chart.js problems are warnings: the page still shows every table without charts.
std::string ChartJsOrWarn(const Args& a, Diagnostics& diag, bool& fatal) {
  std::string origin, error;
  auto text = LoadChartJs(a.chartjs, origin, error);
  if (!error.empty()) {
    fmt::print(stderr, "zbl-report: {}\n", error);
    fatal = true;
  } else if (!text) {
    diag.Warn("",
              "Chart.js not found (install libjs-chart.js or pass --chartjs); the page "
              "has no charts");
  }
  return text.value_or("");
}

int Run(const Args& a, double threshold) {
  Diagnostics diag;
  std::vector<Source> sources;
  std::optional<Regressions> regressions;
  nlohmann::json history;
  std::string baseline_label = a.baseline;
  if (!a.db.empty()) {
    try {
      auto db = OpenDb(a.db, DbMode::kRead);
      RequireCurrentSchema(*db);
      DbPage page = LoadPage(*db, threshold);
      sources = std::move(page.latest);
      diag = std::move(page.diag);
      if (page.machines_compared > 0) {
        regressions = std::move(page.regressions);
        baseline_label = "the previous run of each machine";
      }
      history = std::move(page.history);
    } catch (const DbError& e) {
      fmt::print(stderr, "zbl-report: {}\n", e.what());
      return kExitError;
    }
  } else {
    sources = LoadAll(a.dirs, diag);
  }
  if (!a.baseline.empty()) {
    Diagnostics old_diag;  // the old run's problems are not this page's
    std::vector<Source> old = {LoadSource(a.baseline, old_diag)};
    regressions = CompareRuns(old, sources, threshold);
  }
  bool fatal = false;
  std::string chartjs = ChartJsOrWarn(a, diag, fatal);
  if (fatal) {
    return kExitError;
  }
  ReportMeta meta{a.title, NowIso8601(), ZBL_REPORT_VERSION, ZBL_REPORT_COMMIT, baseline_label};
  nlohmann::json model = BuildModel(sources, diag, meta, regressions ? &*regressions : nullptr);
  if (!history.is_null()) {
    model["history"] = std::move(history);
  }
  PageAssets assets = EmbeddedAssets();
  assets.chartjs = chartjs;
  std::string error;
  if (!WriteAtomically(a.out, RenderPage(model, assets), error)) {
    fmt::print(stderr, "zbl-report: {}\n", error);
    return kExitError;
  }
  if (!a.quiet) {
    PrintWarnings(diag);
  }
  fmt::print("{}\n", fs::absolute(a.out).lexically_normal().string());
  if (regressions && regressions->Count() > 0) {
    fmt::print(stderr, "zbl-report: {} regression(s) against {}\n", regressions->Count(),
               baseline_label);
    return kExitRegressions;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::string_view(argv[1]) == "ingest") {
      return IngestMain(argc - 1, argv + 1, ZBL_REPORT_VERSION);
    }
    CLI::App app{"zbl-report: one self-contained HTML page from zbl results JSON"};
    Args args;
    DefineOptions(app, args);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      int rc = app.exit(e);
      return rc == 0 ? 0 : kExitUsage;
    }
    if (args.db.empty() == args.dirs.empty() || (!args.db.empty() && !args.baseline.empty())) {
      fmt::print(stderr,
                 "zbl-report: give results folders or --db URL (not both; --db compares "
                 "with each machine's previous run, without --baseline)\n{}",
                 app.help());
      return kExitUsage;
    }
    auto threshold = ParseThreshold(args.threshold);
    if (!threshold) {
      fmt::print(stderr, "zbl-report: --threshold wants a percentage like 10%, got \"{}\"\n",
                 args.threshold);
      return kExitUsage;
    }
    return Run(args, *threshold);
  } catch (const std::exception& e) {
    fmt::print(stderr, "zbl-report: {}\n", e.what());
    return kExitError;
  }
}
