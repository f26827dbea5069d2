// Fields: typed, optional access to the members of one JSON object, with warnings on wrong types.
//
// Every input format treats every field as optional and ignores unknown ones; this is the one
// place that decides what a wrong type means (a warning naming file and JSON path, and the field
// treated as absent), so the readers stay short and never throw on odd input.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "diagnostics.h"

namespace zbl::report {

class Fields {
 public:
  // `obj` may be anything; a non-object reads as empty (the caller warns if that matters).
  // `where` is the JSON path of `obj` inside `file`, e.g. "configs[2]".
  Fields(const nlohmann::json& obj, std::string file, std::string where, Diagnostics& diag)
      : obj_(obj), file_(std::move(file)), where_(std::move(where)), diag_(diag) {}

  bool Has(std::string_view key) const;
  // A string; numbers and booleans are converted (gtest writes RecordProperty values as strings,
  // hand-written files may not).
  std::optional<std::string> Str(std::string_view key) const;
  // Str() or "" when absent.
  std::string StrOr(std::string_view key, std::string fallback = {}) const;
  // A finite number; numeric strings are accepted for the same reason.
  std::optional<double> Num(std::string_view key) const;
  std::optional<bool> Bool(std::string_view key) const;
  // Members that must be an object / an array; anything else warns and reads as absent.
  const nlohmann::json* Obj(std::string_view key) const;
  const nlohmann::json* Arr(std::string_view key) const;

  // The JSON path of a member, for nested Fields and warnings: "configs[2].limits".
  std::string Path(std::string_view key) const;
  std::string Path(std::string_view key, size_t index) const;
  const std::string& file() const { return file_; }
  Diagnostics& diag() const { return diag_; }
  void WarnType(std::string_view key, std::string_view expected) const;

 private:
  const nlohmann::json* Find(std::string_view key) const;

  const nlohmann::json& obj_;
  std::string file_;
  std::string where_;
  Diagnostics& diag_;
};

// Parses a whole string as a finite double ("12", "1.5e3"); nullopt otherwise.
std::optional<double> ParseNumber(std::string_view text);

}  // namespace zbl::report
