// The option-string checks of fuzz/options_fuzz.cc, also replayed by options_check_test.cc.
//
// Invariants: parsing never crashes or throws; what parses prints back (ToString) to a string
// that parses to the same tree; opening either fails with an error or gives a device whose
// limits validate. Devices are opened only when every size in the tree is at most 64M, so
// memory stays bounded (the emulated device allocates per zone).
#include "options_check.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "zbl/backend.h"
#include "zbl/driver.h"
#include "zbl/options.h"

namespace {

constexpr uint64_t kMaxSize = uint64_t{64} << 20;

[[noreturn]] void Fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "INVARIANT BROKEN: %s\ninput: '%.*s'\n", what.c_str(),
               static_cast<int>(input.size()), input.data());
  std::abort();
}

// True when no node of the tree asks for a device larger than kMaxSize, and zones are not so
// small that the device has more than a few thousand of them.
bool SmallEnough(const zbl::Options& o) {
  if (o.Has("size")) {
    auto v = o.GetSize("size", 0);
    if (!v.ok() || *v > kMaxSize) return false;
    auto z = o.GetSize("zone-size", uint64_t{64} << 20);
    if (z.ok() && *z != 0 && *v / *z > 4096) return false;
  } else if (o.Has("driver")) {
    auto d = o.GetString("driver", "");
    if (d.ok() && *d == "emulated") return false;  // the default size is 1G
  }
  for (const auto& name : o.ChildNames())
    if (!SmallEnough(*o.Child(name))) return false;
  return true;
}

}  // namespace

namespace zbl::fuzz {

void CheckOptionString(std::string_view text) {
  auto parsed = zbl::Options::Parse(text);
  if (!parsed.ok()) {
    if (parsed.status().code() == 0 || parsed.status().message().empty())
      Fail("a parse error without errno or message", text);
    return;
  }
  const std::string printed = parsed->ToString();
  auto again = zbl::Options::Parse(printed);
  if (!again.ok()) Fail("printed options do not parse: '" + printed + "': " + again.status().ToString(), text);
  if (again->ToString() != printed) Fail("printing is not stable: '" + printed + "'", text);

  // Sizes, numbers and booleans of any value must parse or fail cleanly.
  for (const char* key : {"size", "zone-size", "block-size"}) {
    if (!parsed->Has(key)) continue;
    auto s = parsed->GetString(key, "");
    (void)zbl::ParseSize(*s);
    (void)zbl::ParseNumber(*s);
    (void)zbl::ParseBool(*s);
  }
  if (!SmallEnough(*parsed)) return;
  auto opts = zbl::Options::Parse(text);  // fresh: the checks above marked keys as read
  auto node = zbl::OpenNode(*opts);
  if (!node.ok()) {
    if (node.status().code() == 0) Fail("an open error without errno", text);
    return;
  }
  auto backend = zbl::Backend::FromNode(std::move(*node));
  if (!backend.ok()) Fail("opened node has invalid limits: " + backend.status().ToString(), text);
  zbl::Backend& b = **backend;
  if (b.limits().zoned()) {
    auto zones = b.ReportZones(0, 4);  // may fail (blkdebug rules); must not crash
    if (zones.ok() && zones->size() > std::min<uint64_t>(4, b.limits().nr_zones))
      Fail("report returned more zones than asked for", text);
  }
  std::string block(b.limits().logical_block_size, '\0');
  if (b.size() >= block.size()) {
    zbl::Status st = b.Read(0, block.data(), block.size());
    (void)st;  // offline zones may refuse; it must not crash
  }
}

}  // namespace zbl::fuzz

