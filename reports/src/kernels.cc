#include "kernels.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace zbl::report {

using nlohmann::json;
namespace fs = std::filesystem;

std::string DeviceKey(const Source& s) {
  fs::path p = fs::path(s.dir).lexically_normal();
  if (!p.has_filename()) {
    p = p.parent_path();  // "dir/" -> "dir"
  }
  std::string name = p.filename().string();
  return name.empty() ? s.label : name;
}

namespace {

std::string RuleAnswer(const TestResult& t) {
  std::string a = OutcomeName(t.outcome);
  if (!t.variant.empty()) {
    a += " (" + t.variant + ")";
  }
  return a;
}

// The first line of a message, at most 300 characters.
std::string Headline(const std::string& m) {
  std::string line = m.substr(0, m.find('\n'));
  return line.size() > 300 ? line.substr(0, 297) + "..." : line;
}

struct Member {
  std::string kernel;
  size_t source;
};

}  // namespace

json KernelView(const std::vector<Source>& sources) {
  std::set<std::string> all_kernels;
  std::map<std::string, std::vector<Member>> by_device;
  for (size_t i = 0; i < sources.size(); ++i) {
    const std::string& k = sources[i].env.kernel;
    if (k.empty()) {
      continue;
    }
    all_kernels.insert(k);
    std::vector<Member>& m = by_device[DeviceKey(sources[i])];
    bool have = false;
    for (const Member& x : m) {
      have = have || x.kernel == k;
    }
    if (!have) {  // one source per (device, kernel): the first given
      m.push_back({k, i});
    }
  }
  json devices = json::array(), changes = json::array();
  for (auto& [device, members] : by_device) {
    if (members.size() < 2) {
      continue;
    }
    std::sort(members.begin(), members.end(),
              [](const Member& a, const Member& b) { return a.kernel < b.kernel; });
    json srcs = json::array(), kernels = json::array();
    for (const Member& m : members) {
      srcs.push_back(m.source);
      kernels.push_back(m.kernel);
    }
    devices.push_back({{"device", device}, {"sources", srcs}, {"kernels", kernels}});

    // (config, kind 0 = cell / 1 = rule, suite, name) -> per member: answer, or absent.
    using Key = std::tuple<std::string, int, std::string, std::string>;
    std::map<Key, std::vector<const TestResult*>> rules;
    std::map<Key, std::vector<std::optional<std::string>>> cells;
    for (size_t mi = 0; mi < members.size(); ++mi) {
      const Source& s = sources[members[mi].source];
      for (const TestResult& t : s.tests) {
        auto& v = rules[{t.config, 1, t.suite, t.rule}];
        v.resize(members.size(), nullptr);
        v[mi] = &t;
      }
      for (const DeviceConfig& c : s.configs) {
        for (const auto& [cell, variant] : c.fingerprint) {
          auto& v = cells[{c.name, 0, "", cell}];
          v.resize(members.size());
          v[mi] = variant;
        }
      }
    }
    const std::string& device_name = device;  // clang 14 cannot capture a structured binding
    auto change = [&](const Key& key) {
      json j = {{"device", device_name},
                {"config", std::get<0>(key)},
                {"kind", std::get<1>(key) == 0 ? "cell" : "rule"},
                {"name", std::get<3>(key)}};
      if (std::get<1>(key) == 1) {
        j["suite"] = std::get<2>(key);
      }
      return j;
    };
    for (auto& [key, values] : cells) {
      values.resize(members.size());
      std::set<std::string> distinct;
      for (const auto& v : values) {
        distinct.insert(v.value_or("absent"));
      }
      if (distinct.size() < 2) {
        continue;
      }
      json j = change(key), answers = json::array();
      for (size_t mi = 0; mi < members.size(); ++mi) {
        answers.push_back({{"kernel", members[mi].kernel},
                           {"source", members[mi].source},
                           {"answer", values[mi].value_or("absent")}});
      }
      j["answers"] = answers;
      changes.push_back(j);
    }
    for (auto& [key, values] : rules) {
      values.resize(members.size(), nullptr);
      std::set<std::string> distinct;
      for (const TestResult* t : values) {
        distinct.insert(t ? RuleAnswer(*t) : "absent");
      }
      if (distinct.size() < 2) {
        continue;
      }
      json j = change(key), answers = json::array();
      for (size_t mi = 0; mi < members.size(); ++mi) {
        const TestResult* t = values[mi];
        json a = {{"kernel", members[mi].kernel},
                  {"source", members[mi].source},
                  {"answer", t ? RuleAnswer(*t) : "absent"}};
        if (t) {
          a["status"] = OutcomeName(t->outcome);
          if (!t->message.empty()) {
            a["message"] = Headline(t->message);
          }
        }
        answers.push_back(a);
      }
      j["answers"] = answers;
      changes.push_back(j);
    }
  }
  json kernels = json::array();
  for (const std::string& k : all_kernels) {
    kernels.push_back(k);
  }
  return {{"kernels", kernels}, {"devices", devices}, {"changes", changes}};
}

}  // namespace zbl::report
