// The page from the results database: the latest run of every machine as the page's sources
// (matrix, fingerprints, benchmarks as today), each compared with the previous run of the same
// machine (the --baseline rule), plus the history the folders alone cannot give: every benchmark
// figure over the runs, first and last sighting of every failing rule, device identities.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "baseline.h"
#include "db.h"
#include "diagnostics.h"
#include "results.h"

namespace zbl::report {

struct DbPage {
  std::vector<Source> latest;  // label = machine
  Diagnostics diag;            // the warnings stored with those runs
  Regressions regressions;     // latest against previous run, per machine (machine set)
  size_t machines_compared = 0;
  nlohmann::json history;  // the model's "history" member (reports/README.md)
};

// Reads one stored run back into a Source (label = its machine).
Source LoadRun(Db& db, int64_t run_id);

// Throws DbError. The schema must be current (RequireCurrentSchema).
DbPage LoadPage(Db& db, double threshold_pct);

}  // namespace zbl::report
