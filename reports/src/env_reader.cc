#include "env_reader.h"

#include <fmt/format.h>

#include "fields.h"

namespace zbl::report {

using nlohmann::json;

namespace {

// Keeps the scalar members of an object; nested values are not geometry and would not fit a
// table cell.
json Scalars(const json* obj, const Fields& parent, std::string_view key) {
  json out = json::object();
  if (!obj) {
    return out;
  }
  for (const auto& [k, v] : obj->items()) {
    if (v.is_primitive() && !v.is_null()) {
      out[k] = v;
    } else {
      parent.diag().Warn(parent.file(), fmt::format("{}.{} is {}, expected a number or string; "
                                                    "ignored",
                                                    parent.Path(key), k, v.type_name()));
    }
  }
  return out;
}

// First file wins; a later file that disagrees is worth a warning (mixed-up artifacts).
void SetOnce(std::string& slot, const std::optional<std::string>& value, std::string_view what,
             const std::string& file, Diagnostics& diag) {
  if (!value || value->empty()) {
    return;
  }
  if (slot.empty()) {
    slot = *value;
  } else if (slot != *value) {
    diag.Warn(file, fmt::format("{} \"{}\" differs from \"{}\" read earlier in the same folder; "
                                "kept the earlier one",
                                what, *value, slot));
  }
}

void ReadFingerprint(const Fields& f, DeviceConfig& c) {
  const json* fp = f.Obj("fingerprint");
  if (!fp) {
    return;
  }
  Fields cells(*fp, f.file(), f.Path("fingerprint"), f.diag());
  for (const auto& [cell, value] : fp->items()) {
    auto variant = cells.Str(cell);
    if (!variant) {
      continue;
    }
    c.fingerprint[cell] = *variant;
    c.fingerprint_src[cell] = "devices.json";
  }
}

void ReadConfig(const Fields& f, Source& src) {
  auto name = f.Str("name");
  if (!name || name->empty()) {
    f.diag().Warn(f.file(), fmt::format("{} has no name; ignored", f.Path("name")));
    return;
  }
  DeviceConfig& c = src.Config(*name);
  auto fill = [&](std::string& slot, std::string_view key) {
    if (auto v = f.Str(key)) {
      slot = *v;
    }
  };
  fill(c.option_string, "option_string");
  fill(c.driver_graph, "driver_graph");
  fill(c.model, "model");
  fill(c.profile, "profile");
  fill(c.fingerprint_match, "fingerprint_match");
  if (const json* limits = f.Obj("limits")) {
    c.limits = Scalars(limits, f, "limits");
  }
  ReadFingerprint(f, c);
  if (const json* identity = f.Obj("identity")) {
    Fields id(*identity, f.file(), f.Path("identity"), f.diag());
    for (const auto& [k, v] : identity->items()) {
      if (auto text = id.Str(k)) {
        c.identity[k] = *text;
      }
    }
  }
}

std::string Trim(const std::string& s) {
  const char* ws = " \t\n\r";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) {
    return {};
  }
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string FirstOf(const Fields& f, std::initializer_list<std::string_view> keys) {
  for (auto key : keys) {
    if (auto v = f.Str(key)) {
      return *v;
    }
  }
  return {};
}

ToolResult ReadToolResult(const Fields& f) {
  ToolResult t;
  t.tool = f.StrOr("tool", "?");
  t.variant = FirstOf(f, {"engine", "mode", "driver"});
  t.qd = f.Num("qd");
  t.cache = f.StrOr("cache");
  t.iops = f.Num("iops");
  t.bw_bytes = f.Num("bw_bytes");
  if (const json* runs = f.Arr("runs")) {
    t.runs = runs->size();
  }
  return t;
}

}  // namespace

void CheckSchema(const json& doc, const std::string& expected, const std::string& file,
                 Diagnostics& diag) {
  if (!doc.is_object() || !doc.contains("schema")) {
    return;
  }
  const json& s = doc["schema"];
  if (!s.is_string() || s.get<std::string>() != expected) {
    diag.Warn(file, fmt::format("schema {} is not {}; reading the fields this version knows",
                                s.dump(), expected));
  }
}

void ReadDevices(const json& doc, const std::string& file, Source& src, Diagnostics& diag) {
  CheckSchema(doc, "zbl-devices/1", file, diag);
  Fields f(doc, file, "", diag);
  Environment& env = src.env;
  SetOnce(env.host, f.Str("host"), "host", file, diag);
  SetOnce(env.kernel, f.Str("kernel"), "kernel", file, diag);
  SetOnce(env.cpu, f.Str("cpu"), "cpu", file, diag);
  SetOnce(env.zbl_version, f.Str("zbl_version"), "zbl_version", file, diag);
  SetOnce(env.commit, f.Str("commit"), "commit", file, diag);
  SetOnce(env.generated, f.Str("generated"), "generated", file, diag);
  const json* configs = f.Arr("configs");
  if (!configs) {
    return;
  }
  for (size_t i = 0; i < configs->size(); ++i) {
    ReadConfig(Fields((*configs)[i], file, f.Path("configs", i), diag), src);
  }
}

void ReadCompare(const json& doc, const std::string& file, const std::string& rel, Source& src,
                 Diagnostics& diag) {
  CheckSchema(doc, "zbl-compare/1", file, diag);
  Fields f(doc, file, "", diag);
  Comparison c;
  c.file = rel;
  c.target = f.StrOr("target");
  c.workload = Scalars(f.Obj("workload"), f, "workload");
  if (const json* results = f.Arr("results")) {
    for (size_t i = 0; i < results->size(); ++i) {
      c.results.push_back(ReadToolResult(Fields((*results)[i], file, f.Path("results", i), diag)));
    }
  }
  if (const json* ratios = f.Arr("ratios")) {
    for (size_t i = 0; i < ratios->size(); ++i) {
      Fields r((*ratios)[i], file, f.Path("ratios", i), diag);
      auto value = r.Num("value");
      if (value) {
        c.ratios.emplace_back(r.StrOr("name", fmt::format("ratio {}", i)), *value);
      }
    }
  }
  src.comparisons.push_back(std::move(c));
}

void ReadVmDevices(const json& doc, const std::string& file, Source& src, Diagnostics& diag) {
  if (!src.env.vm_devices.is_null()) {
    diag.Warn(file, "a second vm-devices file in the same folder; ignored");
    return;
  }
  src.env.vm_devices = doc;
}

void AddVariants(const std::string& variants, const std::string& origin, DeviceConfig& config,
                 const std::string& file, Diagnostics& diag) {
  size_t start = 0;
  while (start <= variants.size()) {
    size_t end = variants.find_first_of(",;", start);
    std::string pair = variants.substr(start, end == std::string::npos ? end : end - start);
    start = end == std::string::npos ? variants.size() + 1 : end + 1;
    size_t eq = pair.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    std::string cell = Trim(pair.substr(0, eq)), variant = Trim(pair.substr(eq + 1));
    if (cell.empty()) {
      continue;
    }
    auto it = config.fingerprint.find(cell);
    if (it == config.fingerprint.end()) {
      config.fingerprint[cell] = variant;
      config.fingerprint_src[cell] = origin;
    } else if (it->second != variant) {
      // Kept as a warning: either the device shows more than one variant of the cell (a SCSI
      // write violation is EREMOTEIO from the disk or EIO from Linux's zone write plug) or a
      // probe and a rule disagree; the page shows the first, the warning names both.
      diag.Warn(file, fmt::format("{} on {} observed {}={} where {} observed {}: the device showed "
                                  "more than one variant of this cell",
                                  origin, config.name, cell, variant, config.fingerprint_src[cell],
                                  it->second));
    }
  }
}

}  // namespace zbl::report
