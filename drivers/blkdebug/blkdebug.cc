#include "blkdebug.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace zbl::blkdebug {
namespace {

enum class Event : uint8_t { kRead, kWrite, kAppend, kOpen, kClose, kFinish, kReset, kResetAll,
                             kReport, kFlush };
constexpr std::string_view kEventNames[] = {"read",  "write",     "append", "open",  "close",
                                            "finish", "reset", "reset-all", "report", "flush"};

constexpr uint64_t kAnyOffset = ~uint64_t{0};
constexpr uint64_t kAnyZone = ~uint64_t{0};

struct Rule {
  unsigned index = 0;
  Event event = Event::kRead;
  int err = EIO;
  uint64_t after = 0;
  uint64_t every = 1;
  bool once = false;
  uint64_t zone = kAnyZone;
  uint64_t offset = kAnyOffset;
  uint64_t length = 1;
  // Under the node's mutex.
  uint64_t matched = 0;
  uint64_t fired = 0;
};

using T = OptionType;
constexpr OptionSpec kEvent{"inject-error.N.event", T::kChoice, "", "the request the rule fails",
                            {}, 0, 0,
                            "read|write|append|open|close|finish|reset|reset-all|report|flush",
                            true};
constexpr OptionSpec kErrno{"inject-error.N.errno", T::kNumber, "5", "errno the request fails with",
                            {}, 1, 4095};
constexpr OptionSpec kAfter{"inject-error.N.after", T::kNumber, "0",
                            "matching requests that pass before the rule fires", "requests"};
constexpr OptionSpec kEvery{"inject-error.N.every", T::kNumber, "1",
                            "fire on every Nth matching request", "requests", 1};
constexpr OptionSpec kOnce{"inject-error.N.once", T::kBool, "off", "fire only once"};
constexpr OptionSpec kZone{"inject-error.N.zone", T::kNumber, "",
                           "only requests touching this zone index", "zone index"};
constexpr OptionSpec kOffset{"inject-error.N.offset", T::kSize, "",
                             "only requests overlapping [offset, offset+length)", "bytes"};
constexpr OptionSpec kLength{"inject-error.N.length", T::kSize, "1", "length of that range",
                             "bytes", 1};
constexpr OptionSpec kOptions[] = {kEvent, kErrno, kAfter, kEvery, kOnce, kZone, kOffset, kLength};

// A rule's keys, each through its declaration (range included).
Result<Rule> ParseRule(const Options& o, unsigned index) {
  Rule r;
  r.index = index;
  for (const auto& [key, text] : o.values()) {
    const OptionSpec* spec = FindOption(kBlkdebugDriver, "inject-error.N." + key);
    if (!spec) return Error(EINVAL, "{}: unknown option '{}'", o.context(), key);
  }
  auto event = o.GetText(kEvent);
  if (!event.ok()) return event.status();
  r.event = static_cast<Event>(std::find(std::begin(kEventNames), std::end(kEventNames), *event) -
                               std::begin(kEventNames));
  auto err = o.Get(kErrno);
  if (!err.ok()) return err.status();
  r.err = static_cast<int>(*err);
  auto after = o.Get(kAfter);
  if (!after.ok()) return after.status();
  r.after = *after;
  auto every = o.Get(kEvery);
  if (!every.ok()) return every.status();
  r.every = *every;
  auto once = o.GetFlag(kOnce);
  if (!once.ok()) return once.status();
  r.once = *once;
  auto zone = o.Get(kZone, kAnyZone);
  if (!zone.ok()) return zone.status();
  r.zone = *zone;
  auto offset = o.Get(kOffset, kAnyOffset);
  if (!offset.ok()) return offset.status();
  r.offset = *offset;
  auto length = o.Get(kLength);
  if (!length.ok()) return length.status();
  r.length = *length;
  if (!o.ChildNames().empty())
    return Error(EINVAL, "{}: unknown option '{}.*'", o.context(), o.ChildNames().front());
  ZBL_RETURN_IF_ERROR(o.CheckAllUsed());
  return r;
}

// inject-error.<N>.*: children of the "inject-error" subtree, ordered by N.
Result<std::vector<Rule>> ParseRules(Options& opts) {
  std::vector<Rule> rules;
  Options* tree = opts.Child("inject-error");
  if (!tree) return rules;
  opts.MarkChildUsed("inject-error");
  tree->set_context(opts.context() + ": inject-error");
  ZBL_RETURN_IF_ERROR(tree->CheckAllUsed());  // "inject-error.event=..." has no index
  for (const std::string& name : tree->ChildNames()) {
    auto n = ParseNumber(name);
    if (!n.ok() || name.empty() || name[0] < '0' || name[0] > '9' || *n > 1000000)
      return Error(EINVAL, "{}: 'inject-error.{}': the rule index must be a number", opts.context(),
                   name);
    Options* o = tree->Child(name);
    o->set_context(fmt::format("{}: inject-error.{}", opts.context(), name));
    auto rule = ParseRule(*o, static_cast<unsigned>(*n));
    if (!rule.ok()) return rule.status();
    rules.push_back(*rule);
  }
  std::sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) { return a.index < b.index; });
  for (size_t i = 1; i < rules.size(); ++i)
    if (rules[i].index == rules[i - 1].index)
      return Error(EINVAL, "{}: rule index {} given twice", opts.context(), rules[i].index);
  return rules;
}

// Only Admit: every entry point, queues included, is FilterNode's.
class BlkdebugNode final : public FilterNode {
 public:
  explicit BlkdebugNode(std::vector<Rule> rules)
      : FilterNode(kBlkdebugDriver), rules_(std::move(rules)) {}

  void Describe(NodeInfo& info) const override {
    std::lock_guard<std::mutex> lk(mu_);
    for (const Rule& r : rules_)
      info.Add(fmt::format("rule {}", r.index),
               fmt::format("{} -> errno {}{} (fired {})", kEventNames[static_cast<int>(r.event)],
                           r.err, r.once ? ", once" : "", r.fired));
  }

  std::vector<uint64_t> Fired() const {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<uint64_t> out;
    for (const Rule& r : rules_) out.push_back(r.fired);
    return out;
  }

 private:
  static bool ToEvent(FilterOp op, Event* e) {
    switch (op) {
      case FilterOp::kRead: *e = Event::kRead; return true;
      case FilterOp::kWrite: *e = Event::kWrite; return true;
      case FilterOp::kAppend: *e = Event::kAppend; return true;
      case FilterOp::kFlush: *e = Event::kFlush; return true;
      case FilterOp::kReport: *e = Event::kReport; return true;
      case FilterOp::kZoneOpen: *e = Event::kOpen; return true;
      case FilterOp::kZoneClose: *e = Event::kClose; return true;
      case FilterOp::kZoneFinish: *e = Event::kFinish; return true;
      case FilterOp::kZoneReset: *e = Event::kReset; return true;
      case FilterOp::kZoneResetAll: *e = Event::kResetAll; return true;
      case FilterOp::kDiscard:
      case FilterOp::kTruncate: return false;  // no rule event (yet): they pass
    }
    return false;
  }

  bool Touches(const Rule& r, uint64_t offset, uint64_t len) const {
    const uint64_t end = offset + std::max<uint64_t>(len, 1);
    if (r.zone != kAnyZone) {
      const uint64_t zs = limits().zone_size;
      if (zs == 0 || r.zone >= limits().nr_zones) return false;
      const uint64_t zstart = r.zone * zs;
      if (zstart >= end || zstart + zs <= offset) return false;
    }
    if (r.offset != kAnyOffset) {
      const uint64_t rend = r.offset + r.length < r.offset ? ~uint64_t{0} : r.offset + r.length;
      if (r.offset >= end || rend <= offset) return false;
    }
    return true;
  }

  // Counts the request against every rule it matches; fails it if one of them fires.
  Status Admit(FilterOp op, uint64_t offset, uint64_t len) override {
    Event e;
    if (!ToEvent(op, &e)) return Status::Ok();

    std::lock_guard<std::mutex> lk(mu_);
    const Rule* firing = nullptr;
    for (Rule& r : rules_) {
      if (r.event != e || (r.once && r.fired) || !Touches(r, offset, len)) continue;
      const uint64_t n = r.matched++;
      if (n < r.after || (n - r.after) % r.every != 0 || firing) continue;
      ++r.fired;
      firing = &r;
    }
    if (!firing) return Status::Ok();
    return Error(firing->err, "blkdebug: injected error (rule {}, {} at {:#x})", firing->index,
                 kEventNames[static_cast<int>(e)], offset);
  }

  mutable std::mutex mu_;
  std::vector<Rule> rules_;
};

Result<std::unique_ptr<Node>> OpenBlkdebug(OpenContext& ctx) {
  auto rules = ParseRules(ctx.options());
  if (!rules.ok()) return rules.status();
  auto child = ctx.OpenChild("file", true);
  if (!child.ok()) return child.status();
  auto node = std::make_unique<BlkdebugNode>(std::move(*rules));
  node->AddChild("file", std::move(*child));
  return std::unique_ptr<Node>(std::move(node));
}

}  // namespace

const DriverSpec kBlkdebugDriver{
    .name = "blkdebug",
    .description = "error-injection filter: fails chosen requests with chosen errnos (QEMU-like rules)",
    .options = kOptions,
    .open = OpenBlkdebug,
};

std::vector<uint64_t> FiredCounts(const Node& node) {
  const auto* b = dynamic_cast<const BlkdebugNode*>(&node);
  return b ? b->Fired() : std::vector<uint64_t>{};
}

}  // namespace zbl::blkdebug
