// driver=file and driver=host_device: options, I/O, read-only, io_uring queues, the zoned probe
// (over a fake sysfs tree) and a real kernel block device (a loop device).
#include "file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "file/test_util.h"
#include "zbl/backend.h"

namespace zbl::file {
namespace {

using zbl::testing::LoopDevice;
using zbl::testing::TempDir;

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 9));
  }
  return v;
}

void MakeFile(const std::string& path, uint64_t size) {
  std::ofstream(path, std::ios::binary).close();
  ASSERT_EQ(truncate(path.c_str(), static_cast<off_t>(size)), 0);
}

std::unique_ptr<Backend> OpenOk(const std::string& opts) {
  auto b = Backend::Open(opts);
  EXPECT_TRUE(b.ok()) << opts << ": " << b.status().ToString();
  return b.ok() ? std::move(*b) : nullptr;
}

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    path_ = dir_.File("disk.img");
    MakeFile(path_, 4 << 20);
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(FileTest, RegularFileIsNoneWithItsSize) {
  auto b = OpenOk("driver=file,filename=" + path_);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->model(), ZoneModel::kNone);
  EXPECT_EQ(b->size(), 4u << 20);
  EXPECT_EQ(b->GraphString(), "file");
  const std::string info = b->Describe();
  EXPECT_NE(info.find("aio: "), std::string::npos) << info;
  EXPECT_NE(info.find(IoUringAvailable() ? "io_uring" : "threads"), std::string::npos) << info;
}

TEST_F(FileTest, ReadWriteFlushRoundTrip) {
  auto b = OpenOk("driver=file,filename=" + path_);
  ASSERT_TRUE(b);
  auto d = Pattern(64 << 10, 3);
  ASSERT_TRUE(b->Write(8192, d.data(), d.size()).ok());
  ASSERT_TRUE(b->Flush().ok());
  std::vector<uint8_t> back(d.size());
  ASSERT_TRUE(b->Read(8192, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
  // The bytes are in the file itself, at the same offset.
  std::ifstream in(path_, std::ios::binary);
  in.seekg(8192);
  std::vector<uint8_t> raw(d.size());
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  EXPECT_EQ(raw, d);
}

TEST_F(FileTest, ZoneCommandsAreNotSupported) {
  auto b = OpenOk("driver=file,filename=" + path_);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->ReportZones(0, 1).status().code(), ENOTSUP);
  EXPECT_EQ(b->ZoneMgmt(ZoneOp::kReset, 0, 4096).code(), ENOTSUP);
  uint8_t buf[512] = {};
  EXPECT_EQ(b->ZoneAppend(0, buf, sizeof buf).status().code(), ENOTSUP);
}

TEST_F(FileTest, OptionErrors) {
  struct Case {
    std::string opts;
    int err;
    std::string names;
  };
  const std::vector<Case> cases = {
      {"driver=file", EINVAL, "filename"},
      {"driver=file,filename=", EINVAL, "filename"},
      {"driver=file,filename=" + dir_.File("nope.img"), ENOENT, dir_.File("nope.img")},
      {"driver=file,filename=" + path_ + ",cache.direct=maybe", EINVAL, "cache.direct"},
      {"driver=file,filename=" + path_ + ",cache.writeback=on", EINVAL, "writeback"},
      {"driver=file,filename=" + path_ + ",aio=native", EINVAL, "aio"},
      {"driver=file,filename=" + path_ + ",read-only=perhaps", EINVAL, "read-only"},
      {"driver=file,filename=" + path_ + ",bogus=1", EINVAL, "bogus"},
      {"driver=file,filename=" + dir_.path(), EISDIR, dir_.path()},
      {"driver=host_device,filename=" + path_, EINVAL, "block device"},
  };
  for (const Case& c : cases) {
    auto b = Backend::Open(c.opts);
    ASSERT_FALSE(b.ok()) << c.opts;
    EXPECT_EQ(b.status().code(), c.err) << c.opts << ": " << b.status().ToString();
    EXPECT_NE(b.status().ToString().find(c.names), std::string::npos)
        << c.opts << ": " << b.status().ToString();
  }
}

TEST_F(FileTest, ReadOnlyRefusesWritesWithErofs) {
  auto b = OpenOk("driver=file,read-only=on,filename=" + path_);
  ASSERT_TRUE(b);
  auto d = Pattern(4096, 1);
  Status st = b->Write(0, d.data(), d.size());
  EXPECT_EQ(st.code(), EROFS) << st.ToString();
  EXPECT_NE(st.message().find("read-only"), std::string::npos);
  std::vector<uint8_t> back(4096, 0xff);
  EXPECT_TRUE(b->Read(0, back.data(), back.size()).ok());
  EXPECT_EQ(back, std::vector<uint8_t>(4096, 0));
  EXPECT_TRUE(b->Flush().ok());
  if (IoUringAvailable()) {
    auto q = b->CreateQueue(2);
    ASSERT_TRUE(q.ok());
    IoRequest r;
    r.op = IoRequest::Op::kWrite;
    r.buf = d.data();
    r.len = d.size();
    EXPECT_EQ((*q)->Submit(&r).code(), EROFS);
    EXPECT_EQ((*q)->inflight(), 0u);
  }
}

TEST_F(FileTest, DirectIo) {
  auto b = Backend::Open("driver=file,cache.direct=on,filename=" + path_);
  if (!b.ok() && b.status().message().find("refuses O_DIRECT") != std::string::npos) {
    GTEST_SKIP() << "file system refuses O_DIRECT: " << b.status().ToString();
  }
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE((*b)->Describe().find("cache.direct: on"), std::string::npos);
  EXPECT_NE((*b)->option_string().find("cache.direct=on"), std::string::npos);
  const size_t len = 64 << 10;
  void* mem = nullptr;
  ASSERT_EQ(posix_memalign(&mem, 4096, len), 0);
  std::unique_ptr<uint8_t, decltype(&free)> buf(static_cast<uint8_t*>(mem), free);
  auto d = Pattern(len, 9);
  std::memcpy(buf.get(), d.data(), len);
  ASSERT_TRUE((*b)->Write(1 << 20, buf.get(), len).ok());
  std::memset(buf.get(), 0, len);
  ASSERT_TRUE((*b)->Read(1 << 20, buf.get(), len).ok());
  EXPECT_EQ(std::memcmp(buf.get(), d.data(), len), 0);
  // Buffers not aligned in memory go through a bounce buffer, as in QEMU.
  std::vector<uint8_t> odd(len + 1);
  auto e = Pattern(len, 21);
  std::memcpy(odd.data() + 1, e.data(), len);
  ASSERT_TRUE((*b)->Write(2 << 20, odd.data() + 1, len).ok());
  std::fill(odd.begin(), odd.end(), 0);
  ASSERT_TRUE((*b)->Read(2 << 20, odd.data() + 1, len).ok());
  EXPECT_EQ(std::memcmp(odd.data() + 1, e.data(), len), 0);
}

TEST_F(FileTest, ConcurrentWritersOnDistinctRanges) {
  auto b = OpenOk("driver=file,filename=" + path_);
  ASSERT_TRUE(b);
  constexpr int kThreads = 4;
  std::vector<std::thread> ts;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      auto d = Pattern(4096, static_cast<uint8_t>(t));
      for (int i = 0; i < 64; ++i) {
        const uint64_t off = (uint64_t{static_cast<uint64_t>(t)} * 64 + i) * 4096;
        if (!b->Write(off, d.data(), d.size()).ok()) {
          failures++;
        }
      }
    });
  }
  for (auto& t : ts) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    auto d = Pattern(4096, static_cast<uint8_t>(t));
    std::vector<uint8_t> back(4096);
    ASSERT_TRUE(
        b->Read((uint64_t{static_cast<uint64_t>(t)} * 64 + 63) * 4096, back.data(), 4096).ok());
    EXPECT_EQ(back, d);
  }
}

TEST_F(FileTest, DiscardPunchesAHole) {
  auto b = OpenOk("driver=file,filename=" + path_);
  ASSERT_TRUE(b);
  auto d = Pattern(1 << 20, 5);
  ASSERT_TRUE(b->Write(0, d.data(), d.size()).ok());
  ASSERT_TRUE(b->Flush().ok());
  struct stat before {
  }, after{};
  ASSERT_EQ(stat(path_.c_str(), &before), 0);
  Status st = b->root().Discard(0, 1 << 20);
  if (st.code() == ENOTSUP) {
    GTEST_SKIP() << "punch hole unsupported here: " << st.ToString();
  }
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(stat(path_.c_str(), &after), 0);
  EXPECT_LT(after.st_blocks, before.st_blocks);
  EXPECT_EQ(after.st_size, before.st_size);
  std::vector<uint8_t> back(4096, 0xff);
  ASSERT_TRUE(b->Read(0, back.data(), back.size()).ok());
  EXPECT_EQ(back, std::vector<uint8_t>(4096, 0));
}

// ---- queues ----

struct Completion {
  std::vector<int> calls;
};

void CountDone(IoRequest* r) { static_cast<Completion*>(r->user)->calls[r->offset / 4096]++; }

void RunQueueContract(Backend& b, const std::string& what) {
  SCOPED_TRACE(what);
  constexpr unsigned kDepth = 8, kN = 64;
  auto q = b.CreateQueue(kDepth);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  Completion c;
  c.calls.assign(kN, 0);
  std::vector<std::vector<uint8_t>> data;
  for (unsigned i = 0; i < kN; ++i) {
    data.push_back(Pattern(4096, static_cast<uint8_t>(i)));
  }
  std::vector<IoRequest> reqs(kN);
  unsigned submitted = 0, reaped = 0;
  while (reaped < kN) {
    while (submitted < kN && (*q)->inflight() < kDepth) {
      IoRequest& r = reqs[submitted];
      r.op = IoRequest::Op::kWrite;
      r.offset = uint64_t{submitted} * 4096;
      r.buf = data[submitted].data();
      r.len = 4096;
      r.done = CountDone;
      r.user = &c;
      ASSERT_TRUE((*q)->Submit(&r).ok());
      ++submitted;
    }
    if (submitted == kN || (*q)->inflight() == kDepth) {
      // A full queue refuses at once, and that request never completes.
      if ((*q)->inflight() == kDepth) {
        IoRequest extra;
        extra.op = IoRequest::Op::kWrite;
        extra.offset = 0;
        extra.buf = data[0].data();
        extra.len = 4096;
        extra.done = [](IoRequest*) { ADD_FAILURE() << "a refused request completed"; };
        EXPECT_EQ((*q)->Submit(&extra).code(), EAGAIN);
      }
    }
    auto n = (*q)->Reap(1);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    reaped += *n;
  }
  EXPECT_EQ(reaped, kN);
  EXPECT_EQ((*q)->inflight(), 0u);
  EXPECT_EQ(*(*q)->Reap(0), 0u);
  for (unsigned i = 0; i < kN; ++i) {
    EXPECT_EQ(c.calls[i], 1) << "request " << i;
    EXPECT_EQ(reqs[i].error, 0);
  }
  // An invalid request (beyond the end) fails at Submit and never completes.
  IoRequest bad;
  bad.op = IoRequest::Op::kRead;
  bad.offset = b.size();
  bad.buf = data[0].data();
  bad.len = 4096;
  bad.done = [](IoRequest*) { ADD_FAILURE() << "a refused request completed"; };
  EXPECT_EQ((*q)->Submit(&bad).code(), EINVAL);
  // Reads and a flush through the queue see the writes.
  std::vector<uint8_t> back(4096 * 4);
  IoRequest rd, fl;
  rd.op = IoRequest::Op::kRead;
  rd.offset = 4096 * 10;
  rd.buf = back.data();
  rd.len = back.size();
  fl.op = IoRequest::Op::kFlush;
  ASSERT_TRUE((*q)->Submit(&rd).ok());
  ASSERT_TRUE((*q)->Submit(&fl).ok());
  unsigned got = 0;
  while (got < 2) {
    got += *(*q)->Reap(2 - got);
  }
  EXPECT_EQ(rd.error, 0);
  EXPECT_EQ(fl.error, 0);
  for (unsigned i = 0; i < 4; ++i) {
    EXPECT_EQ(0, std::memcmp(back.data() + i * 4096, data[10 + i].data(), 4096)) << i;
  }
}

TEST_F(FileTest, IoUringQueueContract) {
  if (!IoUringAvailable()) {
    GTEST_SKIP() << "io_uring is not usable on this kernel";
  }
  auto b = OpenOk("driver=file,aio=io_uring,filename=" + path_);
  ASSERT_TRUE(b);
  EXPECT_NE(b->Describe().find("aio: io_uring"), std::string::npos);
  RunQueueContract(*b, "io_uring");
}

TEST_F(FileTest, ThreadsQueueContract) {
  auto b = OpenOk("driver=file,aio=threads,filename=" + path_);
  ASSERT_TRUE(b);
  EXPECT_NE(b->Describe().find("aio: threads"), std::string::npos);
  RunQueueContract(*b, "threads");
}

TEST_F(FileTest, IoUringReadPastEndOfFileGivesZeros) {
  if (!IoUringAvailable()) {
    GTEST_SKIP() << "io_uring is not usable on this kernel";
  }
  auto b = OpenOk("driver=file,filename=" + path_);
  ASSERT_TRUE(b);
  // The file shrinks under the device: reads past its end return zeros, as the sync path does.
  ASSERT_EQ(truncate(path_.c_str(), 4096), 0);
  auto q = b->CreateQueue(1);
  ASSERT_TRUE(q.ok());
  std::vector<uint8_t> back(8192, 0xff);
  IoRequest rd;
  rd.op = IoRequest::Op::kRead;
  rd.buf = back.data();
  rd.len = back.size();
  ASSERT_TRUE((*q)->Submit(&rd).ok());
  EXPECT_EQ(*(*q)->Reap(1), 1u);
  EXPECT_EQ(rd.error, 0);
  EXPECT_EQ(back, std::vector<uint8_t>(8192, 0));
  std::vector<uint8_t> sync(8192, 0xff);
  ASSERT_TRUE(b->Read(0, sync.data(), sync.size()).ok());
  EXPECT_EQ(sync, back);
}

// ---- the io_uring queue: batched submission, polling, threads ----

// Parameter: where the file lives. TMPDIR (/tmp) goes through the ring; on tmpfs (/dev/shm) the
// queue runs requests in Submit (see uring.cc): the contract is the same.
class UringQueueTest : public FileTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    FileTest::SetUp();
    if (!IoUringAvailable()) {
      GTEST_SKIP() << "io_uring is not usable on this kernel";
    }
    std::string file = path_;
    if (GetParam() == "shm") {
      if (shm_.path().empty()) {
        GTEST_SKIP() << "no writable /dev/shm";
      }
      file = shm_.File("disk.img");
      MakeFile(file, 4 << 20);
    }
    b_ = OpenOk("driver=file,aio=io_uring,filename=" + file);
    ASSERT_TRUE(b_);
  }
  std::unique_ptr<IoQueue> Queue(unsigned depth) {
    auto q = b_->CreateQueue(depth);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(*q) : nullptr;
  }
  // Block i of the pattern written by the queue tests.
  static std::vector<uint8_t> Block(unsigned i) { return Pattern(4096, static_cast<uint8_t>(i + 1)); }
  static void Prepare(IoRequest& r, IoRequest::Op op, unsigned block, void* buf, Completion* c) {
    r = IoRequest{};
    r.op = op;
    r.offset = uint64_t{block} * 4096;
    r.buf = buf;
    r.len = 4096;
    r.done = CountDone;
    r.user = c;
  }
  // Writes blocks [first, first + n) through `q` and reaps them all, in the calling thread.
  static void WriteBlocks(IoQueue& q, unsigned first, unsigned n) {
    std::vector<std::vector<uint8_t>> data;
    std::vector<IoRequest> reqs(n);
    Completion c;
    c.calls.assign(first + n, 0);
    for (unsigned i = 0; i < n; ++i) {
      data.push_back(Block(first + i));
    }
    unsigned reaped = 0;
    for (unsigned i = 0; i < n; ++i) {
      while (q.inflight() == q.depth()) {
        auto r = q.Reap(1);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        reaped += *r;
      }
      Prepare(reqs[i], IoRequest::Op::kWrite, first + i, data[i].data(), &c);
      ASSERT_TRUE(q.Submit(&reqs[i]).ok());
    }
    while (reaped < n) {
      auto r = q.Reap(1);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      reaped += *r;
    }
    for (unsigned i = 0; i < n; ++i) {
      EXPECT_EQ(c.calls[first + i], 1) << "block " << first + i;
      EXPECT_EQ(reqs[i].error, 0) << "block " << first + i;
    }
  }
  // N writes of blocks [0, n) submitted to `q` without reaping; the buffers live in the batch.
  struct Batch {
    std::vector<std::vector<uint8_t>> data;
    std::vector<IoRequest> reqs;
    Completion c;
  };
  static void SubmitWrites(IoQueue& q, Batch& b, unsigned n) {
    b.reqs.resize(n);
    b.c.calls.assign(n, 0);
    for (unsigned i = 0; i < n; ++i) {
      b.data.push_back(Block(i));
      Prepare(b.reqs[i], IoRequest::Op::kWrite, i, b.data[i].data(), &b.c);
      ASSERT_TRUE(q.Submit(&b.reqs[i]).ok());
    }
  }
  void ExpectBlocks(unsigned first, unsigned n) {
    std::vector<uint8_t> back(4096);
    for (unsigned i = first; i < first + n; ++i) {
      ASSERT_TRUE(b_->Read(uint64_t{i} * 4096, back.data(), back.size()).ok());
      EXPECT_EQ(back, Block(i)) << "block " << i;
    }
  }
  TempDir shm_{"/dev/shm"};
  std::unique_ptr<Backend> b_;
};

TEST_P(UringQueueTest, ReapWaitsForAtLeastMin) {
  auto q = Queue(16);
  ASSERT_TRUE(q);
  Batch batch;
  ASSERT_NO_FATAL_FAILURE(SubmitWrites(*q, batch, 16));
  auto& c = batch.c;
  EXPECT_EQ(q->inflight(), 16u);
  auto n = q->Reap(12);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_GE(*n, 12u);
  unsigned got = *n;
  while (got < 16) {
    got += *q->Reap(16 - got);
  }
  EXPECT_EQ(got, 16u);
  EXPECT_EQ(q->inflight(), 0u);
  EXPECT_EQ(c.calls, std::vector<int>(16, 1));
  ExpectBlocks(0, 16);
}

// Submit only queues; a caller that polls with Reap(0) must still see everything complete.
TEST_P(UringQueueTest, PollingWithReapZeroCompletesEverything) {
  auto q = Queue(8);
  ASSERT_TRUE(q);
  Batch batch;
  ASSERT_NO_FATAL_FAILURE(SubmitWrites(*q, batch, 8));
  auto& c = batch.c;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  unsigned got = 0;
  while (got < 8 && std::chrono::steady_clock::now() < deadline) {
    auto n = q->Reap(0);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    got += *n;
    if (got < 8) {
      std::this_thread::yield();
    }
  }
  ASSERT_EQ(got, 8u) << "Reap(0) never completed the queued requests";
  EXPECT_EQ(c.calls, std::vector<int>(8, 1));
  ExpectBlocks(0, 8);
}

// A completion callback submits the next request: a chain longer than the queue is deep.
TEST_P(UringQueueTest, CallbackMaySubmitTheNextRequest) {
  struct Chain {
    IoQueue* q = nullptr;
    std::vector<std::vector<uint8_t>> data;
    std::vector<IoRequest> reqs;
    unsigned next = 0, completed = 0;
    int failures = 0;
    void SubmitNext() {
      if (next == reqs.size()) {
        return;
      }
      IoRequest& r = reqs[next];
      r.op = IoRequest::Op::kWrite;
      r.offset = uint64_t{next} * 4096;
      r.buf = data[next].data();
      r.len = 4096;
      r.user = this;
      r.done = [](IoRequest* done) {
        auto* ch = static_cast<Chain*>(done->user);
        ch->completed++;
        ch->failures += done->error != 0;
        ch->SubmitNext();
      };
      ++next;
      failures += !q->Submit(&r).ok();
    }
  } chain;
  auto q = Queue(2);
  ASSERT_TRUE(q);
  chain.q = q.get();
  for (unsigned i = 0; i < 40; ++i) {
    chain.data.push_back(Block(i));
  }
  chain.reqs.resize(40);
  chain.SubmitNext();
  chain.SubmitNext();
  while (q->inflight() > 0) {
    auto n = q->Reap(1);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
  }
  EXPECT_EQ(chain.completed, 40u);
  EXPECT_EQ(chain.failures, 0);
  ExpectBlocks(0, 40);
}

// One queue belongs to one thread at a time, but may change hands.
TEST_P(UringQueueTest, IdleQueueMovesBetweenThreads) {
  auto q = Queue(4);  // created here, first used elsewhere
  ASSERT_TRUE(q);
  std::thread([&] { WriteBlocks(*q, 0, 16); }).join();
  WriteBlocks(*q, 16, 16);
  std::thread([&] { WriteBlocks(*q, 32, 16); }).join();
  ExpectBlocks(0, 48);
}

// Handing over a queue with requests in the kernel: the new thread reaps them.
TEST_P(UringQueueTest, BusyQueueHandedOverIsReapedByTheNewThread) {
  auto q = Queue(4);
  ASSERT_TRUE(q);
  Batch batch;
  ASSERT_NO_FATAL_FAILURE(SubmitWrites(*q, batch, 4));
  auto& c = batch.c;
  ASSERT_TRUE(q->Reap(0).ok());  // into the kernel
  unsigned got = 4 - q->inflight();
  std::thread([&] {
    while (got < 4) {
      auto n = q->Reap(1);
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      got += *n;
    }
  }).join();
  EXPECT_EQ(got, 4u);
  EXPECT_EQ(q->inflight(), 0u);
  EXPECT_EQ(c.calls, std::vector<int>(4, 1));
  ExpectBlocks(0, 4);
}

INSTANTIATE_TEST_SUITE_P(Dirs, UringQueueTest, ::testing::Values("tmpdir", "shm"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// ---- the zoned probe over a fake sysfs queue directory ----

class ProbeTest : public ::testing::Test {
 protected:
  void Attr(const std::string& name, const std::string& value) {
    std::ofstream(dir_.File(name)) << value << "\n";
  }
  void HostManaged() {
    Attr("zoned", "host-managed");
    Attr("chunk_sectors", "2048");  // 1 MiB
    Attr("nr_zones", "16");
    Attr("max_open_zones", "8");
    Attr("max_active_zones", "10");
    Attr("zone_append_max_bytes", "524288");
    Attr("physical_block_size", "4096");
  }
  ZonedGeometry Probe() { return ProbeZonedSysfs(dir_.path(), 16 << 20, 4096); }
  TempDir dir_;
};

TEST_F(ProbeTest, HostManagedGeometry) {
  HostManaged();
  ZonedGeometry g = Probe();
  EXPECT_EQ(g.model, ZoneModel::kHostManaged) << g.reason;
  EXPECT_EQ(g.zone_size, 1u << 20);
  EXPECT_EQ(g.nr_zones, 16u);
  EXPECT_EQ(g.max_open_zones, 8u);
  EXPECT_EQ(g.max_active_zones, 10u);
  EXPECT_EQ(g.max_append_bytes, 512u << 10);
  EXPECT_EQ(g.physical_block_size, 4096u);
  EXPECT_TRUE(g.reason.empty());
}

TEST_F(ProbeTest, HostAwareAndOptionalAttributes) {
  HostManaged();
  Attr("zoned", "host-aware");
  std::remove(dir_.File("max_open_zones").c_str());
  std::remove(dir_.File("max_active_zones").c_str());
  std::remove(dir_.File("zone_append_max_bytes").c_str());
  Attr("max_hw_sectors_kb", "256");
  ZonedGeometry g = Probe();
  EXPECT_EQ(g.model, ZoneModel::kHostAware) << g.reason;
  EXPECT_EQ(g.max_open_zones, 0u);
  EXPECT_EQ(g.max_active_zones, 0u);
  EXPECT_EQ(g.max_append_bytes, 256u << 10);
}

TEST_F(ProbeTest, AnyFailureMeansNoneWithAReason) {
  struct Case {
    const char* attr;
    const char* value;  // nullptr: remove the attribute
    const char* reason;
  };
  const Case cases[] = {
      {"zoned", "none", "not zoned"},
      {"zoned", nullptr, "zoned"},
      {"zoned", "drive-managed", "drive-managed"},
      {"chunk_sectors", "0", "zone size"},
      {"chunk_sectors", nullptr, "chunk_sectors"},
      {"chunk_sectors", "7", "zone size"},  // not a multiple of the 4096-byte block
      {"nr_zones", "15", "nr_zones"},
      {"nr_zones", "many", "nr_zones"},
      {"max_open_zones", "12", "max_open_zones"},
  };
  for (const Case& c : cases) {
    HostManaged();
    if (c.value) {
      Attr(c.attr, c.value);
    } else {
      std::remove(dir_.File(c.attr).c_str());
    }
    ZonedGeometry g = Probe();
    EXPECT_EQ(g.model, ZoneModel::kNone) << c.attr;
    EXPECT_EQ(g.zone_size, 0u) << c.attr;
    EXPECT_NE(g.reason.find(c.reason), std::string::npos) << c.attr << ": " << g.reason;
  }
}

// ---- a real kernel block device ----

class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = std::make_unique<LoopDevice>(dir_.File("backing.img"), 8 << 20);
    if (loop_->path().empty()) {
      GTEST_SKIP() << loop_->reason();
    }
  }
  TempDir dir_;
  std::unique_ptr<LoopDevice> loop_;
};

TEST_F(LoopTest, HostDeviceIsNoneAndAnswersZoneCommandsWithEnotsup) {
  auto b = OpenOk("driver=host_device,filename=" + loop_->path());
  ASSERT_TRUE(b);
  EXPECT_EQ(b->model(), ZoneModel::kNone);
  EXPECT_EQ(b->size(), 8u << 20);
  const std::string info = b->Describe();
  EXPECT_NE(info.find("block device"), std::string::npos) << info;
  EXPECT_NE(info.find("not zoned (queue/zoned is none)"), std::string::npos) << info;
  EXPECT_EQ(b->ReportZones(0, 1).status().code(), ENOTSUP);
  EXPECT_EQ(b->ZoneResetAll().code(), ENOTSUP);
  auto d = Pattern(1 << 20, 7);
  ASSERT_TRUE(b->Write(1 << 20, d.data(), d.size()).ok());
  ASSERT_TRUE(b->Flush().ok());
  std::vector<uint8_t> back(d.size());
  ASSERT_TRUE(b->Read(1 << 20, back.data(), back.size()).ok());
  EXPECT_EQ(back, d);
  if (IoUringAvailable()) {
    RunQueueContract(*b, "host_device io_uring");
  }
}

TEST_F(LoopTest, FileDriverRefusesABlockDevice) {
  auto b = Backend::Open("driver=file,filename=" + loop_->path());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), EINVAL);
  EXPECT_NE(b.status().message().find("use driver=host_device"), std::string::npos)
      << b.status().ToString();
}

TEST_F(LoopTest, DirectIoOnTheDevice) {
  auto b = OpenOk("driver=host_device,cache.direct=on,filename=" + loop_->path());
  ASSERT_TRUE(b);
  void* mem = nullptr;
  ASSERT_EQ(posix_memalign(&mem, 4096, 8192), 0);
  std::unique_ptr<uint8_t, decltype(&free)> buf(static_cast<uint8_t*>(mem), free);
  std::memset(buf.get(), 0x5a, 8192);
  ASSERT_TRUE(b->Write(0, buf.get(), 8192).ok());
  std::memset(buf.get(), 0, 8192);
  ASSERT_TRUE(b->Read(0, buf.get(), 8192).ok());
  EXPECT_EQ(buf.get()[8191], 0x5a);
}

}  // namespace
}  // namespace zbl::file

// ---- option echo, and a real zoned kernel device ----

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "file_node.h"

namespace zbl::file {
namespace {

TEST_F(FileTest, OptionStringRoundTripsEveryOption) {
  auto b = OpenOk("driver=file,cache.direct=on,aio=threads,read-only=on,filename=" + path_);
  ASSERT_TRUE(b);
  const std::string& s = b->option_string();
  for (const char* kv : {"cache.direct=on", "aio=threads", "read-only=on", "driver=file"}) {
    EXPECT_NE(s.find(kv), std::string::npos) << kv << " missing from " << s;
  }
  auto again = OpenOk(s);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->option_string(), s);
  EXPECT_EQ(again->Describe(), b->Describe());
}

// A zoned block device to test against, destroyed freely: ZBL_TEST_ZONED_DEVICE=/dev/X (in the
// ci/vm guest, a kernel null_blk or NVMe ZNS namespace). Skipped without it.
class ZonedDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dev = std::getenv("ZBL_TEST_ZONED_DEVICE");
    if (dev == nullptr || *dev == '\0') {
      GTEST_SKIP() << "set ZBL_TEST_ZONED_DEVICE=/dev/X (a zoned block device it may destroy)";
    }
    path_ = dev;
  }
  // The first empty sequential zone (resetting the device if there is none).
  std::optional<Zone> EmptySequentialZone(Backend& b) {
    for (int pass = 0; pass < 2; ++pass) {
      auto zones = b.ReportZones(0, 0u);
      if (!zones.ok()) return std::nullopt;
      for (const Zone& z : *zones) {
        if (z.type != ZoneType::kConventional && z.condition == ZoneCondition::kEmpty) return z;
      }
      if (!b.ZoneResetAll().ok()) return std::nullopt;
    }
    return std::nullopt;
  }
  std::string path_;
};

TEST_F(ZonedDeviceTest, BufferedOptionStillOpensWithODirect) {
  auto b = OpenOk("driver=host_device,filename=" + path_);
  ASSERT_TRUE(b);
  ASSERT_NE(b->model(), ZoneModel::kNone) << path_ << " is not zoned";
  auto* node = dynamic_cast<FileNode*>(&b->root());
  ASSERT_NE(node, nullptr);
  EXPECT_NE(fcntl(node->fd(), F_GETFL) & O_DIRECT, 0);
  EXPECT_NE(b->Describe().find("O_DIRECT"), std::string::npos) << b->Describe();
}

// Through the page cache the write would only reach the zone at writeback; with O_DIRECT the
// zone's write pointer has moved when Write() returns, and a write off the write pointer fails
// at once instead of at some later fsync.
TEST_F(ZonedDeviceTest, WritesReachTheZoneBeforeTheyReturn) {
  auto b = OpenOk("driver=host_device,filename=" + path_);
  ASSERT_TRUE(b);
  auto z = EmptySequentialZone(*b);
  ASSERT_TRUE(z) << "no empty sequential zone on " << path_;
  const uint32_t blk = b->limits().logical_block_size;
  auto data = Pattern(2 * blk, 3);
  ASSERT_TRUE(b->Write(z->start, data.data(), data.size()).ok());
  auto after = b->ReportZones(z->start, 1u);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)[0].write_pointer, z->start + 2 * blk);
  EXPECT_EQ(b->Write(z->start, data.data(), blk).code(), EIO);
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(b->Read(z->start, back.data(), back.size()).ok());
  EXPECT_EQ(back, data);
  EXPECT_TRUE(b->ZoneMgmt(ZoneOp::kReset, z->start, z->length).ok());
}

// After a failed write the append emulation's write-pointer cache is reloaded from the device,
// as QEMU's update_zones_wp() does: whatever part of the write the kernel completed before it
// failed, the next append lands at the device's write pointer.
TEST_F(ZonedDeviceTest, AppendAfterAFailedWriteLandsAtTheDevicesWritePointer) {
  auto b = OpenOk("driver=host_device,cache.direct=on,filename=" + path_);
  ASSERT_TRUE(b);
  auto z = EmptySequentialZone(*b);
  ASSERT_TRUE(z) << "no empty sequential zone on " << path_;
  const uint32_t blk = b->limits().logical_block_size;
  // Past the zone's capacity (and, when capacity == size, into the next zone, finished first so
  // that the write cannot be a valid one spanning two zones): it must fail.
  const size_t len = z->capacity - 4 * blk + 8 * blk;
  const uint64_t next = z->start + z->length;
  const bool finish_next = z->capacity == z->length && next < b->limits().size;
  if (finish_next) {
    ASSERT_TRUE(b->ZoneMgmt(ZoneOp::kFinish, next, z->length).ok());
  }
  auto data = Pattern(len, 5);
  ASSERT_TRUE(b->Write(z->start, data.data(), 4 * blk).ok());
  EXPECT_FALSE(b->Write(z->start + 4 * blk, data.data(), len).ok());
  auto now = b->ReportZones(z->start, 1u);
  ASSERT_TRUE(now.ok());
  const Zone& d = (*now)[0];
  auto r = b->ZoneAppend(z->start, data.data(), blk);
  if (d.write_pointer + blk <= z->start + z->capacity && d.condition != ZoneCondition::kFull) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, d.write_pointer);
  } else {
    EXPECT_EQ(r.status().code(), EIO);
  }
  EXPECT_TRUE(b->ZoneMgmt(ZoneOp::kReset, z->start, z->length).ok());
  if (finish_next) {
    EXPECT_TRUE(b->ZoneMgmt(ZoneOp::kReset, next, z->length).ok());
  }
}

// QEMU refuses zone management starting in a conventional zone with EIO; zbl's host_device
// does the same, so a SCSI disk (whose kernel answer is EREMOTEIO) reads like the others.
TEST_F(ZonedDeviceTest, ConventionalZoneManagementIsEioAndChangesNothing) {
  auto b = OpenOk("driver=host_device,cache.direct=on,filename=" + path_);
  ASSERT_TRUE(b);
  auto zones = b->ReportZones(0, 0u);
  ASSERT_TRUE(zones.ok());
  auto conv = std::find_if(zones->begin(), zones->end(),
                           [](const Zone& z) { return z.type == ZoneType::kConventional; });
  if (conv == zones->end()) GTEST_SKIP() << path_ << " has no conventional zone";
  for (ZoneOp op : {ZoneOp::kOpen, ZoneOp::kClose, ZoneOp::kFinish, ZoneOp::kReset}) {
    Status st = b->ZoneMgmt(op, conv->start, conv->length);
    EXPECT_EQ(st.code(), EIO) << ToString(op) << ": " << st.ToString();
  }
  auto again = b->ReportZones(conv->start, 1u);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].condition, conv->condition);
}

// A conventional zone's write pointer is what the kernel reports when it lies in the zone
// (null_blk: the zone's end), else none: SCSI's all-ones, printed by qemu-io as
// 0xffffffffffffffff.
TEST_F(ZonedDeviceTest, ConventionalWritePointerIsInTheZoneOrNone) {
  auto b = OpenOk("driver=host_device,filename=" + path_);
  ASSERT_TRUE(b);
  auto zones = b->ReportZones(0, 0u);
  ASSERT_TRUE(zones.ok());
  for (const Zone& z : *zones) {
    if (z.type != ZoneType::kConventional) continue;
    const bool in_zone = z.write_pointer >= z.start && z.write_pointer <= z.start + z.length;
    EXPECT_TRUE(in_zone || z.write_pointer == kInvalidWritePointer)
        << "zone at " << z.start << ": write pointer " << z.write_pointer;
  }
}

}  // namespace
}  // namespace zbl::file
