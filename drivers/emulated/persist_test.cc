// The emulated device over a file: create vs reopen, geometry conflicts, the zone report and
// data surviving a reopen, hole punching on reset, torn records, graphs over a loop device,
// and a crash test that SIGKILLs a writer process at random points.
#include "persist.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "file/test_util.h"
#include "persist_pattern.h"
#include "zbl/backend.h"

namespace zbl::emulated {
namespace {

using zbl::testing::LoopDevice;
using zbl::testing::TempDir;

constexpr uint64_t kZone = 1 << 20;
const std::string kGeometry = ",size=16M,zone-size=1M,conventional-zones=1,max-open-zones=4";

std::vector<uint8_t> Data(uint64_t offset, uint64_t len) {
  std::vector<uint8_t> v(len);
  persist_test::Fill(v.data(), offset, len);
  return v;
}

class PersistTest : public ::testing::Test {
 protected:
  void SetUp() override { img_ = dir_.File("disk.img"); }
  std::string Opts(const std::string& extra = kGeometry) const {
    return "driver=emulated,file.driver=file,file.filename=" + img_ + extra;
  }
  std::unique_ptr<Backend> Open(const std::string& extra = kGeometry) {
    auto b = Backend::Open(Opts(extra));
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(*b) : nullptr;
  }
  void Write(Backend& b, uint64_t off, uint64_t len) {
    auto d = Data(off, len);
    ASSERT_TRUE(b.Write(off, d.data(), len).ok()) << off;
  }
  void ExpectData(Backend& b, uint64_t off, uint64_t len) {
    std::vector<uint8_t> back(len);
    ASSERT_TRUE(b.Read(off, back.data(), len).ok());
    EXPECT_EQ(persist_test::FirstMismatch(back.data(), off, len), off + len) << "at " << off;
  }
  TempDir dir_;
  std::string img_;
};

TEST_F(PersistTest, EmptyFileIsInitialisedAndGrown) {
  std::ofstream(img_).close();
  auto b = Open();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->model(), ZoneModel::kHostManaged);
  EXPECT_EQ(b->limits().nr_zones, 16u);
  EXPECT_EQ(b->GraphString(), "emulated -> file");
  EXPECT_NE(b->Describe().find("persistent image (created)"), std::string::npos) << b->Describe();
  struct stat st {};
  ASSERT_EQ(stat(img_.c_str(), &st), 0);
  EXPECT_GE(static_cast<uint64_t>(st.st_size), 16u << 20);
}

TEST_F(PersistTest, ReopenGivesTheSameReportAndData) {
  std::vector<Zone> before;
  {
    auto b = Open();
    ASSERT_TRUE(b);
    Write(*b, 0, 64 << 10);          // conventional zone
    Write(*b, 1 * kZone, 12 << 10);  // implicitly open -> CLOSED after reopen
    Write(*b, 2 * kZone, kZone);     // FULL
    Write(*b, 3 * kZone, 8 << 10);
    ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kFinish, 3 * kZone, kZone).ok());  // FULL by finish
    ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kOpen, 4 * kZone, kZone).ok());    // EXP_OPEN, wp at start
    Write(*b, 5 * kZone, 4096);
    ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kClose, 5 * kZone, kZone).ok());
    auto a = b->ZoneAppend(6 * kZone, Data(6 * kZone, 8192).data(), 8192);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(*a, 6 * kZone);
    ASSERT_TRUE(b->Flush().ok());
    before = *b->ReportZones(0, 0);
  }
  auto b = Open("");  // no geometry options: the image's
  ASSERT_TRUE(b);
  EXPECT_NE(b->Describe().find("persistent image (reopened)"), std::string::npos);
  EXPECT_EQ(b->limits().zone_size, kZone);
  EXPECT_EQ(b->limits().max_open_zones, 4u);
  auto after = *b->ReportZones(0, 0);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    Zone want = before[i];
    if (IsOpen(want.condition)) {
      want.condition =
          want.write_pointer == want.start ? ZoneCondition::kEmpty : ZoneCondition::kClosed;
    }
    EXPECT_EQ(after[i], want) << "zone " << i;
  }
  EXPECT_EQ(after[1].condition, ZoneCondition::kClosed);
  EXPECT_EQ(after[4].condition, ZoneCondition::kEmpty);
  ExpectData(*b, 0, 64 << 10);
  ExpectData(*b, kZone, 12 << 10);
  ExpectData(*b, 2 * kZone, kZone);
  ExpectData(*b, 3 * kZone, 8 << 10);
  ExpectData(*b, 6 * kZone, 8192);
  // The write pointer carries on where it was.
  Write(*b, kZone + (12 << 10), 4096);
  EXPECT_EQ(b->Write(kZone, Data(kZone, 4096).data(), 4096).code(), EIO);
}

TEST_F(PersistTest, CleanCloseWithoutFlushPersists) {
  {
    auto b = Open();
    ASSERT_TRUE(b);
    Write(*b, 7 * kZone, 16 << 10);
  }
  auto b = Open("");
  ASSERT_TRUE(b);
  EXPECT_EQ((*b->ReportZones(7 * kZone, 1))[0].write_pointer, 7 * kZone + (16 << 10));
}

TEST_F(PersistTest, NonZonedImageKeepsItsData) {
  {
    auto b = Open(",model=none,size=4M");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->model(), ZoneModel::kNone);
    Write(*b, 3 << 20, 8192);
    Write(*b, 4096, 4096);
  }
  auto b = Open("");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->model(), ZoneModel::kNone);
  EXPECT_EQ(b->size(), 4u << 20);
  ExpectData(*b, 3 << 20, 8192);
  ExpectData(*b, 4096, 4096);
  EXPECT_EQ(b->ReportZones(0, 1).status().code(), ENOTSUP);
}

TEST_F(PersistTest, ReadOnlyChildServesReadsAndRefusesWrites) {
  {
    auto b = Open();
    ASSERT_TRUE(b);
    Write(*b, 2 * kZone, 8192);
  }
  auto b = Open(",file.read-only=on");
  ASSERT_TRUE(b);
  ExpectData(*b, 2 * kZone, 8192);
  EXPECT_EQ(b->Write(2 * kZone + 8192, Data(0, 4096).data(), 4096).code(), EROFS);
  EXPECT_EQ((*b->ReportZones(2 * kZone, 1))[0].write_pointer, 2 * kZone + 8192);
  // A missing image is not created read-only.
  auto none = Backend::Open("driver=emulated,file.driver=file,file.read-only=on,file.filename=" +
                            dir_.File("absent.img"));
  EXPECT_EQ(none.status().code(), ENOENT);
}

TEST_F(PersistTest, ConflictingGeometryIsRefusedNamingTheOption) {
  { ASSERT_TRUE(Open()); }
  struct Case {
    std::string extra, says;
  };
  const Case cases[] = {
      {",zone-size=2M", "created with zone-size 1M, options say 2M"},
      {",size=32M", "created with size 16M, options say 32M"},
      {",model=ha", "created with model hm, options say ha"},
      {",profile=zns", "created with profile null_blk, options say zns"},
      {",max-open-zones=8", "created with max-open-zones 4, options say 8"},
      {",block-size=512", "created with block-size 4k, options say 512"},
  };
  struct stat st0 {};
  ASSERT_EQ(stat(img_.c_str(), &st0), 0);
  for (const Case& c : cases) {
    auto b = Backend::Open(Opts(c.extra));
    ASSERT_FALSE(b.ok()) << c.extra;
    EXPECT_EQ(b.status().code(), EINVAL) << b.status().ToString();
    EXPECT_NE(b.status().message().find(c.says), std::string::npos) << b.status().ToString();
  }
  // The same geometry, given again, is fine.
  EXPECT_TRUE(Open(kGeometry + ",model=hm,profile=null_blk"));
}

TEST_F(PersistTest, NotAnImageIsRefusedAndLeftAlone) {
  {
    std::ofstream out(img_, std::ios::binary);
    out << "precious user data, not an image";
  }
  auto b = Backend::Open(Opts());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), EINVAL);
  EXPECT_NE(b.status().message().find("not a zbl emulated image"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(img_.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 32);
}

TEST_F(PersistTest, CorruptHeaderIsEio) {
  { ASSERT_TRUE(Open()); }
  {
    std::fstream f(img_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    f.put('\x7f');
  }
  auto b = Backend::Open(Opts(""));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), EIO);
  EXPECT_NE(b.status().message().find("checksum"), std::string::npos) << b.status().ToString();
}

TEST_F(PersistTest, TornNewestRecordFallsBackToThePreviousFlush) {
  {
    auto b = Open();
    ASSERT_TRUE(b);
    Write(*b, 2 * kZone, 4096);
    ASSERT_TRUE(b->Flush().ok());  // record seq 2 (copy A)
    Write(*b, 2 * kZone + 4096, 4096);
    ASSERT_TRUE(b->Flush().ok());  // record seq 3 (copy B)
  }
  {
    // Copy B of zone 2: header 4 KiB + copy A (4 KiB for 16 records) + 2 * 32 bytes.
    std::fstream f(img_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 4096 + 2 * 32 + 9);
    f.put('\x55');
  }
  auto b = Open("");
  ASSERT_TRUE(b);
  Zone z = (*b->ReportZones(2 * kZone, 1))[0];
  EXPECT_EQ(z.write_pointer, 2 * kZone + 4096);
  EXPECT_EQ(z.condition, ZoneCondition::kClosed);
  ExpectData(*b, 2 * kZone, 4096);
}

bool PunchHoleWorks(const std::string& dir) {
  const std::string p = dir + "/punch-probe";
  int fd = open(p.c_str(), O_CREAT | O_RDWR, 0600);
  if (fd < 0) {
    return false;
  }
  bool ok = ftruncate(fd, 1 << 20) == 0 &&
            fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
  close(fd);
  unlink(p.c_str());
  return ok;
}

TEST_F(PersistTest, ResetPunchesAHole) {
  if (!PunchHoleWorks(dir_.path())) {
    GTEST_SKIP() << "the file system of " << dir_.path() << " cannot punch holes";
  }
  auto b = Open();
  ASSERT_TRUE(b);
  Write(*b, 3 * kZone, kZone);
  ASSERT_TRUE(b->Flush().ok());
  struct stat full {
  }, reset{};
  ASSERT_EQ(stat(img_.c_str(), &full), 0);
  ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kReset, 3 * kZone, kZone).ok());
  ASSERT_EQ(stat(img_.c_str(), &reset), 0);
  EXPECT_LE(reset.st_blocks + (kZone / 512) / 2, full.st_blocks)
      << "blocks before " << full.st_blocks << ", after " << reset.st_blocks;
  // The reset zone reads like a never-written one (the family's fill above the write pointer).
  std::vector<uint8_t> back(4096, 0x11), fresh(4096, 0x22);
  ASSERT_TRUE(b->Read(3 * kZone, back.data(), back.size()).ok());
  ASSERT_TRUE(b->Read(5 * kZone, fresh.data(), fresh.size()).ok());
  EXPECT_EQ(back, fresh);
  b.reset();
  auto again = Open("");
  EXPECT_EQ((*again->ReportZones(3 * kZone, 1))[0].condition, ZoneCondition::kEmpty);
}

// Over any child that can discard and resize (filters and raw in between), the image is created,
// grown and its reset zones punched, as over the file itself; `info` says so.
TEST_F(PersistTest, OverAnyChildThatCanTheImageGrowsAndResetsPunchHoles) {
  if (!PunchHoleWorks(dir_.path())) {
    GTEST_SKIP() << "the file system of " << dir_.path() << " cannot punch holes";
  }
  const std::string file = "driver=file,filename=" + img_;
  for (const std::string& child :
       {std::string("file.driver=raw,file.file.driver=file,file.file.filename=" + img_),
        std::string("file.driver=blkdebug,file.file.driver=file,file.file.filename=" + img_),
        std::string("file.driver=powercut,file.file.driver=file,file.file.filename=" + img_),
        std::string("file.driver=raw,file.file.driver=blkdebug,file.file.file.driver=file,"
                    "file.file.file.filename=" + img_)}) {
    SCOPED_TRACE(child);
    std::remove(img_.c_str());
    auto b = Backend::Open("driver=emulated," + child + kGeometry);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    const std::string info = (*b)->Describe();
    EXPECT_NE(info.find("grown from 0 to"), std::string::npos) << info;
    EXPECT_NE(info.find("hole punched"), std::string::npos) << info;
    Write(**b, 3 * kZone, kZone);
    ASSERT_TRUE((*b)->Flush().ok());
    struct stat full {
    }, reset{};
    ASSERT_EQ(stat(img_.c_str(), &full), 0);
    ASSERT_TRUE((*b)->ZoneMgmt(ZoneOp::kReset, 3 * kZone, kZone).ok());
    ASSERT_TRUE((*b)->Flush().ok());
    ASSERT_EQ(stat(img_.c_str(), &reset), 0);
    EXPECT_LE(reset.st_blocks + (kZone / 512) / 2, full.st_blocks)
        << "blocks before " << full.st_blocks << ", after " << reset.st_blocks;
  }
}

// A child that cannot discard keeps the reset zone's old bytes (never read) and `info` says
// so; one that cannot grow is refused with ENOSPC naming it.
TEST_F(PersistTest, ChildWithoutDiscardOrResizeIsSaidSo) {
  auto b = Backend::Open("driver=emulated,file.driver=emulated,file.model=none,file.size=32M" +
                         kGeometry);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const std::string info = (*b)->Describe();
  EXPECT_NE(info.find("data left in the image (the 'emulated' child cannot discard)"),
            std::string::npos)
      << info;
  Write(**b, 3 * kZone, kZone);
  ASSERT_TRUE((*b)->ZoneMgmt(ZoneOp::kReset, 3 * kZone, kZone).ok());
  EXPECT_EQ((*(*b)->ReportZones(3 * kZone, 1))[0].condition, ZoneCondition::kEmpty);
  auto small = Backend::Open(
      "driver=emulated,file.driver=emulated,file.model=none,file.size=4M" + kGeometry);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().code(), ENOSPC);
  EXPECT_NE(small.status().message().find("cannot grow"), std::string::npos)
      << small.status().ToString();
}

// A reset whose EMPTY record cannot be made durable fails, leaving the zone as it was (the
// engine fails the reset; no side channel).
TEST_F(PersistTest, ResetThatCannotBeMadeDurableFailsAndChangesNothing) {
  auto b = Backend::Open("driver=emulated,file.driver=blkdebug,file.inject-error.0.event=flush,"
                         "file.inject-error.0.after=1000000,file.file.driver=file,"
                         "file.file.filename=" +
                         img_ + kGeometry);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  b->reset();
  // The flush rule fires from the first flush after the open.
  auto c = Backend::Open("driver=emulated,file.driver=blkdebug,file.inject-error.0.event=flush,"
                         "file.file.driver=file,file.file.filename=" + img_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Write(**c, 3 * kZone, 64 << 10);
  const Status st = (*c)->ZoneMgmt(ZoneOp::kReset, 3 * kZone, kZone);
  EXPECT_EQ(st.code(), EIO) << st.ToString();
  const Zone z = (*(*c)->ReportZones(3 * kZone, 1))[0];
  EXPECT_EQ(z.condition, ZoneCondition::kImplicitOpen);
  EXPECT_EQ(z.write_pointer, 3 * kZone + (64 << 10));
}

TEST_F(PersistTest, ConcurrentWritersAndFlushes) {
  {
    auto b = Open();
    ASSERT_TRUE(b);
    std::vector<std::thread> ts;
    for (uint64_t t = 0; t < 4; ++t) {
      ts.emplace_back([&, t] {
        const uint64_t zone = (2 + t) * kZone;
        for (uint64_t i = 0; i < 64; ++i) {
          auto d = Data(zone + i * 4096, 4096);
          EXPECT_TRUE(b->Write(zone + i * 4096, d.data(), 4096).ok());
          if (i % 8 == t) {
            EXPECT_TRUE(b->Flush().ok());
          }
        }
      });
    }
    for (auto& t : ts) {
      t.join();
    }
  }
  auto b = Open("");
  ASSERT_TRUE(b);
  for (uint64_t t = 0; t < 4; ++t) {
    const uint64_t zone = (2 + t) * kZone;
    EXPECT_EQ((*b->ReportZones(zone, 1))[0].write_pointer, zone + 64 * 4096);
    ExpectData(*b, zone, 64 * 4096);
  }
}

TEST_F(PersistTest, RawOverEmulatedOverFile) {
  auto b = Backend::Open(
      "driver=raw,file.driver=emulated,file.file.driver=file,file.file.filename=" + img_ +
      ",file.size=8M,file.zone-size=1M,file.model=hm");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)->GraphString(), "raw -> emulated -> file");
  EXPECT_EQ((*b)->model(), ZoneModel::kHostManaged);
  EXPECT_EQ((*b)->limits().nr_zones, 8u);
  Write(**b, 0, 8192);
  EXPECT_EQ((*(*b)->ReportZones(0, 1))[0].write_pointer, 8192u);
}

TEST_F(PersistTest, EmulatedOverFileOverALoopDevice) {
  LoopDevice loop(dir_.File("backing.img"), 24 << 20);
  if (loop.path().empty()) {
    GTEST_SKIP() << loop.reason();
  }
  const std::string opts = "driver=emulated,file.driver=host_device,file.filename=" + loop.path();
  {
    auto b = Backend::Open(opts + kGeometry);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ((*b)->GraphString(), "emulated -> host_device");
    Write(**b, 2 * kZone, 64 << 10);
    ASSERT_TRUE((*b)->ZoneMgmt(ZoneOp::kReset, 2 * kZone, kZone).ok());  // BLKDISCARD
    Write(**b, 2 * kZone, 8 << 10);
    ASSERT_TRUE((*b)->Flush().ok());
  }
  auto b = Backend::Open(opts);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)->limits().nr_zones, 16u);
  Zone z = (*(*b)->ReportZones(2 * kZone, 1))[0];
  EXPECT_EQ(z.write_pointer, 2 * kZone + (8 << 10));
  ExpectData(**b, 2 * kZone, 8 << 10);
  b->reset();
  // The same image under raw: raw -> emulated -> host_device.
  auto raw = Backend::Open(
      "driver=raw,file.driver=emulated,file.file.driver=host_device,"
      "file.file.filename=" +
      loop.path());
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ((*raw)->GraphString(), "raw -> emulated -> host_device");
  EXPECT_EQ((*raw)->model(), ZoneModel::kHostManaged);
  EXPECT_EQ((*raw)->limits().max_open_zones, 4u);
  ExpectData(**raw, 2 * kZone, 8 << 10);
}

TEST_F(PersistTest, ImageTooLargeForAHostDeviceIsEnospc) {
  LoopDevice loop(dir_.File("small.img"), 4 << 20);
  if (loop.path().empty()) {
    GTEST_SKIP() << loop.reason();
  }
  auto b = Backend::Open("driver=emulated,file.driver=host_device,file.filename=" + loop.path() +
                         ",size=16M,zone-size=1M");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), ENOSPC) << b.status().ToString();
}

// ---- crash test ----

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child Spawn(const std::string& opts, uint64_t seed, unsigned qd) {
  int p[2];
  if (pipe(p) != 0) {
    return {};
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    const std::string s = std::to_string(seed), q = std::to_string(qd);
    if (qd > 0) {
      execl(ZBL_PERSIST_WRITER, ZBL_PERSIST_WRITER, opts.c_str(), s.c_str(), q.c_str(),
            static_cast<char*>(nullptr));
    } else {
      execl(ZBL_PERSIST_WRITER, ZBL_PERSIST_WRITER, opts.c_str(), s.c_str(),
            static_cast<char*>(nullptr));
    }
    _exit(127);
  }
  close(p[1]);
  return {pid, p[0]};
}

// Reads up to and including the first newline (the writer's "S" once open).
std::string ReadLine(int fd) {
  std::string s;
  char c;
  while (read(fd, &c, 1) == 1) {
    s += c;
    if (c == '\n') {
      break;
    }
  }
  return s;
}

std::string ReadAll(int fd, std::string s = "") {
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
    s.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return s;
}

// qd 0: the writer's synchronous calls; else its queue of that depth (O_DIRECT, so the file's
// io_uring ring has the writes in flight when the kill comes).
void CrashTest(const std::string& opts, unsigned qd) {
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  std::map<uint64_t, uint64_t> acked;  // zone start -> write pointer acknowledged by a flush
  constexpr int kIterations = 60;
  int with_flushes = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int it = 0; it < kIterations; ++it) {
    SCOPED_TRACE("iteration " + std::to_string(it));
    Child r = Spawn(opts, rng(), qd);
    ASSERT_GT(r.pid, 0);
    // Mostly kill once the writer is open (its startup time varies a lot); sometimes earlier,
    // while it may be creating or reopening the image.
    std::string head;
    if (rng() % 8 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
    } else {
      head = ReadLine(r.out);
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50000));
    }
    kill(r.pid, SIGKILL);
    int status = 0;
    waitpid(r.pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself, status " << status;
    std::istringstream lines(ReadAll(r.out, head));
    std::string line;
    bool flushed = false;
    while (std::getline(lines, line)) {
      if (lines.eof()) {
        break;  // a line cut by the kill
      }
      char kind = 0;
      uint64_t zone = 0, wp = 0;
      std::istringstream ls(line);
      ls >> kind >> zone;
      if (kind == 'R') {
        acked[zone * kZone] = zone * kZone;
      }
      if (kind == 'F' && (ls >> wp)) {
        acked[zone * kZone] = wp;
        flushed = true;
      }
    }
    with_flushes += flushed;
    auto b = Backend::Open(opts);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    auto zones = (*b)->ReportZones(0, 0);
    ASSERT_TRUE(zones.ok());
    for (const Zone& z : *zones) {
      if (z.type == ZoneType::kConventional) {
        continue;
      }
      const uint64_t wp = z.write_pointer;
      ASSERT_GE(wp, acked[z.start]) << "zone at " << z.start << " lost flushed writes";
      ASSERT_LE(wp, z.start + z.capacity);
      const ZoneCondition want = wp == z.start                ? ZoneCondition::kEmpty
                                 : wp == z.start + z.capacity ? ZoneCondition::kFull
                                                              : ZoneCondition::kClosed;
      ASSERT_EQ(z.condition, want) << "zone at " << z.start;
      std::vector<uint8_t> back(wp - z.start);
      ASSERT_TRUE((*b)->Read(z.start, back.data(), back.size()).ok());
      ASSERT_EQ(persist_test::FirstMismatch(back.data(), z.start, back.size()), wp)
          << "zone at " << z.start << ": data below the write pointer is not what was written";
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::testing::Test::RecordProperty("iterations_with_flushes", with_flushes);
  EXPECT_GT(with_flushes, kIterations / 4) << "too few runs got as far as a flush to test much";
  std::printf("crash test (qd %u): %d iterations (%d with flushes) in %.1f s\n", qd, kIterations,
              with_flushes, secs);
}

TEST_F(PersistTest, CrashAtRandomPointsKeepsFlushedWritesAndConsistency) {
  CrashTest(Opts(",size=8M,zone-size=1M,conventional-zones=1,max-open-zones=3"), 0);
}

TEST_F(PersistTest, CrashWithQueuedWritesInFlightKeepsFlushedWritesAndConsistency) {
  CrashTest(Opts(",size=8M,zone-size=1M,conventional-zones=1,max-open-zones=3,file.cache.direct=on"),
            32);
}

}  // namespace
}  // namespace zbl::emulated
