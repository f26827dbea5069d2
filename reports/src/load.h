// Loading result folders: every *.json file below a folder, recursively, in a stable order.
//
// Each file is classified by its content (not its name, except vm-devices*.json whose format
// is the VM harness's own) and handed to its reader. A file that cannot be read or parsed, or
// whose kind is unknown, becomes a warning naming it; loading always continues.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "diagnostics.h"
#include "results.h"

namespace zbl::report {

enum class FileKind { kGtest, kBenchmark, kDevices, kCompare, kVmDevices, kUnknown };

const char* FileKindName(FileKind kind);

// Decides a document's format from its top-level members (and, for vm-devices, the file name).
FileKind Classify(const nlohmann::json& doc, const std::string& filename);

// Parses JSON text. GoogleTest 1.12 writes invalid JSON when a failure happens outside any test
// (a missing ',' before its "NonTestSuiteFailure" suite); such text is repaired, with a warning,
// because dropping that file would hide exactly that failure. nullopt (and a warning) otherwise.
std::optional<nlohmann::json> ParseResultJson(const std::string& text, const std::string& file,
                                              Diagnostics& diag);

// Inserts the ',' that GoogleTest 1.12 forgets between "}" and "{" (outside strings only).
std::string InsertMissingCommas(const std::string& text);

// Reads one folder into a Source (label left empty; see AssignLabels).
Source LoadSource(const std::filesystem::path& dir, Diagnostics& diag);

// Reads one parsed document into `src`.
void ReadDocument(const nlohmann::json& doc, const std::string& file, const std::string& rel,
                  Source& src, Diagnostics& diag);

// Merges tests reported more than once (same suite, rule, configuration) keeping the worst
// outcome (fail, then pass, then skip), and copies what tests recorded (variants, option
// strings) into the source's device configurations.
void FinishSource(Source& src, Diagnostics& diag);

// Gives every source a short unique label for the fleet view: the folder name, or
// "parent/name" when two folders share a name, or "name #N" as a last resort.
void AssignLabels(std::vector<Source>& sources);

}  // namespace zbl::report
