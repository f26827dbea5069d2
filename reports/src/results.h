// The results of one folder (a "source": one machine or device, as CI collects them), after
// reading every JSON file in it. Readers fill it; the model builder and the baseline comparison
// read it. Fields left empty mean "not reported".
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace zbl::report {

enum class Outcome { kPass, kFail, kSkip };

const char* OutcomeName(Outcome o);  // "pass", "fail", "skip"

// One conformance (or unit) test case: a rule run on one configuration.
struct TestResult {
  std::string suite;
  std::string rule;
  std::string config;  // "unit" for non-parametrized tests
  Outcome outcome = Outcome::kPass;
  std::string message;        // failure text, or the skip reason (never empty for a skip)
  std::string variant;        // RecordProperty("variant"), e.g. "close_empty_explicit=noop"
  std::string option_string;  // RecordProperty("option_string")
  double seconds = 0;
  std::string file;  // relative path of the JSON file inside the source folder
  int seen = 1;      // > 1 when several files reported the same test (the worst outcome is kept)
};

// One benchmark run, reduced to one representative value set (see bench_reader.h).
struct BenchRun {
  std::string
      name;  // run name without aggregate suffix, e.g. "Append/emulated_hm/bs:4096/threads:2"
  std::string
      key;  // name without Google Benchmark's bookkeeping (repeats:N, real_time, ...)
            // so runs match across repetition counts: "Append/emulated_hm/bs:4096/threads:2"
  std::string family;  // "Append"
  std::string config;  // "emulated_hm" ("" when the name has no configuration segment)
  std::map<std::string, std::string> params;  // bs, qd, threads, ... (bare args as arg0, arg1)
  std::string stat;  // what the values are: "single", "mean", "median", "avg of N runs"
  int repetitions = 1;
  std::optional<double> bytes_per_second;
  std::optional<double> items_per_second;
  std::optional<double> real_time_ns;
  std::optional<double> cpu_time_ns;
  std::optional<double> cv_pct;            // coefficient of variation, when aggregates exist
  std::map<std::string, double> counters;  // user counters: p50_ns, p99_ns, zones_per_second
  std::string label;
  std::string error;  // error_message of a run that called SkipWithError
  std::string file;
};

// One tool's measurement in a peer comparison (zbl vs fio vs qemu-img).
struct ToolResult {
  std::string tool;     // "fio", "qemu-img", "zbl"
  std::string variant;  // engine / mode / driver, e.g. "psync"
  std::optional<double> qd;
  std::string cache;
  std::optional<double> iops;
  std::optional<double> bw_bytes;
  size_t runs = 0;  // number of repeated runs, when listed
};

struct Comparison {
  std::string file;
  std::string target;
  nlohmann::json workload = nlohmann::json::object();  // scalar members only
  std::vector<ToolResult> results;
  std::vector<std::pair<std::string, double>> ratios;
};

// One device configuration as the suite runner describes it in devices.json.
struct DeviceConfig {
  std::string name;
  std::string option_string;
  std::string driver_graph;
  std::string model;                                   // HM / HA / NONE
  std::string profile;                                 // the emulator profile, when emulated
  nlohmann::json limits = nlohmann::json::object();    // scalar members only
  std::map<std::string, std::string> fingerprint;      // cell -> observed variant
  std::map<std::string, std::string> fingerprint_src;  // cell -> "devices.json" or test name
  std::string fingerprint_match;
  // Who the device is: vendor, model, serial, firmware (from sysfs where the device has them)
  // and source ("sysfs" or "options": then model is the option string). Empty when not reported.
  std::map<std::string, std::string> identity;
};

struct Environment {
  std::string host, kernel, cpu, zbl_version, commit, generated;
  nlohmann::json bench_context = nlohmann::json::object();  // Google Benchmark's "context"
  nlohmann::json vm_devices;                                // as-is, null when absent
};

struct FileInfo {
  std::string path;  // relative to the source folder
  std::string kind;  // gtest, benchmark, devices, compare, vm-devices, unknown, malformed
};

struct Source {
  std::string dir;    // as given on the command line
  std::string label;  // short unique name for the fleet view (folder name by default)
  std::vector<FileInfo> files;
  Environment env;
  std::vector<DeviceConfig> configs;
  std::vector<TestResult> tests;
  std::vector<BenchRun> benchmarks;
  std::vector<Comparison> comparisons;

  DeviceConfig& Config(const std::string& name);  // finds or appends
};

}  // namespace zbl::report
