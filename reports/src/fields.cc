#include "fields.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace zbl::report {

using nlohmann::json;

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

const json* Fields::Find(std::string_view key) const {
  if (!obj_.is_object()) {
    return nullptr;
  }
  auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

bool Fields::Has(std::string_view key) const { return Find(key) != nullptr; }

std::string Fields::Path(std::string_view key) const {
  return where_.empty() ? std::string(key) : fmt::format("{}.{}", where_, key);
}

std::string Fields::Path(std::string_view key, size_t index) const {
  return fmt::format("{}[{}]", Path(key), index);
}

void Fields::WarnType(std::string_view key, std::string_view expected) const {
  const json* v = Find(key);
  diag_.Warn(file_, fmt::format("{} is {}, expected {}; ignored", Path(key),
                                v ? v->type_name() : "missing", expected));
}

std::optional<std::string> Fields::Str(std::string_view key) const {
  const json* v = Find(key);
  if (!v) {
    return std::nullopt;
  }
  if (v->is_string()) {
    return v->get<std::string>();
  }
  if (v->is_number() || v->is_boolean()) {
    return v->dump();
  }
  WarnType(key, "a string");
  return std::nullopt;
}

std::string Fields::StrOr(std::string_view key, std::string fallback) const {
  return Str(key).value_or(std::move(fallback));
}

std::optional<double> Fields::Num(std::string_view key) const {
  const json* v = Find(key);
  if (!v) {
    return std::nullopt;
  }
  if (v->is_number()) {
    double d = v->get<double>();
    if (std::isfinite(d)) {
      return d;
    }
  } else if (v->is_string()) {
    if (auto d = ParseNumber(v->get<std::string>())) {
      return d;
    }
  }
  WarnType(key, "a number");
  return std::nullopt;
}

std::optional<bool> Fields::Bool(std::string_view key) const {
  const json* v = Find(key);
  if (!v) {
    return std::nullopt;
  }
  if (v->is_boolean()) {
    return v->get<bool>();
  }
  if (v->is_string() && (*v == "true" || *v == "false")) {
    return *v == "true";
  }
  WarnType(key, "a boolean");
  return std::nullopt;
}

const json* Fields::Obj(std::string_view key) const {
  const json* v = Find(key);
  if (!v) {
    return nullptr;
  }
  if (v->is_object()) {
    return v;
  }
  WarnType(key, "an object");
  return nullptr;
}

const json* Fields::Arr(std::string_view key) const {
  const json* v = Find(key);
  if (!v) {
    return nullptr;
  }
  if (v->is_array()) {
    return v;
  }
  WarnType(key, "an array");
  return nullptr;
}

}  // namespace zbl::report
