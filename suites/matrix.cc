// zbl-matrix RESULTS_DIR: the suite x configuration matrix of a zbl-suites run, from its
// GoogleTest JSON, for a terminal. Exits 1 when any test failed, 2 when the results are missing.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

struct Count {
  int passed = 0, failed = 0, skipped = 0;
};

// "zbl/Append" + "ReturnsOffset/emulated_hm_4k" -> suite "Append", config "emulated_hm_4k".
bool Split(const std::string& suite, const std::string& test, std::string& s, std::string& c) {
  auto slash = test.rfind('/');
  if (slash == std::string::npos) return false;
  s = suite.substr(suite.find('/') == std::string::npos ? 0 : suite.find('/') + 1);
  c = test.substr(slash + 1);
  return true;
}

std::string Cell(const Count& n) {
  if (n.passed + n.failed + n.skipped == 0) return "";
  if (n.failed) return std::to_string(n.failed) + "F" + (n.passed ? std::to_string(n.passed) : "");
  if (n.passed == 0) return "-";
  return std::to_string(n.passed);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: zbl-matrix RESULTS_DIR\n");
    return 2;
  }
  const std::string path = std::string(argv[1]) + "/zbl-suites.json";
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "zbl-matrix: cannot read %s\n", path.c_str());
    return 2;
  }
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("testsuites")) {
    std::fprintf(stderr, "zbl-matrix: %s is not GoogleTest JSON\n", path.c_str());
    return 2;
  }
  std::vector<std::string> suites, configs;
  std::map<std::pair<std::string, std::string>, Count> m;
  std::map<std::string, Count> per_config;
  Count total;
  for (const auto& ts : doc["testsuites"]) {
    for (const auto& t : ts.value("testsuite", nlohmann::json::array())) {
      std::string s, c;
      if (t.value("status", "RUN") != "RUN") continue;
      if (!Split(ts.value("name", ""), t.value("name", ""), s, c)) {
        // Not parametrized (the suites' own table checks): in the totals only.
        if (t.contains("failures") && !t["failures"].empty()) ++total.failed;
        else if (t.value("result", "") == "SKIPPED") ++total.skipped;
        else ++total.passed;
        continue;
      }
      if (std::find(suites.begin(), suites.end(), s) == suites.end()) suites.push_back(s);
      if (std::find(configs.begin(), configs.end(), c) == configs.end()) configs.push_back(c);
      Count& n = m[{s, c}];
      Count& pc = per_config[c];
      if (t.contains("failures") && !t["failures"].empty()) {
        ++n.failed, ++pc.failed, ++total.failed;
      } else if (t.value("result", "") == "SKIPPED") {
        ++n.skipped, ++pc.skipped, ++total.skipped;
      } else {
        ++n.passed, ++pc.passed, ++total.passed;
      }
    }
  }
  size_t wname = 6;
  for (const auto& c : configs) wname = std::max(wname, c.size());
  // Columns: suites, abbreviated to 5 characters with a legend.
  std::printf("%-*s", static_cast<int>(wname), "config");
  for (size_t i = 0; i < suites.size(); ++i) std::printf(" %5.5s", suites[i].c_str());
  std::printf("  pass fail skip\n");
  for (const auto& c : configs) {
    std::printf("%-*s", static_cast<int>(wname), c.c_str());
    for (const auto& s : suites) std::printf(" %5s", Cell(m[{s, c}]).c_str());
    const Count& pc = per_config[c];
    std::printf("  %4d %4d %4d\n", pc.passed, pc.failed, pc.skipped);
  }
  std::printf("cells: passed tests; NF = N failed; - = all skipped. Columns:");
  for (const auto& s : suites) std::printf(" %s", s.c_str());
  std::printf("\n");
  std::printf("%d passed, %d failed, %d skipped\n", total.passed, total.failed, total.skipped);
  return total.failed ? 1 : 0;
}
