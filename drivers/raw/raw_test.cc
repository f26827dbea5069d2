// driver=raw: pass-through and windows over emulated, file and host_device children.
#include "raw.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "file/test_util.h"
#include "zbl/backend.h"

namespace zbl::raw {
namespace {

using zbl::testing::LoopDevice;
using zbl::testing::TempDir;

constexpr uint64_t kZone = 1 << 20;
const std::string kEmu =
    "driver=raw,file.driver=emulated,file.size=16M,file.zone-size=1M,file.conventional-zones=1,"
    "file.max-open-zones=5,file.max-active-zones=7,file.zone-capacity=768K";

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = static_cast<uint8_t>(seed ^ (i * 31) ^ (i >> 8));
  }
  return v;
}

std::unique_ptr<Backend> OpenOk(const std::string& opts) {
  auto b = Backend::Open(opts);
  EXPECT_TRUE(b.ok()) << opts << ": " << b.status().ToString();
  return b.ok() ? std::move(*b) : nullptr;
}

TEST(Raw, OverEmulatedHmKeepsModelAndGeometry) {
  auto b = OpenOk(kEmu);
  ASSERT_TRUE(b);
  auto child = b->root().file()->limits();
  EXPECT_EQ(b->GraphString(), "raw -> emulated");
  EXPECT_EQ(b->model(), ZoneModel::kHostManaged);
  EXPECT_EQ(b->limits(), child);
  EXPECT_EQ(b->limits().max_open_zones, 5u);
  EXPECT_EQ(b->limits().max_active_zones, 7u);
}

TEST(Raw, PassesEveryZoneOpThrough) {
  auto b = OpenOk(kEmu);
  ASSERT_TRUE(b);
  auto d = Pattern(8192, 1);
  ASSERT_TRUE(b->Write(2 * kZone, d.data(), 4096).ok());
  EXPECT_EQ(b->Write(2 * kZone + 8192, d.data(), 4096).code(), EIO);  // the child's wp rule
  auto at = b->ZoneAppend(2 * kZone, d.data() + 4096, 4096);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_EQ(*at, 2 * kZone + 4096);
  std::vector<uint8_t> back(8192);
  ASSERT_TRUE(b->Read(2 * kZone, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 3 * kZone, kZone).ok());
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kFinish, 4 * kZone, kZone).ok());
  auto zones = b->ReportZones(0, 0);
  ASSERT_TRUE(zones.ok());
  auto direct = b->root().file();
  std::vector<Zone> child(16);
  ASSERT_EQ(*direct->ReportZones(0, child), 16u);
  EXPECT_EQ(*zones, child);
  EXPECT_EQ((*zones)[3].condition, ZoneCondition::kExplicitOpen);
  EXPECT_EQ((*zones)[4].condition, ZoneCondition::kFull);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kReset, 0, kZone).code(),
            direct->ZoneMgmt(ZoneOp::kReset, 0, kZone).code());
  ASSERT_TRUE(b->ZoneResetAll().ok());
  auto after = b->ReportZones(0, 0);
  ASSERT_TRUE(after.ok());
  for (const Zone& z : *after) {
    if (z.type == ZoneType::kConventional) {
      continue;
    }
    EXPECT_EQ(z.condition, ZoneCondition::kEmpty) << z.start;
  }
}

TEST(Raw, WindowShiftsRequestsAndReports) {
  auto b = OpenOk(kEmu + ",offset=4M,size=4M");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 4u << 20);
  EXPECT_EQ(b->limits().nr_zones, 4u);
  EXPECT_EQ(b->limits().zone_size, kZone);
  Node* child = b->root().file();
  // Data outside the window stays untouched by a window reset-all.
  auto d = Pattern(4096, 2);
  ASSERT_TRUE(child->Write(9 * kZone, d.data(), 4096).ok());
  ASSERT_TRUE(b->Write(kZone, d.data(), 4096).ok());
  auto at = b->ZoneAppend(kZone, d.data(), 4096);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, kZone + 4096);  // window coordinates
  std::vector<Zone> cz(1);
  ASSERT_TRUE(child->ReportZones(5 * kZone, cz).ok());
  EXPECT_EQ(cz[0].write_pointer, 5 * kZone + 8192);
  auto zones = b->ReportZones(0, 0);
  ASSERT_TRUE(zones.ok());
  ASSERT_EQ(zones->size(), 4u);  // only the window's zones
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*zones)[i].start, i * kZone);
  }
  EXPECT_EQ((*zones)[1].write_pointer, kZone + 8192);
  EXPECT_EQ((*zones)[0].write_pointer, 0u);
  // A report limited by the caller's span at the window's end.
  std::vector<Zone> tail(8);
  EXPECT_EQ(*b->ReportZones(3 * kZone, tail), 1u);
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kReset, 0, 4 * kZone).ok());  // whole window = reset-all
  EXPECT_EQ((*b->ReportZones(kZone, 1))[0].condition, ZoneCondition::kEmpty);
  ASSERT_TRUE(child->ReportZones(9 * kZone, cz).ok());
  EXPECT_EQ(cz[0].write_pointer, 9 * kZone + 4096);
  EXPECT_NE(b->Describe().find("offset: 0x400000"), std::string::npos);
}

TEST(Raw, WindowOptionErrors) {
  struct Case {
    std::string extra, says;
  };
  const Case cases[] = {
      {",offset=512K", "not zone-aligned"},
      {",offset=1M,size=1536K", "not a multiple of the zone size"},
      {",offset=32M", "beyond the end"},
      {",offset=8M,size=16M", "beyond the end"},
      {",size=0", "empty"},
      {",offset=12345", "block size"},
      {",offset=banana", "offset"},
  };
  for (const Case& c : cases) {
    auto b = Backend::Open(kEmu + c.extra);
    ASSERT_FALSE(b.ok()) << c.extra;
    EXPECT_EQ(b.status().code(), EINVAL) << c.extra << ": " << b.status().ToString();
    EXPECT_NE(b.status().message().find(c.says), std::string::npos) << b.status().ToString();
  }
  // A window that ends at the child's end may end in a runt zone.
  auto runt =
      OpenOk("driver=raw,file.driver=emulated,file.size=15872K,file.zone-size=1M,offset=2M");
  ASSERT_TRUE(runt);
  EXPECT_EQ(runt->limits().nr_zones, 14u);
  EXPECT_EQ(Backend::Open("driver=raw").status().code(), EINVAL);  // no child
}

TEST(Raw, OverEmulatedNoneAndHa) {
  auto none = OpenOk("driver=raw,file.driver=emulated,file.model=none,file.size=8M");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->model(), ZoneModel::kNone);
  EXPECT_EQ(none->ReportZones(0, 1).status().code(), ENOTSUP);
  auto ha = OpenOk("driver=raw,file.driver=emulated,file.model=ha,file.size=8M,file.zone-size=1M");
  ASSERT_TRUE(ha);
  EXPECT_EQ(ha->model(), ZoneModel::kHostAware);
  EXPECT_EQ(ha->limits().nr_zones, 8u);
}

TEST(Raw, OverFileIsNoneAndShiftsData) {
  TempDir dir;
  const std::string img = dir.File("plain.img");
  std::ofstream(img).close();
  ASSERT_EQ(truncate(img.c_str(), 4 << 20), 0);
  auto whole = OpenOk("driver=raw,file.driver=file,file.filename=" + img);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->GraphString(), "raw -> file");
  EXPECT_EQ(whole->model(), ZoneModel::kNone);
  EXPECT_EQ(whole->size(), 4u << 20);
  EXPECT_EQ(whole->ZoneMgmt(ZoneOp::kReset, 0, 4096).code(), ENOTSUP);
  EXPECT_EQ(whole->ZoneAppend(0, nullptr, 4096).status().code(), ENOTSUP);
  auto win = OpenOk("driver=raw,offset=1M,size=1M,file.driver=file,file.filename=" + img);
  ASSERT_TRUE(win);
  EXPECT_EQ(win->size(), 1u << 20);
  auto d = Pattern(4096, 3);
  ASSERT_TRUE(win->Write(4096, d.data(), d.size()).ok());
  std::vector<uint8_t> back(4096);
  ASSERT_TRUE(whole->Read((1 << 20) + 4096, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
  EXPECT_EQ(win->Write(1 << 20, d.data(), d.size()).code(), EINVAL);  // past the window
  // Queues: without a window the file's own (io_uring) queue, with one that queue shifted.
  for (Backend* b : {whole.get(), win.get()}) {
    auto q = b->CreateQueue(4);
    ASSERT_TRUE(q.ok());
    IoRequest r;
    r.op = IoRequest::Op::kRead;
    r.offset = b == whole.get() ? (1 << 20) + 4096 : 4096;
    r.buf = back.data();
    r.len = back.size();
    std::memset(back.data(), 0, back.size());
    ASSERT_TRUE((*q)->Submit(&r).ok());
    EXPECT_EQ(*(*q)->Reap(1), 1u);
    EXPECT_EQ(r.error, 0);
    EXPECT_EQ(back, d);
  }
}

void AppendDone(IoRequest* r) { ++*static_cast<int*>(r->user); }

TEST(Raw, WindowQueueShiftsAndRestoresRequests) {
  auto b = OpenOk(kEmu + ",offset=4M,size=4M");
  ASSERT_TRUE(b);
  auto q = b->CreateQueue(2);
  ASSERT_TRUE(q.ok());
  auto d = Pattern(4096, 6);
  int calls = 0;
  IoRequest w, a;
  w.op = IoRequest::Op::kWrite;
  w.offset = kZone;
  w.buf = d.data();
  w.len = 4096;
  w.done = AppendDone;
  w.user = &calls;
  a = w;
  a.op = IoRequest::Op::kAppend;
  IoRequest over = w;
  ASSERT_TRUE((*q)->Submit(&w).ok());
  ASSERT_TRUE((*q)->Submit(&a).ok());
  EXPECT_EQ((*q)->Submit(&over).code(), EAGAIN);  // full: refused, untouched
  EXPECT_EQ(over.offset, kZone);
  EXPECT_EQ(over.user, &calls);
  unsigned got = 0;
  while (got < 2) {
    got += *(*q)->Reap(2 - got);
  }
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(w.error, 0);
  EXPECT_EQ(a.error, 0);
  EXPECT_EQ(w.offset, kZone);  // the caller's request is as it submitted it
  EXPECT_EQ(w.user, &calls);
  EXPECT_EQ(a.result_offset, kZone + 4096);  // window coordinates
  std::vector<Zone> cz(1);
  ASSERT_TRUE(b->root().file()->ReportZones(5 * kZone, cz).ok());
  EXPECT_EQ(cz[0].write_pointer, 5 * kZone + 8192);
}

TEST(Raw, OverALoopDevice) {
  TempDir dir;
  LoopDevice loop(dir.File("backing.img"), 8 << 20);
  if (loop.path().empty()) {
    GTEST_SKIP() << loop.reason();
  }
  auto b = OpenOk("driver=raw,offset=1M,file.driver=host_device,file.filename=" + loop.path());
  ASSERT_TRUE(b);
  EXPECT_EQ(b->GraphString(), "raw -> host_device");
  EXPECT_EQ(b->model(), ZoneModel::kNone);
  EXPECT_EQ(b->size(), 7u << 20);
  EXPECT_EQ(b->ReportZones(0, 1).status().code(), ENOTSUP);
  auto d = Pattern(8192, 4);
  ASSERT_TRUE(b->Write(0, d.data(), d.size()).ok());
  ASSERT_TRUE(b->Flush().ok());
  std::vector<uint8_t> back(8192);
  ASSERT_TRUE(b->root().file()->Read(1 << 20, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
}

}  // namespace
}  // namespace zbl::raw
