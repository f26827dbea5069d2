// What only passthrough sees, judged on a real NVMe ZNS namespace (QEMU's, in ci/vm/passthru.sh):
// native zone append, the zone random write area (ZRWA), zone descriptor extensions, zone
// attributes, and whether the kernel's block-device view stays coherent with commands it never
// saw. Environment:
//   ZBL_NVME_NG=/dev/ngXnY      the namespace (tests skip without it, saying so)
//   ZBL_NVME_REQUIRE=zrwa,descext   features this namespace was configured with: a test that
//                               needs one fails instead of skipping when the device lacks it
// Each test starts from every zone reset. Expected statuses are the NVMe ZNS 1.1 specification's
// (QEMU 10 follows it); where the specification leaves a choice, the test records what the
// device did (RecordProperty) instead of asserting one answer.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "nvme_device.h"
#include "nvme_spec.h"
#include "zbl/backend.h"

namespace zbl::nvme {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool Required(std::string_view feature) {
  std::string req = "," + Env("ZBL_NVME_REQUIRE") + ",";
  return req.find(fmt::format(",{},", feature)) != std::string::npos;
}

// Needs `feature`: without it, fails on a namespace configured with it (ZBL_NVME_REQUIRE), else
// skips with the reason.
#define ZBL_NEED(have, feature, what)                                                  \
  do {                                                                                 \
    if (!(have)) {                                                                     \
      if (Required(feature)) FAIL() << path_ << " was configured with " << (feature)   \
                                    << " but " << (what);                              \
      GTEST_SKIP() << path_ << ": " << (what);                                         \
    }                                                                                  \
  } while (0)

class PassthruVm : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = Env("ZBL_NVME_NG");
    if (path_.empty()) GTEST_SKIP() << "ZBL_NVME_NG is not set (runs in the VM: ci/vm/passthru.sh)";
    auto dev = Device::Open(path_, 0, false);
    ASSERT_TRUE(dev.ok()) << dev.status().ToString();
    dev_ = std::move(*dev);
    lbs_ = dev_->id().lba_bytes;
    zone_ = dev_->id().zone_lbas;
    Completion c = dev_->Send(SendAction::kReset, 0, /*select_all=*/true);
    ASSERT_TRUE(c.ok()) << c.ToStatus("reset-all").ToString();
  }

  ZoneDescriptor Report(uint64_t zslba, bool extended = false) {
    std::vector<ZoneDescriptor> z;
    Completion c = dev_->Report(zslba, 1, extended, z);
    EXPECT_TRUE(c.ok()) << c.ToStatus("report").ToString();
    if (z.empty()) {
      ADD_FAILURE() << "empty zone report at " << zslba;
      return {};
    }
    return z[0];
  }
  std::vector<uint8_t> Block(uint8_t fill, size_t blocks = 1) {
    return std::vector<uint8_t>(blocks * lbs_, fill);
  }
  // The zone's capacity in LBAs (sequential zones).
  uint64_t Cap(uint64_t zslba) { return Report(zslba).capacity; }

  std::string path_;
  std::unique_ptr<Device> dev_;
  uint64_t lbs_ = 0, zone_ = 0;
};

// The identify data and the kernel's sysfs view of the same namespace agree.
TEST_F(PassthruVm, IdentifyAgreesWithTheKernelsView) {
  const Identity& id = dev_->id();
  if (id.block_device.empty()) GTEST_SKIP() << "no block device for " << path_;
  std::string q = "/sys/block/" + id.block_device.substr(5) + "/queue/";
  auto read = [&](const std::string& attr) {
    std::ifstream f(q + attr);
    uint64_t v = 0;
    f >> v;
    return v;
  };
  EXPECT_EQ(read("chunk_sectors") * 512, id.zone_lbas * id.lba_bytes);
  EXPECT_EQ(read("nr_zones"), id.nr_zones);
  EXPECT_EQ(read("logical_block_size"), id.lba_bytes);
  // The kernel reports no limit (0) when the limit is at least the number of zones.
  uint64_t kopen = read("max_open_zones"), kactive = read("max_active_zones");
  if (id.zns.max_open() < id.nr_zones) {
    EXPECT_EQ(kopen, id.zns.max_open());
  }
  if (id.zns.max_active() < id.nr_zones) {
    EXPECT_EQ(kactive, id.zns.max_active());
  }
  RecordProperty("zasl_bytes", std::to_string(id.max_append_bytes));
  RecordProperty("kernel_zone_append_max_bytes", std::to_string(read("zone_append_max_bytes")));
}

// Native appends at queue depth 32 to one zone: every one gets a distinct LBA, together they
// fill the zone from its start without a gap, each block holds the data of the append that was
// told that LBA; how often completions arrived out of LBA order is recorded.
TEST_F(PassthruVm, NativeAppendsAtDepth32AreDistinctAndGapless) {
  auto be = Backend::Open("driver=nvme_passthru,filename=" + path_);
  ASSERT_TRUE(be.ok()) << be.status().ToString();
  auto q = (*be)->CreateQueue(32);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const uint64_t zstart = zone_ * lbs_;  // zone 1
  constexpr unsigned kN = 64;
  std::vector<std::vector<uint8_t>> bufs(kN);
  std::vector<IoRequest> reqs(kN);
  std::vector<uint64_t> order;
  for (unsigned i = 0; i < kN; ++i) {
    bufs[i] = Block(static_cast<uint8_t>(i + 1));
    reqs[i].op = IoRequest::Op::kAppend;
    reqs[i].offset = zstart;
    reqs[i].buf = bufs[i].data();
    reqs[i].len = lbs_;
    reqs[i].user = &order;
    reqs[i].done = [](IoRequest* r) {
      static_cast<std::vector<uint64_t>*>(r->user)->push_back(r->error ? ~0ull : r->result_offset);
    };
  }
  unsigned next = 0;
  while (order.size() < kN) {
    while (next < kN && (*q)->inflight() < 32) {
      ASSERT_TRUE((*q)->Submit(&reqs[next]).ok());
      ++next;
    }
    ASSERT_TRUE((*q)->Reap(1).ok());
  }
  std::set<uint64_t> seen;
  for (unsigned i = 0; i < kN; ++i) {
    ASSERT_EQ(reqs[i].error, 0) << "append " << i << ": " << std::strerror(reqs[i].error);
    EXPECT_TRUE(seen.insert(reqs[i].result_offset).second) << "offset given twice";
    EXPECT_GE(reqs[i].result_offset, zstart);
    EXPECT_LT(reqs[i].result_offset, zstart + kN * lbs_);
  }
  // The device assigns each LBA when it takes the command; completions may come back in another
  // order (QEMU's do under TCG): recorded, not asserted.
  size_t inversions = 0;
  for (size_t i = 1; i < order.size(); ++i) inversions += order[i] < order[i - 1];
  RecordProperty("append_completions_out_of_lba_order", std::to_string(inversions));
  EXPECT_EQ(Report(zone_).wp, zone_ + kN);
  std::vector<uint8_t> got(lbs_);
  for (unsigned i = 0; i < kN; ++i) {
    ASSERT_TRUE(dev_->Read(reqs[i].result_offset / lbs_, got.data(), lbs_).ok());
    EXPECT_EQ(got, bufs[i]) << "append " << i << " at " << reqs[i].result_offset;
  }
}

// An append to a FULL zone is refused with Zone Is Full; one that would cross the capacity
// with Zone Boundary Error; neither moves the write pointer.
TEST_F(PassthruVm, AppendAtCapacityIsRefusedWithTheSpecsStatus) {
  const uint64_t z = 2 * zone_, cap = Cap(z);
  auto one = Block(0x5a);
  // Fill to one block below capacity with writes, in transfer-sized pieces.
  const uint64_t chunk = std::max<uint64_t>(1, std::min<uint64_t>(
      cap - 1, (dev_->id().max_transfer_bytes ? dev_->id().max_transfer_bytes : 65536) / lbs_));
  auto data = Block(0x11, chunk);
  for (uint64_t lba = z; lba < z + cap - 1;) {
    uint64_t n = std::min<uint64_t>(chunk, z + cap - 1 - lba);
    Completion w = dev_->Write(lba, data.data(), n * lbs_);
    ASSERT_TRUE(w.ok()) << w.ToStatus(fmt::format("write {} LBAs at {}", n, lba)).ToString();
    lba += n;
  }
  auto two = Block(0x22, 2);
  Completion cross = dev_->Append(z, two.data(), two.size());
  EXPECT_EQ(cross.status.code(), sc::kZoneBoundaryError) << DescribeStatus(cross.status);
  EXPECT_EQ(Report(z).wp, z + cap - 1);
  Completion last = dev_->Append(z, one.data(), one.size());
  ASSERT_TRUE(last.ok()) << DescribeStatus(last.status);
  EXPECT_EQ(last.result, z + cap - 1);
  EXPECT_EQ(Report(z).state, 0xe);
  Completion full = dev_->Append(z, one.data(), one.size());
  EXPECT_EQ(full.status.code(), sc::kZoneFull) << DescribeStatus(full.status);
  // Through the Backend the same refusal keeps the NVMe status in its message.
  auto be = Backend::Open("driver=nvme_passthru,filename=" + path_);
  ASSERT_TRUE(be.ok());
  auto r = (*be)->ZoneAppend(z * lbs_, one.data(), one.size());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), EIO);
  EXPECT_NE(r.status().ToString().find("Zone Is Full"), std::string::npos) << r.status().ToString();
}

// An append larger than ZASL is refused by the device (Invalid Field), one of exactly ZASL is
// taken. The kernel's transfer limit (MDTS) is the larger one here, so the device decides.
TEST_F(PassthruVm, ZoneAppendSizeLimitIsEnforced) {
  const Identity& id = dev_->id();
  ZBL_NEED(id.zasl != 0 && id.max_append_bytes < id.max_transfer_bytes, "zasl",
           fmt::format("ZASL ({} bytes) is not below the transfer limit ({})",
                       id.max_append_bytes, id.max_transfer_bytes));
  const uint64_t z = 3 * zone_;
  auto big = Block(0x33, id.max_append_bytes / lbs_ + 1);
  Completion c = dev_->Append(z, big.data(), big.size());
  EXPECT_EQ(c.status.code(), sc::kInvalidField) << DescribeStatus(c.status);
  EXPECT_EQ(Report(z).wp, z);
  auto fits = Block(0x34, id.max_append_bytes / lbs_);
  Completion ok = dev_->Append(z, fits.data(), fits.size());
  EXPECT_TRUE(ok.ok()) << DescribeStatus(ok.status);
  EXPECT_EQ(ok.result, z);
}

class PassthruZrwa : public PassthruVm {
 protected:
  void SetUp() override {
    PassthruVm::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const IdZnsNamespace& z = dev_->id().zns;
    ZBL_NEED(z.zrwa_supported() && z.zrwasz > 0 && z.zrwafg > 0, "zrwa",
             "the namespace has no zone random write area (OZCS.ZRWASUP)");
    fg_ = z.zrwafg;
    win_ = z.zrwasz;
  }
  uint64_t fg_ = 0, win_ = 0;
};

// Opening with ZRWAA allocates a ZRWA: explicitly open, ZRWAV set; a reset releases it.
TEST_F(PassthruZrwa, OpenWithZrwaSetsTheAttribute) {
  const uint64_t z = 4 * zone_;
  Completion o = dev_->Send(SendAction::kOpen, z, false, /*zrwa=*/true);
  ASSERT_TRUE(o.ok()) << DescribeStatus(o.status);
  ZoneDescriptor d = Report(z);
  EXPECT_EQ(d.state, 0x3);
  EXPECT_TRUE(d.attrs & za::kZrwaValid) << "ZA " << int{d.attrs};
  ASSERT_TRUE(dev_->Send(SendAction::kReset, z).ok());
  d = Report(z);
  EXPECT_EQ(d.state, 0x1);
  EXPECT_FALSE(d.attrs & za::kZrwaValid);
}

// Inside the window writes land in any order and the write pointer stays until a flush; an
// explicit flush of whole granules moves it; what was written reads back.
TEST_F(PassthruZrwa, WritesInsideTheWindowInAnyOrderThenExplicitFlush) {
  ZBL_NEED(dev_->id().zns.zrwacap & 1, "zrwa", "no explicit ZRWA flush");
  const uint64_t z = 5 * zone_;
  ASSERT_TRUE(dev_->Send(SendAction::kOpen, z, false, true).ok());
  auto second = Block(0xb2, fg_), first = Block(0xb1, fg_);
  Completion w2 = dev_->Write(z + fg_, second.data(), second.size());
  ASSERT_TRUE(w2.ok()) << "write ahead of the wp inside the ZRWA: " << DescribeStatus(w2.status);
  Completion w1 = dev_->Write(z, first.data(), first.size());
  ASSERT_TRUE(w1.ok()) << DescribeStatus(w1.status);
  Completion again = dev_->Write(z, second.data(), second.size());  // overwrite inside the window
  EXPECT_TRUE(again.ok()) << "overwrite inside the ZRWA: " << DescribeStatus(again.status);
  EXPECT_EQ(Report(z).wp, z) << "the write pointer moves only on a flush";
  // A flush of part of a granule is refused.
  if (fg_ > 1) {
    Completion part = dev_->ZrwaFlush(z + fg_ - 2);
    EXPECT_EQ(part.status.code(), sc::kInvalidField) << DescribeStatus(part.status);
  }
  Completion f = dev_->ZrwaFlush(z + 2 * fg_ - 1);
  ASSERT_TRUE(f.ok()) << DescribeStatus(f.status);
  EXPECT_EQ(Report(z).wp, z + 2 * fg_);
  std::vector<uint8_t> got(2 * fg_ * lbs_);
  ASSERT_TRUE(dev_->Read(z, got.data(), got.size()).ok());
  EXPECT_TRUE(std::equal(second.begin(), second.end(), got.begin()));
  EXPECT_TRUE(std::equal(second.begin(), second.end(), got.begin() + second.size()));
  // Below the write pointer the zone is sequential again: refused.
  Completion behind = dev_->Write(z, first.data(), first.size());
  EXPECT_EQ(behind.status.code(), sc::kZoneInvalidWrite) << DescribeStatus(behind.status);
}

// A flush beyond the window is a boundary error; a write past the window but inside the next
// one flushes implicitly (the write pointer moves by granules); beyond that it is refused.
TEST_F(PassthruZrwa, BeyondTheWindow) {
  const uint64_t z = 6 * zone_;
  ASSERT_TRUE(dev_->Send(SendAction::kOpen, z, false, true).ok());
  Completion far_flush = dev_->ZrwaFlush(z + win_ + fg_ - 1);
  EXPECT_EQ(far_flush.status.code(), sc::kZoneBoundaryError) << DescribeStatus(far_flush.status);
  auto g = Block(0xc3, fg_);
  Completion beyond2 = dev_->Write(z + 2 * win_, g.data(), g.size());
  EXPECT_EQ(beyond2.status.code(), sc::kZoneInvalidWrite) << DescribeStatus(beyond2.status);
  EXPECT_EQ(Report(z).wp, z);
  Completion next = dev_->Write(z + win_, g.data(), g.size());
  ASSERT_TRUE(next.ok()) << "write just past the window: " << DescribeStatus(next.status);
  uint64_t wp = Report(z).wp;
  RecordProperty("implicit_flush_wp_lbas", std::to_string(wp - z));
  EXPECT_EQ(wp, z + fg_) << "implicit flush of one granule";
  // Append to a zone with a ZRWA: the specification makes it an error; record which.
  Completion app = dev_->Append(z, g.data(), g.size());
  RecordProperty("append_to_zrwa_zone", DescribeStatus(app.status));
  EXPECT_FALSE(app.ok());
}

// Opening with a ZRWA when the write pointer is not at a flush granule is refused.
TEST_F(PassthruZrwa, OpenWithZrwaOffAGranuleIsRefused) {
  if (fg_ < 2) GTEST_SKIP() << "flush granularity 1: every write pointer is on a granule";
  const uint64_t z = 7 * zone_;
  auto one = Block(0x77);
  ASSERT_TRUE(dev_->Write(z, one.data(), one.size()).ok());
  ASSERT_TRUE(dev_->Send(SendAction::kClose, z).ok());
  Completion o = dev_->Send(SendAction::kOpen, z, false, true);
  EXPECT_FALSE(o.ok());
  RecordProperty("open_zrwa_off_granule", DescribeStatus(o.status));
  EXPECT_FALSE(Report(z).attrs & za::kZrwaValid);
}

class PassthruDescExt : public PassthruVm {
 protected:
  void SetUp() override {
    PassthruVm::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ext_ = dev_->id().zns.zdes_bytes;
    ZBL_NEED(ext_ > 0, "descext", "the namespace has no zone descriptor extension (ZDES 0)");
  }
  size_t ext_ = 0;
};

// Set on an empty zone, the extension comes back in the extended report with ZDEV, and the
// zone holds an active resource (closed); a reset clears it. Select All is refused.
TEST_F(PassthruDescExt, SetOnAnEmptyZoneIsReportedBack) {
  const uint64_t z = 8 * zone_;
  std::vector<uint8_t> ext(ext_);
  for (size_t i = 0; i < ext.size(); ++i) ext[i] = static_cast<uint8_t>(i * 7 + 1);
  Completion s = dev_->Send(SendAction::kSetDescriptorExtension, z, false, false, ext);
  ASSERT_TRUE(s.ok()) << DescribeStatus(s.status);
  ZoneDescriptor d = Report(z, /*extended=*/true);
  EXPECT_TRUE(d.attrs & za::kExtensionValid) << "ZA " << int{d.attrs};
  EXPECT_EQ(d.extension, ext);
  EXPECT_EQ(d.state, 0x4) << "a zone with an extension is closed";
  ASSERT_TRUE(dev_->Send(SendAction::kReset, z).ok());
  d = Report(z, true);
  EXPECT_EQ(d.state, 0x1);
  EXPECT_FALSE(d.attrs & za::kExtensionValid);
  Completion all = dev_->Send(SendAction::kSetDescriptorExtension, 0, /*select_all=*/true, false,
                              ext);
  EXPECT_EQ(all.status.code(), sc::kInvalidField) << DescribeStatus(all.status);
}

TEST_F(PassthruDescExt, SetOnAWrittenZoneIsAnInvalidTransition) {
  const uint64_t z = 9 * zone_;
  auto one = Block(0x99);
  ASSERT_TRUE(dev_->Write(z, one.data(), one.size()).ok());
  std::vector<uint8_t> ext(ext_, 0xee);
  Completion s = dev_->Send(SendAction::kSetDescriptorExtension, z, false, false, ext);
  EXPECT_EQ(s.status.code(), sc::kZoneInvalidTransition) << DescribeStatus(s.status);
  EXPECT_FALSE(Report(z, true).attrs & za::kExtensionValid);
}

// Coherence between the kernel's block device and passthrough commands it never saw: write a
// block through the block device (the kernel's zone write plug now caches the write pointer),
// reset the zone by passthrough, then write through the block device at the device's real write
// pointer, and again after an error. The sequence of answers is this kernel's cell; the test
// asserts only that the kernel recovers (a write at the real write pointer is taken within
// three tries), and records the answers.
TEST_F(PassthruVm, BlockDeviceAfterPassthroughReset) {
  const Identity& id = dev_->id();
  if (id.block_device.empty()) GTEST_SKIP() << "no block device for " << path_;
  auto bd = Backend::Open("driver=host_device,filename=" + id.block_device + ",cache.direct=on");
  ASSERT_TRUE(bd.ok()) << bd.status().ToString();
  const uint64_t z = 10 * zone_, zb = z * lbs_;
  auto blk = Block(0xd1);
  ASSERT_TRUE((*bd)->Write(zb, blk.data(), blk.size()).ok());
  ASSERT_TRUE(dev_->Send(SendAction::kReset, z).ok());
  ASSERT_EQ(Report(z).wp, z);
  std::vector<std::string> cell;
  auto step = [&](uint64_t off, std::string_view name) {
    Status s = (*bd)->Write(off, blk.data(), blk.size());
    cell.push_back(fmt::format("{}: {}", name, s.ok() ? "ok" : s.ErrnoText()));
    return s.ok();
  };
  bool ok = step(zb, "write at the device's wp (0)");
  if (!ok) {
    step(zb + lbs_, "write at the kernel's stale wp (1 block)");
    ok = step(zb, "write at the device's wp after that");
    if (!ok) ok = step(zb, "write at the device's wp, third try");
  }
  std::string text = fmt::format("{}", fmt::join(cell, "; "));
  RecordProperty("coherence", text);
  // The per-kernel cell: coherent (the kernel caches nothing), stale_until_error (a cached write
  // pointer refuses writes until a device error makes the kernel re-read the zone), stale.
  const char* variant = cell.size() == 1 && ok ? "coherent" : ok ? "stale_until_error" : "stale";
  RecordProperty("variant", fmt::format("block_write_after_passthru_reset={}", variant));
  std::printf("coherence on this kernel: %s\n", text.c_str());
  EXPECT_TRUE(ok) << "the kernel did not recover: " << text;
  EXPECT_EQ(Report(z).wp, z + 1) << text;
}

}  // namespace
}  // namespace zbl::nvme
