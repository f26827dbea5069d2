// Reads GoogleTest JSON (--gtest_output=json:FILE) into TestResults.
//
// Naming: a value-parametrized conformance test is "<Instantiation>/<Suite>.<Rule>/<config>";
// in the JSON, testsuites[].name is "<Instantiation>/<Suite>" and testsuite[].name is
// "<Rule>/<config>". Plain tests (no '/') land under configuration "unit"; typed tests take
// their type as the configuration. RecordProperty keys `config`, `option_string`, `skip_reason`
// and `variant` override or add to what the names say.
//
// What GoogleTest 1.12 writes (checked against libgtest-dev 1.12.1):
//  - a failed test has "failures": [{"failure": "file:line\nmessage", "type": ""}] and still
//    "result": "COMPLETED"; failures win over everything else;
//  - a skipped test has "result": "SKIPPED" but NO skip message (only the XML output has it),
//    so the reason comes from RecordProperty("skip_reason", ...) when the test recorded one;
//  - a test skipped because SetUpTestSuite failed or skipped is "SKIPPED" with an epoch
//    timestamp, and the suite-level failure itself is not in the JSON at all;
//  - DISABLED_ tests are "status": "NOTRUN", "result": "SUPPRESSED";
//  - a failure outside any test (a global Environment) becomes a pseudo suite
//    "NonTestSuiteFailure" with an unnamed test (see load.h for the comma 1.12 forgets there);
//  - property values are always strings.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "diagnostics.h"
#include "results.h"

namespace zbl::report {

struct TestName {
  std::string suite;
  std::string rule;
  std::string config;
};

// Splits GoogleTest's suite and test names as described above. `type_param` is the testcase's
// "type_param" ("" for non-typed tests).
TestName SplitTestName(std::string_view suite_full, std::string_view test_name,
                       std::string_view type_param = {});

// Appends every testcase of `doc` to src.tests. `file` names the file in warnings; `rel` is its
// path inside the source folder.
void ReadGtest(const nlohmann::json& doc, const std::string& file, const std::string& rel,
               Source& src, Diagnostics& diag);

// Failure messages longer than this are cut (a runaway dump must not bloat the page).
inline constexpr size_t kMaxMessageBytes = 8192;

}  // namespace zbl::report
