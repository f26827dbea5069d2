// FilterNode: a filter that overrides nothing forwards every entry point (queues and
// capabilities included) to its child; Admit() refuses requests in the synchronous calls and in
// queues alike, and a refused request never reaches the child.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "zbl/backend.h"
#include "zbl/driver.h"

namespace zbl {
namespace {

constexpr uint64_t kZone = 1 << 20;

const DriverSpec kCountSpec{.name = "counter", .description = "test: counts and refuses"};

// Counts what it admits; refuses `refuse` with EPERM.
class Counter final : public FilterNode {
 public:
  Counter() : FilterNode(kCountSpec) {}
  std::map<FilterOp, int> seen;
  FilterOp refuse = FilterOp::kTruncate;
  bool refusing = false;

 protected:
  Status Admit(FilterOp op, uint64_t, uint64_t) override {
    ++seen[op];
    if (refusing && op == refuse) return Error(EPERM, "refused {}", ToString(op));
    return Status::Ok();
  }
};

std::unique_ptr<Backend> Over(std::unique_ptr<FilterNode> f, const std::string& child,
                              FilterNode** out) {
  auto o = Options::Parse(child);
  EXPECT_TRUE(o.ok());
  auto c = OpenNode(*o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  f->AddChild("file", std::move(*c));
  EXPECT_TRUE(RefreshLimits(*f).ok());
  *out = f.get();
  auto b = Backend::FromNode(std::move(f));
  EXPECT_TRUE(b.ok());
  return std::move(*b);
}

const std::string kHm = "driver=emulated,size=8M,zone-size=1M,conventional-zones=1";

TEST(FilterNode, ForwardsEveryEntryPoint) {
  FilterNode* f = nullptr;
  auto b = Over(std::make_unique<Counter>(), kHm, &f);
  auto* c = static_cast<Counter*>(f);
  Node& child = *f->file();
  EXPECT_EQ(b->limits(), child.limits());
  EXPECT_EQ(b->capabilities(), child.capabilities());
  std::vector<uint8_t> d(4096, 7), back(4096);
  ASSERT_TRUE(b->Write(kZone, d.data(), d.size()).ok());
  ASSERT_TRUE(b->Read(kZone, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
  ASSERT_TRUE(b->Flush().ok());
  auto at = b->ZoneAppend(kZone, d.data(), d.size());
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_EQ(*at, kZone + 4096);
  for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset})
    ASSERT_TRUE(b->ZoneMgmt(op, 2 * kZone, kZone).ok()) << ToString(op);
  ASSERT_TRUE(b->ZoneResetAll().ok());
  ASSERT_TRUE(b->ReportZones(0, 0).ok());
  // The emulated child neither discards nor resizes: the filter says what the child says.
  EXPECT_EQ(f->Discard(0, 4096).code(), ENOTSUP);
  EXPECT_EQ(f->Truncate(16 << 20).code(), ENOTSUP);
  for (FilterOp op : {FilterOp::kRead, FilterOp::kWrite, FilterOp::kFlush, FilterOp::kAppend,
                      FilterOp::kZoneOpen, FilterOp::kZoneClose, FilterOp::kZoneFinish,
                      FilterOp::kZoneReset, FilterOp::kZoneResetAll, FilterOp::kReport,
                      FilterOp::kDiscard, FilterOp::kTruncate}) {
    // The Backend reads the zone types once itself (its conventional-zone rule for appends):
    // one report more than the caller asked for.
    EXPECT_EQ(c->seen[op], op == FilterOp::kReport ? 2 : 1) << ToString(op);
  }
}

void Done(IoRequest* r) { ++*static_cast<int*>(r->user); }

TEST(FilterNode, QueuesAreTheChildsWithAdmitAtSubmission) {
  FilterNode* f = nullptr;
  auto b = Over(std::make_unique<Counter>(), kHm, &f);
  auto* c = static_cast<Counter*>(f);
  c->refusing = true;
  c->refuse = FilterOp::kWrite;
  auto q = b->CreateQueue(4);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  std::vector<uint8_t> d(4096, 9);
  int done = 0;
  IoRequest w{.op = IoRequest::Op::kWrite, .offset = kZone, .buf = d.data(), .len = 4096,
              .done = Done, .user = &done};
  IoRequest a{.op = IoRequest::Op::kAppend, .offset = kZone, .buf = d.data(), .len = 4096,
              .done = Done, .user = &done};
  ASSERT_TRUE((*q)->Submit(&w).ok());  // refused, but completes from Reap like a device error
  ASSERT_TRUE((*q)->Submit(&a).ok());
  EXPECT_EQ((*q)->inflight(), 2u);
  unsigned n = 0;
  while (n < 2) {
    auto r = (*q)->Reap(1);
    ASSERT_TRUE(r.ok());
    n += *r;
  }
  EXPECT_EQ(done, 2);
  EXPECT_EQ(w.error, EPERM);
  EXPECT_EQ(a.error, 0);
  EXPECT_EQ(a.result_offset, kZone);  // the refused write never reached the zone
  EXPECT_EQ(c->seen[FilterOp::kWrite], 1);
  EXPECT_EQ(c->seen[FilterOp::kAppend], 1);
}

TEST(Capabilities, NamesAndSets) {
  Capabilities c{Cap::kDiscard, Cap::kKeepsData};
  EXPECT_TRUE(c.Has(Cap::kDiscard));
  EXPECT_FALSE(c.Has(Cap::kResize));
  EXPECT_EQ(c.ToString(), "discard, keeps-data");
  EXPECT_EQ(c.Without(Cap::kDiscard).With(Cap::kNativeQueue).ToString(),
            "native-queue, keeps-data");
  EXPECT_EQ(Capabilities{}.ToString(), "none");
  for (Cap x : AllCaps()) EXPECT_NE(CapName(x), "?");
}

}  // namespace
}  // namespace zbl
