#include "results.h"

namespace zbl::report {

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kSkip:
      return "skip";
  }
  return "skip";
}

DeviceConfig& Source::Config(const std::string& name) {
  for (auto& c : configs) {
    if (c.name == name) {
      return c;
    }
  }
  configs.push_back({});
  configs.back().name = name;
  return configs.back();
}

}  // namespace zbl::report
