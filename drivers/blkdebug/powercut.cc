// driver=powercut: a volatile write cache over a non-zoned child that can lose power.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "blkdebug.h"

namespace zbl::blkdebug {
namespace {

constexpr OptionSpec kCutAfter{"cut-after", OptionType::kNumber, "0",
                               "cut the power at the Nth write/flush/discard (0 = on demand)",
                               "requests"};
constexpr OptionSpec kCutSeed{"cut-seed", OptionType::kNumber, "",
                              "pick cut-after at random in [1, cut-range] from this seed"};
constexpr OptionSpec kCutRange{"cut-range", OptionType::kNumber, "1000",
                               "range of the seeded cut point", "requests", 1};
constexpr OptionSpec kOptions[] = {kCutAfter, kCutSeed, kCutRange};

// SplitMix64: a fixed, portable mapping from seed to cut point.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Changes what reads, writes, flushes, discards and truncates do (the cache); everything else
// is FilterNode's. Queues run through these entry points (Node's synchronous queue): the
// child's queue would go around the cache.
class PowercutNode final : public FilterNode {
 public:
  explicit PowercutNode(uint64_t cut_after) : FilterNode(kPowercutDriver), cut_after_(cut_after) {}

  Result<Limits> ComputeLimits() override {
    const Limits& c = file()->limits();
    if (c.zoned())
      return Error(EINVAL, "powercut: the child must be non-zoned (put the zoned device above it)");
    block_ = c.logical_block_size;
    return MergeLimits(Limits{}, c, LimitsMerge::kPassThrough);
  }

  Status Read(uint64_t offset, void* buf, size_t len) override {
    std::lock_guard<std::mutex> lk(mu_);
    ZBL_RETURN_IF_ERROR(Alive("read"));
    ZBL_RETURN_IF_ERROR(file()->Read(offset, buf, len));
    // Unflushed blocks are what the device shows until the power goes.
    auto* out = static_cast<uint8_t*>(buf);
    for (auto it = cache_.lower_bound(offset / block_ * block_);
         it != cache_.end() && it->first < offset + len; ++it) {
      const uint64_t lo = std::max(offset, it->first);
      const uint64_t hi = std::min<uint64_t>(offset + len, it->first + block_);
      std::memcpy(out + (lo - offset), it->second.data() + (lo - it->first), hi - lo);
    }
    return Status::Ok();
  }

  Status Write(uint64_t offset, const void* buf, size_t len) override {
    std::lock_guard<std::mutex> lk(mu_);
    ZBL_RETURN_IF_ERROR(Tick("write"));
    const auto* in = static_cast<const uint8_t*>(buf);
    for (uint64_t b = offset / block_ * block_; b < offset + len; b += block_) {
      auto it = cache_.find(b);
      if (it == cache_.end()) {
        std::vector<uint8_t> blk(block_);
        // A partial block needs the rest of it (the backend aligns requests, so this is rare).
        if (b < offset || b + block_ > offset + len)
          ZBL_RETURN_IF_ERROR(file()->Read(b, blk.data(), block_));
        it = cache_.emplace(b, std::move(blk)).first;
      }
      const uint64_t lo = std::max(offset, b), hi = std::min<uint64_t>(offset + len, b + block_);
      std::memcpy(it->second.data() + (lo - b), in + (lo - offset), hi - lo);
    }
    return Status::Ok();
  }

  Status Flush() override {
    std::lock_guard<std::mutex> lk(mu_);
    ZBL_RETURN_IF_ERROR(Tick("flush"));
    // Runs of consecutive blocks go down as one write each.
    std::vector<uint8_t> run;
    uint64_t run_start = 0;
    auto emit = [&]() -> Status {
      if (run.empty()) return Status::Ok();
      Status st = file()->Write(run_start, run.data(), run.size());
      run.clear();
      return st;
    };
    for (const auto& [off, blk] : cache_) {
      if (!run.empty() && run_start + run.size() != off) ZBL_RETURN_IF_ERROR(emit());
      if (run.empty()) run_start = off;
      run.insert(run.end(), blk.begin(), blk.end());
    }
    ZBL_RETURN_IF_ERROR(emit());
    cache_.clear();
    return file()->Flush();
  }

  // A discard is a request that changes data (a cut point); unflushed blocks in the range go
  // with it, so that a later flush does not bring them back.
  Status Discard(uint64_t offset, uint64_t len) override {
    std::lock_guard<std::mutex> lk(mu_);
    ZBL_RETURN_IF_ERROR(Tick("discard"));
    ZBL_RETURN_IF_ERROR(child().Discard(offset, len));
    for (auto it = cache_.lower_bound(offset / block_ * block_);
         it != cache_.end() && it->first < offset + len;) {
      const uint64_t lo = std::max(offset, it->first);
      const uint64_t hi = std::min<uint64_t>(offset + len, it->first + block_);
      if (lo == it->first && hi == it->first + block_) {
        it = cache_.erase(it);
        continue;
      }
      std::memset(it->second.data() + (lo - it->first), 0, hi - lo);
      ++it;
    }
    return Status::Ok();
  }

  // Not a cut point (the image is sized at open); unflushed blocks past the end go.
  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lk(mu_);
    ZBL_RETURN_IF_ERROR(Alive("truncate"));
    ZBL_RETURN_IF_ERROR(child().Truncate(size));
    cache_.erase(cache_.lower_bound(size), cache_.end());
    return RecomputeLimits();
  }

  Result<std::unique_ptr<IoQueue>> CreateQueue(unsigned depth) override {
    return Node::CreateQueue(depth);
  }
  Capabilities capabilities() const override {
    return FilterNode::capabilities().Without(Cap::kNativeQueue);
  }

  void Describe(NodeInfo& info) const override {
    std::lock_guard<std::mutex> lk(mu_);
    info.Add("power", cut_ ? "cut" : "on");
    info.Add("cut after", cut_after_ ? std::to_string(cut_after_) + " requests" : "on demand");
    info.Add("unflushed blocks", std::to_string(cache_.size()));
  }

  void Cut() {
    std::lock_guard<std::mutex> lk(mu_);
    CutLocked();
  }
  bool cut() const {
    std::lock_guard<std::mutex> lk(mu_);
    return cut_;
  }

 private:
  void CutLocked() {
    cut_ = true;
    cache_.clear();
  }
  Status Alive(std::string_view what) const {
    if (cut_) return Error(EIO, "powercut: {} after the power was cut", what);
    return Status::Ok();
  }
  // A request that changes data: the one that reaches the cut point loses the power.
  Status Tick(std::string_view what) {
    ZBL_RETURN_IF_ERROR(Alive(what));
    if (cut_after_ && ++requests_ >= cut_after_) {
      CutLocked();
      return Error(EIO, "powercut: power cut during {} (request {})", what, requests_);
    }
    return Status::Ok();
  }

  mutable std::mutex mu_;
  const uint64_t cut_after_;
  uint64_t requests_ = 0;
  uint32_t block_ = 512;
  bool cut_ = false;
  std::map<uint64_t, std::vector<uint8_t>> cache_;  // block offset -> unflushed block
};

Result<std::unique_ptr<Node>> OpenPowercut(OpenContext& ctx) {
  Options& o = ctx.options();
  auto after = o.Get(kCutAfter);
  if (!after.ok()) return after.status();
  auto range = o.Get(kCutRange);
  if (!range.ok()) return range.status();
  uint64_t cut_after = *after;
  if (o.Has(kCutSeed.name)) {
    auto seed = o.Get(kCutSeed);
    if (!seed.ok()) return seed.status();
    if (cut_after) return Error(EINVAL, "{}: give cut-after or cut-seed, not both", o.context());
    cut_after = 1 + Mix(*seed) % *range;
  }
  auto child = ctx.OpenChild("file", true);
  if (!child.ok()) return child.status();
  auto node = std::make_unique<PowercutNode>(cut_after);
  node->AddChild("file", std::move(*child));
  return std::unique_ptr<Node>(std::move(node));
}

}  // namespace

const DriverSpec kPowercutDriver{
    .name = "powercut",
    .description = "volatile write cache that loses unflushed writes when the power is cut",
    .options = kOptions,
    .open = OpenPowercut,
};

bool CutPower(Node& node) {
  auto* p = dynamic_cast<PowercutNode*>(&node);
  if (p) p->Cut();
  return p != nullptr;
}

bool PowerIsCut(const Node& node) {
  const auto* p = dynamic_cast<const PowercutNode*>(&node);
  return p && p->cut();
}

}  // namespace zbl::blkdebug
