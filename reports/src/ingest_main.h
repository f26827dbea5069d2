// The `ingest` subcommand of zbl-report (see ingest.h and reports/README.md).
#pragma once

#include <string>

namespace zbl::report {

// Where ingest and the page look when --db is not given.
inline constexpr const char* kDefaultDb = "results/zbl.sqlite";

// argv[0] is "ingest". `version` is recorded with every run stored.
int IngestMain(int argc, char** argv, const std::string& version);

}  // namespace zbl::report
