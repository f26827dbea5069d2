// zbl-suites: the conformance suites over every configuration.
//
// Results go to one folder (env ZBL_RESULTS_DIR, default results/): GoogleTest JSON
// (zbl-suites.json), JUnit XML (zbl-suites.xml, or the path of --gtest_output=xml:PATH), and
// devices.json describing each configuration that ran. ZBL_NO_RESULTS=1 (set under ctest, where
// every test is its own process) writes nothing.
// ZBL_KERNEL_VERSION=MAJOR.MINOR judges kernel devices by that kernel's answers instead of the
// running kernel's (see families.h).
//   --zbl-config-labels=FILE   writes each configuration's ctest labels as CMake and exits
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "configs.h"
#include "families.h"
#include "results.h"

namespace {

int WriteConfigLabels(const std::string& path) {
  std::ofstream out(path);
  for (const zbl::suites::Config& c : zbl::suites::AllConfigs()) {
    std::string labels;
    for (const std::string& l : c.driver_labels) labels += (labels.empty() ? "" : ";") + l;
    out << "set(zbl_config_labels_" << c.name << " \"" << labels << "\")\n";
  }
  return out ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (const std::string& a : args)
    if (a.rfind("--zbl-config-labels=", 0) == 0) return WriteConfigLabels(a.substr(20));

  if (const char* kv = std::getenv("ZBL_KERNEL_VERSION");
      kv && *kv && !zbl::suites::ParseLinuxVersion(kv)) {
    std::fprintf(stderr, "zbl-suites: error: ZBL_KERNEL_VERSION='%s' is not a Linux version "
                 "(MAJOR.MINOR, e.g. 6.12) (EINVAL)\n", kv);
    return 2;
  }
  const char* no = std::getenv("ZBL_NO_RESULTS");
  bool results = !(no && std::string(no) == "1");
  for (const std::string& a : args) results &= a != "--gtest_list_tests";
  const char* dir_env = std::getenv("ZBL_RESULTS_DIR");
  const std::string dir = dir_env && *dir_env ? dir_env : "results";

  // GoogleTest writes one format; JSON is the contract, so XML is written by our listener.
  std::string xml_path = dir + "/zbl-suites.xml";
  bool has_output = false;
  for (std::string& a : args) {
    if (a.rfind("--gtest_output=xml:", 0) == 0) {
      xml_path = a.substr(19);
      a = "--gtest_output=json:" + dir + "/zbl-suites.json";
      has_output = true;
    } else if (a.rfind("--gtest_output=", 0) == 0) {
      has_output = true;
    }
  }
  if (results && !has_output) args.push_back("--gtest_output=json:" + dir + "/zbl-suites.json");
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  int cargc = static_cast<int>(cargs.size());
  cargs.push_back(nullptr);
  ::testing::InitGoogleTest(&cargc, cargs.data());

  if (results) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (std::filesystem::path(xml_path).has_parent_path())
      std::filesystem::create_directories(std::filesystem::path(xml_path).parent_path(), ec);
    ::testing::UnitTest::GetInstance()->listeners().Append(
        zbl::suites::NewResultsListener(dir, xml_path));
  }
  return RUN_ALL_TESTS();
}
