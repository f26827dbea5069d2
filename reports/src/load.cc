#include "load.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "bench_reader.h"
#include "env_reader.h"
#include "gtest_reader.h"

namespace zbl::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool IsJsonFile(const fs::directory_entry& e) {
  std::error_code ec;
  if (!e.is_regular_file(ec)) {
    return false;
  }
  std::string ext = e.path().extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".json";
}

std::vector<fs::path> ListJsonFiles(const fs::path& dir, Diagnostics& diag) {
  std::vector<fs::path> files;
  std::error_code ec;
  auto opts = fs::directory_options::skip_permission_denied;
  for (fs::recursive_directory_iterator it(dir, opts, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (IsJsonFile(*it)) {
      files.push_back(it->path());
    }
  }
  if (ec) {
    diag.Warn(dir.string(), fmt::format("could not list the whole folder: {}", ec.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<std::string> ReadText(const fs::path& path, Diagnostics& diag) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) {
    text << in.rdbuf();
  }
  if (!in) {
    diag.Warn(path.string(), "could not be read; ignored");
    return std::nullopt;
  }
  return text.str();
}

// Orders outcomes for merging duplicates: a failure must never be hidden by a rerun.
int Severity(Outcome o) {
  switch (o) {
    case Outcome::kFail:
      return 2;
    case Outcome::kPass:
      return 1;
    case Outcome::kSkip:
      return 0;
  }
  return 0;
}

void MergeDuplicateTests(Source& src) {
  std::map<std::tuple<std::string, std::string, std::string>, size_t> index;
  std::vector<TestResult> merged;
  for (TestResult& t : src.tests) {
    auto [it, fresh] = index.try_emplace({t.suite, t.rule, t.config}, merged.size());
    if (fresh) {
      merged.push_back(std::move(t));
      continue;
    }
    TestResult& kept = merged[it->second];
    int seen = kept.seen + 1;
    if (Severity(t.outcome) > Severity(kept.outcome)) {
      kept = std::move(t);
    }
    kept.seen = seen;
  }
  src.tests = std::move(merged);
}

void CopyTestRecordsToConfigs(Source& src, Diagnostics& diag) {
  for (const TestResult& t : src.tests) {
    if (t.variant.empty() && t.option_string.empty()) {
      continue;
    }
    DeviceConfig& c = src.Config(t.config);
    if (c.option_string.empty()) {
      c.option_string = t.option_string;
    }
    if (!t.variant.empty()) {
      AddVariants(t.variant, fmt::format("{}.{}", t.suite, t.rule), c,
                  (fs::path(src.dir) / t.file).string(), diag);
    }
  }
}

}  // namespace

const char* FileKindName(FileKind kind) {
  switch (kind) {
    case FileKind::kGtest:
      return "gtest";
    case FileKind::kBenchmark:
      return "benchmark";
    case FileKind::kDevices:
      return "devices";
    case FileKind::kCompare:
      return "compare";
    case FileKind::kVmDevices:
      return "vm-devices";
    case FileKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

FileKind Classify(const json& doc, const std::string& filename) {
  std::string base = fs::path(filename).filename().string();
  if (base.starts_with("vm-devices")) {
    return FileKind::kVmDevices;
  }
  if (!doc.is_object()) {
    return FileKind::kUnknown;
  }
  std::string schema =
      doc.value("schema", json()).is_string() ? doc["schema"].get<std::string>() : "";
  if (schema.starts_with("zbl-devices/")) {
    return FileKind::kDevices;
  }
  if (schema.starts_with("zbl-compare/")) {
    return FileKind::kCompare;
  }
  if (schema.starts_with("zbl-vm-devices")) {
    return FileKind::kVmDevices;
  }
  if (doc.contains("testsuites")) {
    return FileKind::kGtest;
  }
  if (doc.contains("benchmarks")) {
    return FileKind::kBenchmark;
  }
  // Without a schema, recognize the zbl formats by their characteristic members.
  if (doc.contains("configs") && doc["configs"].is_array()) {
    return FileKind::kDevices;
  }
  if (doc.contains("results") && (doc.contains("ratios") || doc.contains("workload"))) {
    return FileKind::kCompare;
  }
  return FileKind::kUnknown;
}

std::string InsertMissingCommas(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 16);
  bool in_string = false, escaped = false;
  char last = 0;  // the last non-space character outside strings ('"' after a string)
  for (char c : text) {
    out += c;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        last = c;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' && last == '}') {
      out.insert(out.size() - 1, ",");
    }
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      last = c;
    }
  }
  return out;
}

std::optional<json> ParseResultJson(const std::string& text, const std::string& file,
                                    Diagnostics& diag) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    if (text.find("\"NonTestSuiteFailure\"") != std::string::npos) {
      json repaired = json::parse(InsertMissingCommas(text), nullptr, false);
      if (!repaired.is_discarded()) {
        diag.Warn(file,
                  "invalid JSON as GoogleTest 1.12 writes it after a failure outside any "
                  "test (missing ','); repaired and read");
        return repaired;
      }
    }
    diag.Warn(file, fmt::format("malformed JSON, file ignored: {}", e.what()));
  } catch (const json::exception& e) {
    // Not a syntax error but still unreadable, e.g. a number too large for a double (found by
    // fuzz/reports_fuzz).
    diag.Warn(file, fmt::format("malformed JSON, file ignored: {}", e.what()));
  }
  return std::nullopt;
}

void ReadDocument(const json& doc, const std::string& file, const std::string& rel, Source& src,
                  Diagnostics& diag) {
  FileKind kind = Classify(doc, file);
  src.files.push_back({rel, FileKindName(kind)});
  switch (kind) {
    case FileKind::kGtest:
      return ReadGtest(doc, file, rel, src, diag);
    case FileKind::kBenchmark:
      if (doc.contains("context") && doc["context"].is_object()) {
        src.env.bench_context = doc["context"];
      }
      return ReadBenchmark(doc, file, rel, src, diag);
    case FileKind::kDevices:
      return ReadDevices(doc, file, src, diag);
    case FileKind::kCompare:
      return ReadCompare(doc, file, rel, src, diag);
    case FileKind::kVmDevices:
      return ReadVmDevices(doc, file, src, diag);
    case FileKind::kUnknown:
      diag.Warn(file,
                "not a results file zbl knows (GoogleTest, Google Benchmark, devices, "
                "compare or vm-devices JSON); ignored");
      return;
  }
}

Source LoadSource(const fs::path& dir, Diagnostics& diag) {
  Source src;
  src.dir = dir.string();
  for (const fs::path& path : ListJsonFiles(dir, diag)) {
    std::string rel = fs::relative(path, dir).generic_string();
    std::string file = path.string();
    auto text = ReadText(path, diag);
    if (!text) {
      continue;
    }
    auto doc = ParseResultJson(*text, file, diag);
    if (!doc) {
      src.files.push_back({rel, "malformed"});
      continue;
    }
    ReadDocument(*doc, file, rel, src, diag);
  }
  FinishSource(src, diag);
  return src;
}

void FinishSource(Source& src, Diagnostics& diag) {
  MergeDuplicateTests(src);
  CopyTestRecordsToConfigs(src, diag);
}

void AssignLabels(std::vector<Source>& sources) {
  auto name_of = [](const std::string& dir, int depth) {
    fs::path p = fs::absolute(dir).lexically_normal();
    if (!p.has_filename()) {
      p = p.parent_path();  // "dir/" -> "dir"
    }
    std::string label = p.filename().string();
    for (int i = 1; i < depth && p.has_parent_path() && p.parent_path() != p; ++i) {
      p = p.parent_path();
      label.insert(0, p.filename().string() + "/");
    }
    return label;
  };
  std::map<std::string, int> count;
  for (auto& s : sources) {
    count[s.label = name_of(s.dir, 1)]++;
  }
  for (auto& s : sources) {
    if (count[s.label] > 1) {
      s.label = name_of(s.dir, 2);
    }
  }
  std::set<std::string> used;
  for (auto& s : sources) {
    std::string base = s.label;
    for (int n = 2; !used.insert(s.label).second; ++n) {
      s.label = fmt::format("{} #{}", base, n);
    }
  }
}

}  // namespace zbl::report
