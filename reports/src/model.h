// The page model: one JSON document holding everything the page shows, built from the loaded
// sources (and the baseline comparison). The page's script renders only from this; its shape is
// described in reports/README.md ("The model"). Keys whose value is unknown are omitted.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "baseline.h"
#include "diagnostics.h"
#include "results.h"

namespace zbl::report {

inline constexpr const char* kModelSchema = "zbl-report-model/1";

struct ReportMeta {
  std::string title = "zbl report";
  std::string generated;  // ISO 8601 time of generation
  std::string version;    // zbl-report's own version and commit
  std::string commit;
  std::string baseline_dir;  // "" without --baseline
};

// `regressions` is null without a baseline.
nlohmann::json BuildModel(const std::vector<Source>& sources, const Diagnostics& diag,
                          const ReportMeta& meta, const Regressions* regressions);

}  // namespace zbl::report
