#include "gtest_reader.h"

#include <fmt/format.h>

#include <algorithm>

#include "fields.h"

namespace zbl::report {

using nlohmann::json;

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view AfterLastSlash(std::string_view s) {
  size_t slash = s.rfind('/');
  return slash == std::string_view::npos ? s : s.substr(slash + 1);
}

std::string Truncate(std::string text) {
  if (text.size() <= kMaxMessageBytes) {
    return text;
  }
  size_t total = text.size();
  text.resize(kMaxMessageBytes);
  // Do not leave half a UTF-8 sequence: the page's JSON must stay valid.
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
    text.pop_back();
  }
  if (!text.empty() && (static_cast<unsigned char>(text.back()) & 0x80)) {
    text.pop_back();
  }
  return text + fmt::format("\n... (truncated, {} bytes in total)", total);
}

// "0.012s" -> 0.012
double ParseSeconds(const std::string& text) {
  std::string_view s = text;
  if (!s.empty() && s.back() == 's') {
    s.remove_suffix(1);
  }
  return ParseNumber(s).value_or(0);
}

std::string JoinFailures(const Fields& tc, const json& failures) {
  std::string text;
  for (size_t i = 0; i < failures.size(); ++i) {
    Fields f(failures[i], tc.file(), tc.Path("failures", i), tc.diag());
    std::string one = f.StrOr("failure", "(failure without a message)");
    text += text.empty() ? one : "\n\n" + one;
  }
  return text.empty() ? "failed (no message recorded)" : Truncate(std::move(text));
}

// Newer GoogleTest releases may list skip messages; accept a string, an array of strings or an
// array of {"message": ...} so the reader keeps working when the Debian package moves on.
std::string SkipMessageFromJson(const json& tc) {
  auto it = tc.find("skipped");
  if (it == tc.end()) {
    return {};
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  if (!it->is_array()) {
    return {};
  }
  std::string text;
  for (const auto& part : *it) {
    std::string one;
    if (part.is_string()) {
      one = part.get<std::string>();
    }
    if (part.is_object() && part.contains("message") && part["message"].is_string()) {
      one = part["message"].get<std::string>();
    }
    if (!one.empty()) {
      text += text.empty() ? one : "\n" + one;
    }
  }
  return text;
}

std::string SkipReason(const Fields& tc, const json& raw) {
  if (auto reason = tc.Str("skip_reason"); reason && !reason->empty()) {
    return *reason;
  }
  if (std::string msg = SkipMessageFromJson(raw); !msg.empty()) {
    return msg;
  }
  if (tc.StrOr("timestamp").starts_with("1970-01-01")) {
    return "never started: SetUpTestSuite skipped or failed (GoogleTest's JSON keeps no "
           "suite-level message)";
  }
  return "no reason recorded (GoogleTest 1.12 JSON drops GTEST_SKIP messages; the test can "
         "RecordProperty(\"skip_reason\", ...))";
}

// Decides pass / fail / skip and the message, from the fields described in the header.
void ClassifyOutcome(const Fields& tc, const json& raw, TestResult& r) {
  if (const json* failures = tc.Arr("failures"); failures && !failures->empty()) {
    r.outcome = Outcome::kFail;
    r.message = JoinFailures(tc, *failures);
    return;
  }
  std::string status = tc.StrOr("status");
  std::string result = tc.StrOr("result");
  if (result == "SKIPPED") {
    r.outcome = Outcome::kSkip;
    r.message = SkipReason(tc, raw);
  } else if (result == "SUPPRESSED" || status == "NOTRUN") {
    r.outcome = Outcome::kSkip;
    r.message = "disabled (DISABLED_ prefix or not selected to run)";
  } else if (result == "COMPLETED" || (result.empty() && status == "RUN")) {
    r.outcome = Outcome::kPass;
  } else if (result.empty() && status.empty()) {
    r.outcome = Outcome::kSkip;
    r.message = "listed only, not run (--gtest_list_tests output)";
  } else {
    r.outcome = Outcome::kSkip;
    r.message = fmt::format("unknown GoogleTest result \"{}\" (status \"{}\")", result, status);
    tc.diag().Warn(tc.file(), fmt::format("{}: {}", tc.Path("result"), r.message));
  }
}

void ReadTestCase(const json& raw, const std::string& suite_full, const Fields& tc, Source& src,
                  const std::string& rel) {
  std::string name = tc.StrOr("name");
  TestName id = SplitTestName(suite_full, name, tc.StrOr("type_param"));
  TestResult r;
  r.suite = id.suite;
  r.rule = id.rule;
  r.config = tc.Str("config").value_or(id.config);
  if (r.config.empty()) {
    r.config = id.config;
  }
  r.variant = tc.StrOr("variant");
  r.option_string = tc.StrOr("option_string");
  r.seconds = ParseSeconds(tc.StrOr("time"));
  r.file = rel;
  ClassifyOutcome(tc, raw, r);
  src.tests.push_back(std::move(r));
}

}  // namespace

TestName SplitTestName(std::string_view suite_full, std::string_view test_name,
                       std::string_view type_param) {
  TestName id;
  // Typed suites end in "/<type index>"; the type, not the index, names the configuration.
  if (!type_param.empty()) {
    size_t slash = suite_full.rfind('/');
    if (slash != std::string_view::npos && AllDigits(suite_full.substr(slash + 1))) {
      suite_full = suite_full.substr(0, slash);
    }
  }
  id.suite = std::string(AfterLastSlash(suite_full));
  size_t slash = test_name.rfind('/');
  if (slash == std::string_view::npos) {
    id.rule = std::string(test_name);
    id.config = type_param.empty() ? "unit" : std::string(type_param);
  } else {
    id.rule = std::string(test_name.substr(0, slash));
    id.config = std::string(test_name.substr(slash + 1));
  }
  if (id.suite.empty()) {
    id.suite = "(unnamed suite)";
  }
  if (id.rule.empty()) {
    id.rule = "(outside any test)";
  }
  if (id.config.empty()) {
    id.config = "unit";
  }
  return id;
}

void ReadGtest(const json& doc, const std::string& file, const std::string& rel, Source& src,
               Diagnostics& diag) {
  Fields top(doc, file, "", diag);
  const json* suites = top.Arr("testsuites");
  if (!suites) {
    return;
  }
  for (size_t i = 0; i < suites->size(); ++i) {
    Fields suite((*suites)[i], file, top.Path("testsuites", i), diag);
    std::string suite_name = suite.StrOr("name");
    const json* cases = suite.Arr("testsuite");
    if (!cases) {
      continue;
    }
    for (size_t k = 0; k < cases->size(); ++k) {
      const json& raw = (*cases)[k];
      Fields tc(raw, file, suite.Path("testsuite", k), diag);
      if (!raw.is_object()) {
        diag.Warn(file, fmt::format("{} is not an object; ignored", suite.Path("testsuite", k)));
        continue;
      }
      ReadTestCase(raw, suite_name, tc, src, rel);
    }
  }
}

}  // namespace zbl::report
