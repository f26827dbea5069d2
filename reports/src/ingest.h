// Ingest: results folders into the results database (reports/README.md, "Results database").
//
// A folder is read completely before anything is written, and strictly: a file that is not valid
// JSON, or cannot be read, makes the whole ingest fail with a message naming it (the page from
// folders only warns about such files). Everything is then written in one transaction, so a
// failed ingest leaves the database as it was. A run is keyed by the SHA-256 of its JSON files
// (relative paths and contents): ingesting the same folder again, from any host, adds nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "db.h"
#include "diagnostics.h"
#include "results.h"

namespace zbl::report {

// A folder that cannot be ingested; what() names the file and the problem.
class IngestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PreparedRun {
  Source source;             // label assigned
  std::string content_hash;  // hex SHA-256
  std::string machine;       // "host:label" (the label alone when the host is unknown)
  std::string run_date;      // devices.json's "generated", else the benchmark date, else now
  std::vector<Warning> warnings;
};

// Reads folders strictly (see above). Throws IngestError.
std::vector<PreparedRun> PrepareRuns(const std::vector<std::string>& dirs);

struct IngestedRun {
  std::string dir, machine, content_hash;
  int64_t run_id = 0;
  bool added = false;  // false: the database already held this run
  size_t results = 0, benchmarks = 0;
};

// Stores the runs in one transaction (the schema must be current). `ingested_by` is the
// zbl-report version doing it. Throws DbError; then nothing is stored.
std::vector<IngestedRun> StoreRuns(Db& db, const std::vector<PreparedRun>& runs,
                                   const std::string& ingested_by);

// The unit of a benchmark figure by its name: "ns" for real_time_ns or p99_ns, "B/s", "1/s",
// "%", or "" for a plain count.
std::string FigureUnit(const std::string& metric);

}  // namespace zbl::report
