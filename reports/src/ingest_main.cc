// `zbl-report ingest [--db URL] [DIR...]`: stores results folders in the results database.
// With no folder it only creates or upgrades the schema. Exit status: 0 stored (or already
// there), 1 error (a broken folder or database: nothing written), 2 usage error.
#include "ingest_main.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>

#include "ingest.h"
#include "schema.h"

namespace zbl::report {

int IngestMain(int argc, char** argv, const std::string& version) {
  CLI::App app{"zbl-report ingest: store results folders in the results database", "ingest"};
  std::string url = kDefaultDb;
  std::vector<std::string> dirs;
  bool quiet = false;
  app.add_option("--db", url,
                 "Database: a SQLite file, sqlite:FILE, or postgresql://user@host/dbname "
                 "(libpq URI or postgresql:key=value...)")
      ->capture_default_str();
  app.add_flag("--quiet,-q", quiet, "Print nothing on success");
  app.add_option("DIR", dirs, "Results folders (each one run); none: create or upgrade the schema")
      ->check(CLI::ExistingDirectory);
  app.footer("Exit status: 0 stored (or already stored), 1 error (nothing written), 2 usage.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  try {
    // Read every folder before touching the database: a broken one stops everything here.
    std::vector<PreparedRun> runs = PrepareRuns(dirs);
    if (url.find("://") == std::string::npos && url.rfind("postgres", 0) != 0) {
      std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
      std::filesystem::path parent = std::filesystem::path(path).parent_path();
      std::error_code ec;
      if (!parent.empty()) {
        std::filesystem::create_directories(parent, ec);
      }
    }
    auto db = OpenDb(url, DbMode::kWrite);
    int before = Migrate(*db);
    if (!quiet && before != LatestSchemaVersion()) {
      fmt::print("{}: schema version {} -> {}\n", db->name(), before, LatestSchemaVersion());
    }
    std::vector<IngestedRun> done = StoreRuns(*db, runs, version);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!quiet) {
      size_t added = 0;
      for (const IngestedRun& r : done) {
        added += r.added ? 1 : 0;
        fmt::print("{}: {} as run {} of {} ({} results, {} benchmarks)\n", r.dir,
                   r.added ? "stored" : "already stored", r.run_id, r.machine, r.results,
                   r.benchmarks);
      }
      fmt::print("{}: {} run(s) added, {} already there, in {:.2f} s\n", db->name(), added,
                 done.size() - added, secs);
    }
    return 0;
  } catch (const IngestError& e) {
    fmt::print(stderr, "zbl-report ingest: {}\n", e.what());
  } catch (const DbError& e) {
    fmt::print(stderr, "zbl-report ingest: {}\n", e.what());
  }
  return 1;
}

}  // namespace zbl::report
