#include "zbl/options.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace zbl {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string EscapeOptionValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

Result<uint64_t> ParseNumber(std::string_view text) {
  std::string_view t = Trim(text);
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    base = 16;
    t.remove_prefix(2);
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, base);
  if (t.empty() || ec == std::errc::result_out_of_range)
    return Error(t.empty() ? EINVAL : ERANGE, "invalid number '{}'", text);
  if (ec != std::errc() || p != t.data() + t.size())
    return Error(EINVAL, "invalid number '{}'", text);
  return v;
}

Result<uint64_t> ParseSize(std::string_view text) {
  std::string_view t = Trim(text);
  if (t.empty()) return Error(EINVAL, "empty size");
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) return ParseNumber(t);
  // Integer part, optional fraction, optional suffix (binary multiples, as qemu_strtosz).
  size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  size_t int_end = i;
  size_t frac_begin = i, frac_end = i;
  if (i < t.size() && t[i] == '.') {
    frac_begin = ++i;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    frac_end = i;
  }
  if (int_end == 0 && frac_end == frac_begin) return Error(EINVAL, "invalid size '{}'", text);
  uint64_t mult = 1;
  if (i < t.size()) {
    switch (std::tolower(static_cast<unsigned char>(t[i]))) {
      case 'b': mult = 1; break;
      case 'k': mult = uint64_t{1} << 10; break;
      case 'm': mult = uint64_t{1} << 20; break;
      case 'g': mult = uint64_t{1} << 30; break;
      case 't': mult = uint64_t{1} << 40; break;
      case 'p': mult = uint64_t{1} << 50; break;
      case 'e': mult = uint64_t{1} << 60; break;
      default: return Error(EINVAL, "invalid size suffix in '{}'", text);
    }
    ++i;
    if (i != t.size()) return Error(EINVAL, "trailing characters in size '{}'", text);
  }
  uint64_t whole = 0;
  if (int_end > 0) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + int_end, whole);
    if (ec != std::errc()) return Error(ERANGE, "size '{}' is too large", text);
  }
  if (whole != 0 && mult > UINT64_MAX / whole) return Error(ERANGE, "size '{}' is too large", text);
  uint64_t v = whole * mult;
  if (frac_end > frac_begin) {
    if (mult == 1) return Error(EINVAL, "fractional size '{}' needs a unit suffix", text);
    // strtod, not stod: a fraction too small for a double must not throw out of the parser.
    double frac = std::strtod(("0." + std::string(t.substr(frac_begin, frac_end - frac_begin))).c_str(),
                              nullptr);
    auto extra = static_cast<uint64_t>(std::llround(frac * static_cast<double>(mult)));
    if (v > UINT64_MAX - extra) return Error(ERANGE, "size '{}' is too large", text);
    v += extra;
  }
  return v;
}

Result<bool> ParseBool(std::string_view text) {
  std::string t(Trim(text));
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "on" || t == "true" || t == "yes" || t == "1") return true;
  if (t == "off" || t == "false" || t == "no" || t == "0") return false;
  return Error(EINVAL, "invalid boolean '{}' (use on/off)", text);
}

Result<Options> Options::Parse(std::string_view text) {
  Options root;
  size_t i = 0;
  if (Trim(text).empty()) return Error(EINVAL, "empty option string");
  while (i <= text.size()) {
    // One "key=value" item; ",," inside a value is a literal comma.
    std::string item;
    while (i < text.size()) {
      if (text[i] == ',') {
        if (i + 1 < text.size() && text[i + 1] == ',') {
          item += ',';
          i += 2;
          continue;
        }
        break;
      }
      item += text[i++];
    }
    ++i;  // skip the separator
    if (item.empty()) {
      if (i > text.size()) break;
      return Error(EINVAL, "empty item in option string '{}'", text);
    }
    size_t eq = item.find('=');
    if (eq == std::string::npos)
      return Error(EINVAL, "option '{}' has no value (expected key=value)", item);
    std::string key(Trim(std::string_view(item).substr(0, eq)));
    std::string value = item.substr(eq + 1);
    if (key.empty()) return Error(EINVAL, "option with an empty key in '{}'", text);
    // A key is a name: a comma in it (from ",,") could not be printed back unambiguously.
    if (key.find(',') != std::string::npos)
      return Error(EINVAL, "option key '{}' contains a comma", key);
    // Walk dotted prefixes down the child tree.
    Options* node = &root;
    size_t start = 0;
    for (size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1) {
      std::string part = key.substr(start, dot - start);
      if (part.empty()) return Error(EINVAL, "malformed option key '{}'", key);
      node = &node->children_[part];
    }
    std::string leaf = key.substr(start);
    if (leaf.empty()) return Error(EINVAL, "malformed option key '{}'", key);
    if (node->values_.count(leaf)) return Error(EINVAL, "option '{}' given twice", key);
    node->values_[leaf] = value;
  }
  return root;
}

Status Options::BadValue(std::string_view key, std::string_view text, std::string_view why) const {
  return Error(EINVAL, "{}option '{}': {} ('{}')", context_.empty() ? "" : context_ + ": ", key,
               why, text);
}

Result<std::string> Options::GetString(std::string_view key, std::string_view def) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return std::string(def);
  used_.insert(it->first);
  return it->second;
}

Result<std::string> Options::GetRequiredString(std::string_view key) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end())
    return Error(EINVAL, "{}missing required option '{}'", context_.empty() ? "" : context_ + ": ",
                 key);
  used_.insert(it->first);
  return it->second;
}

Result<uint64_t> Options::GetSize(std::string_view key, uint64_t def) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return def;
  used_.insert(it->first);
  auto v = ParseSize(it->second);
  if (!v.ok()) return BadValue(key, it->second, v.status().message());
  return v;
}

Result<uint64_t> Options::GetNumber(std::string_view key, uint64_t def) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return def;
  used_.insert(it->first);
  auto v = ParseNumber(it->second);
  if (!v.ok()) return BadValue(key, it->second, v.status().message());
  return v;
}

Result<bool> Options::GetBool(std::string_view key, bool def) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return def;
  used_.insert(it->first);
  auto v = ParseBool(it->second);
  if (!v.ok()) return BadValue(key, it->second, "expected on or off");
  return v;
}

Result<std::string> Options::GetChoice(std::string_view key, std::string_view def,
                                       const std::vector<std::string_view>& choices) const {
  auto v = GetString(key, def);
  if (!v.ok()) return v;
  for (auto c : choices)
    if (*v == c) return v;
  std::string list;
  for (auto c : choices) list += (list.empty() ? "" : "|") + std::string(c);
  return BadValue(key, *v, "expected one of " + list);
}

Result<std::vector<uint64_t>> Options::GetIndexList(std::string_view key) const {
  std::vector<uint64_t> out;
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return out;
  used_.insert(it->first);
  std::string_view s = it->second;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find_first_of(": ", i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view tok = s.substr(i, j - i);
    i = j + 1;
    if (tok.empty()) continue;
    size_t dash = tok.find('-');
    auto lo = ParseNumber(tok.substr(0, dash));
    if (!lo.ok()) return BadValue(key, it->second, "invalid zone index list");
    uint64_t hi = *lo;
    if (dash != std::string_view::npos) {
      auto h = ParseNumber(tok.substr(dash + 1));
      if (!h.ok() || *h < *lo) return BadValue(key, it->second, "invalid zone index range");
      hi = *h;
    }
    if (hi - *lo > (1u << 24)) return BadValue(key, it->second, "zone index range too large");
    for (uint64_t v = *lo; v <= hi; ++v) out.push_back(v);
  }
  return out;
}

Options* Options::Child(std::string_view name) {
  auto it = children_.find(std::string(name));
  return it == children_.end() ? nullptr : &it->second;
}

const Options* Options::Child(std::string_view name) const {
  auto it = children_.find(std::string(name));
  return it == children_.end() ? nullptr : &it->second;
}

std::vector<std::string> Options::ChildNames() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : children_) out.push_back(k);
  return out;
}

void Options::Set(std::string key, std::string value) { values_[std::move(key)] = std::move(value); }

void Options::Erase(std::string_view key) { values_.erase(std::string(key)); }

Status Options::CheckAllUsed() const {
  for (const auto& [k, v] : values_) {
    if (!used_.count(k))
      return Error(EINVAL, "{}unknown option '{}'", context_.empty() ? "" : context_ + ": ", k);
  }
  return Status::Ok();
}

void Options::AppendTo(std::string& out, const std::string& prefix) const {
  // "driver" first, as people write it.
  auto emit = [&](const std::string& k, const std::string& v) {
    if (!out.empty()) out += ',';
    out += prefix + k + "=" + EscapeOptionValue(v);
  };
  if (auto it = values_.find("driver"); it != values_.end()) emit(it->first, it->second);
  for (const auto& [k, v] : values_)
    if (k != "driver") emit(k, v);
  for (const auto& [name, child] : children_) child.AppendTo(out, prefix + name + ".");
}

std::string Options::ToString() const {
  std::string out;
  AppendTo(out, "");
  return out;
}

// ---- typed declarations ----

std::string_view ToString(OptionType t) {
  switch (t) {
    case OptionType::kString: return "string";
    case OptionType::kBool: return "bool";
    case OptionType::kSize: return "size";
    case OptionType::kNumber: return "number";
    case OptionType::kChoice: return "choice";
    case OptionType::kIndexList: return "list";
  }
  return "?";
}

namespace {
std::string_view LastPart(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

std::string RangeText(const OptionSpec& s) {
  if (s.min == 0 && s.max == std::numeric_limits<uint64_t>::max()) return "";
  if (s.max == std::numeric_limits<uint64_t>::max()) return fmt::format(">= {}", s.min);
  return fmt::format("{}..{}", s.min, s.max);
}

Status CheckRange(const OptionSpec& s, uint64_t v, std::string_view text, std::string_view ctx) {
  if (v >= s.min && v <= s.max) return Status::Ok();
  return Error(EINVAL, "{}option '{}': {} is out of range {}{} ('{}')",
               ctx.empty() ? "" : std::string(ctx) + ": ", s.name, v, RangeText(s),
               s.unit.empty() ? "" : " " + std::string(s.unit), text);
}

bool IsChoice(const OptionSpec& s, std::string_view v) {
  std::string_view c = s.choices;
  while (true) {
    const size_t bar = c.find('|');
    if (c.substr(0, bar) == v) return true;
    if (bar == std::string_view::npos) return false;
    c = c.substr(bar + 1);
  }
}
}  // namespace

Status CheckOptionValue(const OptionSpec& spec, std::string_view text, std::string_view ctx) {
  const std::string where = ctx.empty() ? "" : std::string(ctx) + ": ";
  auto bad = [&](std::string_view why) {
    return Error(EINVAL, "{}option '{}': {} ('{}')", where, spec.name, why, text);
  };
  switch (spec.type) {
    case OptionType::kString: return Status::Ok();
    case OptionType::kBool: {
      auto v = ParseBool(text);
      return v.ok() ? Status::Ok() : bad(v.status().message());
    }
    case OptionType::kSize:
    case OptionType::kNumber: {
      auto v = spec.type == OptionType::kSize ? ParseSize(text) : ParseNumber(text);
      if (!v.ok()) return bad(v.status().message());
      return CheckRange(spec, *v, text, ctx);
    }
    case OptionType::kChoice:
      return IsChoice(spec, text) ? Status::Ok()
                                  : bad(fmt::format("expected one of {}", spec.choices));
    case OptionType::kIndexList: {
      Options o;
      o.Set(std::string(LastPart(spec.name)), std::string(text));
      auto v = o.GetIndexList(LastPart(spec.name));
      return v.ok() ? Status::Ok() : bad(v.status().message());
    }
  }
  return Status::Ok();
}

std::string FormatOption(const OptionSpec& s) {
  std::string type(ToString(s.type));
  if (!s.unit.empty()) type += fmt::format(" [{}]", s.unit);
  std::string range = s.type == OptionType::kChoice ? std::string(s.choices) : RangeText(s);
  std::string def = s.required ? "(required)"
                    : s.default_value.empty() ? "-"
                                              : std::string(s.default_value);
  return fmt::format("  {:<24} {:<20} {:<12} {:<16} {}", s.name, type, def, range, s.help);
}

Result<uint64_t> Options::Get(const OptionSpec& spec) const {
  uint64_t def = 0;
  if (!spec.default_value.empty()) {
    auto d = spec.type == OptionType::kSize ? ParseSize(spec.default_value)
                                            : ParseNumber(spec.default_value);
    if (!d.ok()) return Error(EINVAL, "option '{}': bad declared default", spec.name);
    def = *d;
  }
  return Get(spec, def);
}

Result<uint64_t> Options::Get(const OptionSpec& spec, uint64_t def) const {
  const std::string_view key = LastPart(spec.name);
  if (spec.required && !Has(key))
    return Error(EINVAL, "{}missing required option '{}'", context_.empty() ? "" : context_ + ": ",
                 spec.name);
  auto v = spec.type == OptionType::kSize ? GetSize(key, def) : GetNumber(key, def);
  if (!v.ok() || !Has(key)) return v;
  ZBL_RETURN_IF_ERROR(CheckRange(spec, *v, values_.at(std::string(key)), context_));
  return v;
}

Result<bool> Options::GetFlag(const OptionSpec& spec) const {
  bool def = false;
  if (!spec.default_value.empty()) {
    auto d = ParseBool(spec.default_value);
    def = d.ok() && *d;
  }
  return GetBool(LastPart(spec.name), def);
}

Result<std::string> Options::GetText(const OptionSpec& spec) const {
  const std::string_view key = LastPart(spec.name);
  if (spec.required && !Has(key))
    return Error(EINVAL, "{}missing required option '{}'", context_.empty() ? "" : context_ + ": ",
                 spec.name);
  auto v = GetString(key, spec.default_value);
  if (!v.ok() || !Has(key) || spec.type != OptionType::kChoice || IsChoice(spec, *v)) return v;
  return BadValue(key, *v, fmt::format("expected one of {}", spec.choices));
}

Result<std::vector<uint64_t>> Options::GetList(const OptionSpec& spec) const {
  return GetIndexList(LastPart(spec.name));
}

}  // namespace zbl
