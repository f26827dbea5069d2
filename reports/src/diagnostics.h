// Diagnostics: warnings collected while reading results, shown on stderr and in the page.
//
// Reading never throws on bad input: a malformed or unexpected file becomes a warning that names
// the file (and the JSON path inside it), so one broken artifact cannot hide the other results.
#pragma once

#include <string>
#include <vector>

namespace zbl::report {

struct Warning {
  std::string file;     // the file as the user named it (folder + relative path); may be empty
  std::string message;  // one line, says what was ignored and why
};

class Diagnostics {
 public:
  void Warn(std::string file, std::string message) {
    warnings_.push_back({std::move(file), std::move(message)});
  }
  const std::vector<Warning>& warnings() const { return warnings_; }

 private:
  std::vector<Warning> warnings_;
};

}  // namespace zbl::report
