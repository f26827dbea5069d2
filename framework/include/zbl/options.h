// QEMU --image-opts style option strings: "driver=raw,file.driver=emulated,file.model=hm".
//
// Dotted keys build the child tree ("file.driver" is key "driver" of child "file"). A literal
// comma in a value is written ",," as in QEMU. Sizes accept k/M/G/T/P/E suffixes (binary),
// decimal fractions ("1.5G") and 0x hex, like qemu-io's cvtnum.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "zbl/status.h"

namespace zbl {

// Parses a size or count: "4096", "4k", "1.5M", "0x1000". Errors name the text.
Result<uint64_t> ParseSize(std::string_view text);
// Parses an unsigned decimal or 0x hex number without suffixes.
Result<uint64_t> ParseNumber(std::string_view text);
// A value as an option string spells it: a literal comma doubled (",,"), as in QEMU.
std::string EscapeOptionValue(std::string_view value);
// "on/off/true/false/yes/no/1/0".
Result<bool> ParseBool(std::string_view text);

// One option a driver takes, declared once: the framework parses, range-checks and lists it
// (DriverSpec::options), and the driver reads its value through it (Options::Get*(spec)).
enum class OptionType : uint8_t {
  kString,     // any text
  kBool,       // on/off/true/false/yes/no/1/0
  kSize,       // bytes or a count with k/M/G suffixes (ParseSize)
  kNumber,     // decimal or 0x hex, no suffixes (ParseNumber)
  kChoice,     // one of `choices`
  kIndexList,  // "3:5-7" (Options::GetIndexList)
};
std::string_view ToString(OptionType t);

struct OptionSpec {
  // "zone-size"; a grouped option names its group: "cache.direct", "inject-error.N.event".
  std::string_view name;
  OptionType type = OptionType::kString;
  // Text as a user writes it ("64M", "off"); "" = none (required, or derived from other values).
  std::string_view default_value;
  std::string_view help;
  std::string_view unit = {};  // "bytes", "MB", "512 B sectors", "zones", ...
  uint64_t min = 0;            // kSize / kNumber: inclusive range
  uint64_t max = UINT64_MAX;
  std::string_view choices = {};  // kChoice: "hm|ha|none"
  bool required = false;
};

// Checks one value against its declaration (type, range, choices); EINVAL naming the option.
Status CheckOptionValue(const OptionSpec& spec, std::string_view text, std::string_view context);
// One line per option: "name  type[unit]  default  range/choices  help" (for --list-drivers).
std::string FormatOption(const OptionSpec& spec);

// One node's options: its own keys and the subtrees of its children. Getters record which keys
// were read so that the framework can refuse unknown ones after the driver opened.
class Options {
 public:
  Options() = default;
  // Parses a whole option string into a tree.
  static Result<Options> Parse(std::string_view text);

  // Name used in error messages ("driver 'emulated'"); set by the framework.
  void set_context(std::string ctx) { context_ = std::move(ctx); }
  const std::string& context() const { return context_; }

  bool Has(std::string_view key) const { return values_.count(std::string(key)) != 0; }
  // Typed getters. Missing keys give `def`; a present key that does not parse is an EINVAL
  // naming the driver, the key and the text.
  Result<std::string> GetString(std::string_view key, std::string_view def) const;
  Result<std::string> GetRequiredString(std::string_view key) const;
  Result<uint64_t> GetSize(std::string_view key, uint64_t def) const;
  Result<uint64_t> GetNumber(std::string_view key, uint64_t def) const;
  Result<bool> GetBool(std::string_view key, bool def) const;
  // One of `choices`; the error lists them.
  Result<std::string> GetChoice(std::string_view key, std::string_view def,
                                const std::vector<std::string_view>& choices) const;
  // Lists of indexes, "3:5:9" or "2-4:7" (':' or ' ' separated, ranges with '-').
  Result<std::vector<uint64_t>> GetIndexList(std::string_view key) const;

  // Typed reads through a declaration: the key is spec.name's last part (the part after the
  // group: "direct" of "cache.direct"), the default is spec.default_value (or `def` where the
  // default is derived), the value is range-checked. kSize/kNumber.
  Result<uint64_t> Get(const OptionSpec& spec) const;
  Result<uint64_t> Get(const OptionSpec& spec, uint64_t def) const;
  // kBool.
  Result<bool> GetFlag(const OptionSpec& spec) const;
  // kString / kChoice.
  Result<std::string> GetText(const OptionSpec& spec) const;
  // kIndexList.
  Result<std::vector<uint64_t>> GetList(const OptionSpec& spec) const;
  // The keys this node was given with their text (own keys only), not marked as read.
  const std::map<std::string, std::string>& values() const { return values_; }

  bool HasChild(std::string_view name) const { return children_.count(std::string(name)) != 0; }
  Options* Child(std::string_view name);
  const Options* Child(std::string_view name) const;
  std::vector<std::string> ChildNames() const;
  // Marks a child subtree as consumed by this node's driver (settings grouped under a dotted
  // prefix, such as blkdebug's inject-error.N.*), so that the framework does not expect a child
  // node of that name. The driver checks the subtree's keys itself.
  void MarkChildUsed(std::string_view name) const { used_children_.insert(std::string(name)); }
  bool ChildUsed(std::string_view name) const { return used_children_.count(std::string(name)) != 0; }

  // Sets a key (used by drivers that build child options, e.g. null_blk over host_device).
  void Set(std::string key, std::string value);
  // Removes a key without marking it read.
  void Erase(std::string_view key);
  // Marks a key as read even if the driver ignores it.
  void MarkUsed(std::string_view key) const { used_.insert(std::string(key)); }

  // EINVAL naming the first key no getter read (own keys only; children check themselves).
  Status CheckAllUsed() const;
  // Back to an option string, children as dotted keys (values re-escaped).
  std::string ToString() const;

 private:
  Status BadValue(std::string_view key, std::string_view text, std::string_view why) const;
  void AppendTo(std::string& out, const std::string& prefix) const;

  std::map<std::string, std::string> values_;
  std::map<std::string, Options> children_;
  mutable std::set<std::string> used_;
  mutable std::set<std::string> used_children_;
  std::string context_;
};

}  // namespace zbl
