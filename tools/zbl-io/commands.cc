// The commands of zbl-io. Output formats follow qemu-io's (QEMU 10 qemu-io-cmds.c) byte for
// byte; see README.md for the few places where zbl-io differs.
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "command_line.h"
#include "command_getopt.h"
#include "image.h"
#include "numbers.h"
#include "padded_io.h"
#include "shell.h"
#include "zbl/driver.h"
#include "zbl/options.h"

namespace zbl::io {
namespace {

using Args = std::span<const std::string>;
using Clock = std::chrono::steady_clock;

// An I/O buffer aligned like qemu-io's (blk_blockalign): devices opened with O_DIRECT
// (cache.direct=on, -n) refuse buffers that are not aligned to their block size.
class IoBuffer {
 public:
  static constexpr size_t kAlign = 4096;
  IoBuffer(size_t len, uint8_t fill)
      : len_(len),
        p_(static_cast<uint8_t*>(std::aligned_alloc(kAlign, (len / kAlign + 1) * kAlign))) {
    if (!p_) {
      throw std::bad_alloc();  // caught in main(), like any allocation failure
    }
    std::memset(p_.get(), fill, len);
  }
  uint8_t* data() { return p_.get(); }
  const uint8_t* data() const { return p_.get(); }
  size_t size() const { return len_; }
  uint8_t& operator[](size_t i) { return p_.get()[i]; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  size_t len_;
  std::unique_ptr<uint8_t, Free> p_;
};

// QEMU's BDRV_REQUEST_MAX_BYTES: the largest request its block layer accepts.
constexpr int64_t kMaxRequestBytes = int64_t{INT_MAX >> 9} << 9;

const CommandSpec& Spec(std::string_view name) { return *FindCommand(name); }

// qemu-io prints sectors from byte values through a signed shift, so an all-ones write pointer
// (read-only and offline zones) prints as 0xffffffffffffffff.
std::string Sectors(uint64_t bytes) {
  return fmt::format("0x{:x}", static_cast<uint64_t>(static_cast<int64_t>(bytes) >> 9));
}

// Parses a number argument; on failure prints qemu-io's message and returns the -errno.
bool Number(Shell& sh, const std::string& text, int64_t& value) {
  value = Cvtnum(text);
  if (value >= 0) {
    return true;
  }
  sh.out() << CvtnumError(value, text) << "\n";
  return false;
}

int Failed(Shell& sh, std::string_view what, const Status& st) {
  sh.ReportDetail(st);
  sh.out() << what << " failed: " << st.ErrnoText() << "\n";
  return -st.code();
}

// A request outside the device: refused by QEMU's block layer (which zbl-io stands in for)
// before any driver sees it, so only qemu-io's verdict prints.
int OutOfRange(Shell& sh, std::string_view what, const Status& st) {
  sh.out() << what << " failed: " << st.ErrnoText() << "\n";
  return -st.code();
}

// getopt's complaint (if any) on stderr, then the command's usage line, as qemu-io does.
int UsageError(Shell& sh, std::string_view cmd, const OptionEvent* ev) {
  if (ev != nullptr) {
    sh.err() << GetoptMessage(*ev, cmd) << "\n";
  }
  sh.PrintUsage(Spec(cmd));
  return -EINVAL;
}

void DumpBuffer(std::ostream& out, const uint8_t* p, int64_t offset, int64_t len) {
  for (int64_t i = 0; i < len; i += 16) {
    out << fmt::format("{:08x}:  ", static_cast<uint64_t>(offset + i));
    int64_t n = std::min<int64_t>(16, len - i);
    for (int64_t j = 0; j < n; ++j) {
      out << fmt::format("{:02x} ", p[i + j]);
    }
    out << " ";
    for (int64_t j = 0; j < n; ++j) {
      out << (std::isalnum(p[i + j]) ? static_cast<char>(p[i + j]) : '.');
    }
    out << "\n";
  }
}

double PerSecond(double value, Clock::duration d) {
  double secs = std::chrono::duration<double>(d).count();
  return value / secs;
}

void PrintReport(std::ostream& out, std::string_view op, Clock::duration t, int64_t offset,
                 int64_t count, int64_t total, bool cflag) {
  const int cnt = 1;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t);
  if (cflag) {
    out << fmt::format("{},{},{},{:.3f},{:.3f}\n", total, cnt, Timestr(ns, true),
                       PerSecond(static_cast<double>(total), t), PerSecond(cnt, t));
    return;
  }
  out << fmt::format("{} {}/{} bytes at offset {}\n", op, total, count, offset);
  out << fmt::format("{}, {} ops; {} ({}/sec and {:.4f} ops/sec)\n",
                     Cvtstr(static_cast<double>(total)), cnt, Timestr(ns, false),
                     Cvtstr(PerSecond(static_cast<double>(total), t)), PerSecond(cnt, t));
}

// qemu-io's check of -b/-c requests, which address 512-byte sectors.
int CheckSectorAligned(Shell& sh, int64_t offset, int64_t count) {
  if (offset % 512 != 0) {
    sh.out() << offset << " is not a sector-aligned value for 'offset'\n";
    return -EINVAL;
  }
  if (count % 512 != 0) {
    sh.out() << count << " is not a sector-aligned value for 'count'\n";
    return -EINVAL;
  }
  return 0;
}

// ---- read ---------------------------------------------------------------------------------

struct ReadFlags {
  bool C = false, q = false, v = false, P = false, s = false, l = false, b = false, r = false;
  int pattern = 0;
  int64_t pattern_offset = 0, pattern_count = 0;
};

// Applies read's options; returns 0 or the command's error.
int ReadOptions(Shell& sh, const std::string& cmd, const GetoptResult& g, ReadFlags& f) {
  for (const OptionEvent& ev : g.options) {
    if (ev.kind != OptionEvent::Kind::kOption) {
      return UsageError(sh, cmd, &ev);
    }
    switch (ev.opt) {
      case 'b':
        f.b = true;
        break;
      case 'C':
        f.C = true;
        break;
      case 'q':
        f.q = true;
        break;
      case 'r':
        f.r = true;
        break;  // registered buffers mean nothing here: accepted, no effect
      case 'v':
        f.v = true;
        break;
      case 'p':
        break;  // ignored, as in qemu-io
      case 'P':
        f.P = true;
        f.pattern = ParsePattern(ev.arg);
        if (f.pattern < 0) {
          sh.out() << ev.arg << " is not a valid pattern byte\n";
          return -EINVAL;
        }
        break;
      case 's':
        f.s = true;
        if (!Number(sh, ev.arg, f.pattern_offset)) {
          return static_cast<int>(f.pattern_offset);
        }
        break;
      case 'l':
        f.l = true;
        if (!Number(sh, ev.arg, f.pattern_count)) {
          return static_cast<int>(f.pattern_count);
        }
        break;
    }
  }
  return 0;
}

int ReadCmd(Shell& sh, Args argv) {
  GetoptResult g = Getopt(argv, "bCl:pP:qrs:v");
  ReadFlags f;
  if (int r = ReadOptions(sh, argv[0], g, f); r != 0) {
    return r;
  }
  if (g.operands.size() != 2) {
    return UsageError(sh, argv[0], nullptr);
  }
  int64_t offset = 0, count = 0;
  if (!Number(sh, g.operands[0], offset)) {
    return static_cast<int>(offset);
  }
  if (!Number(sh, g.operands[1], count)) {
    return static_cast<int>(count);
  }
  if (count > kMaxRequestBytes) {
    sh.out() << "length cannot exceed " << kMaxRequestBytes << ", given " << g.operands[1] << "\n";
    return -EINVAL;
  }
  if (!f.P && (f.l || f.s)) {
    return UsageError(sh, argv[0], nullptr);
  }
  if (!f.l) {
    f.pattern_count = count - f.pattern_offset;
  }
  if (f.pattern_count < 0 || f.pattern_count + f.pattern_offset > count) {
    sh.out() << "pattern verification range exceeds end of read data\n";
    return -EINVAL;
  }
  if (f.b) {
    if (int r = CheckSectorAligned(sh, offset, count); r != 0) {
      return r;
    }
    if (f.r) {
      sh.out() << "I/O buffer registration is not supported when reading from vmstate\n";
      return -EINVAL;
    }
    return Failed(sh, "read", Error(ENOTSUP, "VM state (-b) is not supported by zbl devices"));
  }
  Backend& dev = *sh.device();
  // Checked before the buffer exists so that a huge bad request allocates nothing.
  if (Status st = CheckPaddedIo(dev, offset, count, "read"); !st.ok()) {
    return OutOfRange(sh, "read", st);
  }
  IoBuffer buf(static_cast<size_t>(count), 0xab);
  auto t1 = Clock::now();
  Status st = PaddedRead(dev, offset, buf.data(), buf.size());
  auto t2 = Clock::now();
  if (!st.ok()) {
    return Failed(sh, "read", st);
  }
  int ret = 0;
  if (f.P) {
    const uint8_t* p = buf.data() + f.pattern_offset;
    for (int64_t i = 0; i < f.pattern_count; ++i) {
      if (p[i] != f.pattern) {
        sh.out() << "Pattern verification failed at offset " << offset + f.pattern_offset << ", "
                 << f.pattern_count << " bytes\n";
        ret = -EINVAL;
        break;
      }
    }
  }
  if (f.q) {
    return ret;
  }
  if (f.v) {
    DumpBuffer(sh.out(), buf.data(), offset, count);
  }
  PrintReport(sh.out(), "read", t2 - t1, offset, count, count, f.C);
  return ret;
}

// ---- write --------------------------------------------------------------------------------

struct WriteFlags {
  bool C = false, q = false, P = false, z = false, s = false, fua = false, n = false, u = false;
  bool r = false, b = false, c = false;
  int pattern = 0xcd;
  std::string source;
};

int WriteOptions(Shell& sh, const std::string& cmd, const GetoptResult& g, WriteFlags& f) {
  for (const OptionEvent& ev : g.options) {
    if (ev.kind != OptionEvent::Kind::kOption) {
      return UsageError(sh, cmd, &ev);
    }
    switch (ev.opt) {
      case 'b':
        f.b = true;
        break;
      case 'c':
        f.c = true;
        break;
      case 'C':
        f.C = true;
        break;
      case 'f':
        f.fua = true;
        break;
      case 'n':
        f.n = true;
        break;
      case 'p':
        break;
      case 'q':
        f.q = true;
        break;
      case 'r':
        f.r = true;
        break;
      case 'u':
        f.u = true;
        break;
      case 'z':
        f.z = true;
        break;
      case 's':
        f.s = true;
        f.source = ev.arg;
        break;
      case 'P':
        f.P = true;
        f.pattern = ParsePattern(ev.arg);
        if (f.pattern < 0) {
          sh.out() << ev.arg << " is not a valid pattern byte\n";
          return -EINVAL;
        }
        break;
    }
  }
  return 0;
}

// qemu-io's checks of write's flag combinations, in its order.
int CheckWriteFlags(Shell& sh, const WriteFlags& f) {
  const char* why = nullptr;
  if (f.b && f.z) {
    why = "-b and -z cannot be specified at the same time";
  } else if (f.fua && (f.b || f.c)) {
    why = "-f and -b or -c cannot be specified at the same time";
  } else if (f.n && !f.z) {
    why = "-n requires -z to be specified";
  } else if (f.u && !f.z) {
    why = "-u requires -z to be specified";
  } else if (int(f.z) + int(f.P) + int(f.s) > 1) {
    why = "Only one of -z, -P, and -s can be specified at the same time";
  }
  if (why == nullptr) {
    return 0;
  }
  sh.out() << why << "\n";
  return -EINVAL;
}

// Fills `buf` with the contents of `path`, repeated (write -s).
bool FillFromFile(Shell& sh, const std::string& path, IoBuffer& buf) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    sh.err() << path << ": " << std::strerror(errno) << "\n";
    return false;
  }
  in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
  size_t got = static_cast<size_t>(in.gcount());
  // qemu-io reads the source before it looks at the length and refuses a read of nothing: an
  // empty file, and any file for a zero-length write.
  if (got == 0) {
    sh.err() << path << ": file is empty\n";
    return false;
  }
  for (size_t i = got; i < buf.size(); ++i) {
    buf[i] = buf[i - got];
  }
  return true;
}

int WriteCmd(Shell& sh, Args argv) {
  GetoptResult g = Getopt(argv, "bcCfnpP:qrs:uz");
  WriteFlags f;
  if (int r = WriteOptions(sh, argv[0], g, f); r != 0) {
    return r;
  }
  if (g.operands.size() != 2) {
    return UsageError(sh, argv[0], nullptr);
  }
  if (int r = CheckWriteFlags(sh, f); r != 0) {
    return r;
  }
  int64_t offset = 0, count = 0;
  if (!Number(sh, g.operands[0], offset)) {
    return static_cast<int>(offset);
  }
  if (!Number(sh, g.operands[1], count)) {
    return static_cast<int>(count);
  }
  if (count > kMaxRequestBytes && !f.n) {
    sh.out() << "length cannot exceed " << kMaxRequestBytes << " without -n, given "
             << g.operands[1] << "\n";
    return -EINVAL;
  }
  if (f.b || f.c) {
    if (int r = CheckSectorAligned(sh, offset, count); r != 0) {
      return r;
    }
  }
  if (f.z && f.r) {
    sh.out() << "cannot combine zero write with registered I/O buffer\n";
    return -EINVAL;
  }
  Backend& dev = *sh.device();
  // A compressed write is range-checked by QEMU's block layer first; a VM state write is not.
  if (!f.b) {
    if (Status st = CheckPaddedIo(dev, offset, count, "write"); !st.ok()) {
      return OutOfRange(sh, "write", st);
    }
  }
  // With -z, qemu-io writes zeroes and never looks at -c.
  if (f.b || (f.c && !f.z)) {
    return Failed(sh, "write",
                  Error(ENOTSUP, "{} is not supported by zbl devices",
                        f.b ? "VM state (-b)" : "compressed writing (-c)"));
  }
  // -z -n (BDRV_REQ_NO_FALLBACK): padding an unaligned range is a fallback QEMU then refuses.
  if (f.z && f.n) {
    const uint64_t align = sh.QemuAlignment();
    if (align > 1 && (static_cast<uint64_t>(offset) % align != 0 ||
                      static_cast<uint64_t>(count) % align != 0)) {
      return Failed(sh, "write", Error(ENOTSUP, "write -z -n of an unaligned range needs padding, "
                                                "a fallback -n forbids"));
    }
  }
  IoBuffer buf(static_cast<size_t>(count), f.z ? 0 : static_cast<uint8_t>(f.pattern));
  if (f.s && !FillFromFile(sh, f.source, buf)) {
    return -EINVAL;
  }
  auto t1 = Clock::now();
  Status st = PaddedWrite(dev, offset, buf.data(), buf.size());
  // Force Unit Access: the backend has no FUA flag, so a flush makes the data durable.
  if (st.ok() && f.fua) {
    st = dev.Flush();
  }
  auto t2 = Clock::now();
  if (!st.ok()) {
    return Failed(sh, "write", st);
  }
  if (f.q) {
    return 0;
  }
  PrintReport(sh.out(), "wrote", t2 - t1, offset, count, count, f.C);
  return 0;
}

// ---- zone commands ------------------------------------------------------------------------

int ZoneReportCmd(Shell& sh, Args argv) {
  int64_t offset = 0, val = 0;
  if (!Number(sh, argv[1], offset)) {
    return static_cast<int>(offset);
  }
  if (!Number(sh, argv[2], val)) {
    return static_cast<int>(val);
  }
  if (val > UINT_MAX) {
    sh.out() << "Number of zones must be less than 2^32\n";
    return -ERANGE;
  }
  Backend& dev = *sh.device();
  std::vector<Zone> zones;
  if (val == 0) {
    // Nothing to report, but a non-zoned device still refuses the command.
    auto none = dev.ReportZones(static_cast<uint64_t>(offset), std::span<Zone>());
    if (!none.ok()) {
      return Failed(sh, "zone report", none.status());
    }
  } else {
    auto r = dev.ReportZones(static_cast<uint64_t>(offset), static_cast<uint32_t>(val));
    if (!r.ok()) {
      return Failed(sh, "zone report", r.status());
    }
    zones = std::move(*r);
  }
  for (const Zone& z : zones) {
    sh.out() << "start: " << Sectors(z.start) << ", len " << Sectors(z.length) << ", cap "
             << Sectors(z.capacity) << ", wptr " << Sectors(z.write_pointer)
             << ", zcond:" << static_cast<unsigned>(z.condition)
             << ", [type: " << static_cast<unsigned>(z.type) << "]\n";
  }
  return 0;
}

int ZoneMgmtCmd(Shell& sh, Args argv, ZoneOp op) {
  int64_t offset = 0, len = 0;
  if (!Number(sh, argv[1], offset)) {
    return static_cast<int>(offset);
  }
  if (!Number(sh, argv[2], len)) {
    return static_cast<int>(len);
  }
  // QEMU's block layer checks the range before the driver sees the request (EIO).
  if (Status st = CheckPaddedIo(*sh.device(), static_cast<uint64_t>(offset),
                                static_cast<size_t>(len), "zone management");
      !st.ok()) {
    return OutOfRange(sh, fmt::format("zone {}", ToString(op)), st);
  }
  Status st = sh.device()->ZoneMgmt(op, static_cast<uint64_t>(offset), static_cast<uint64_t>(len));
  if (!st.ok()) {
    return Failed(sh, fmt::format("zone {}", ToString(op)), st);
  }
  return 0;
}

int ZoneOpenCmd(Shell& sh, Args argv) { return ZoneMgmtCmd(sh, argv, ZoneOp::kOpen); }
int ZoneCloseCmd(Shell& sh, Args argv) { return ZoneMgmtCmd(sh, argv, ZoneOp::kClose); }
int ZoneFinishCmd(Shell& sh, Args argv) { return ZoneMgmtCmd(sh, argv, ZoneOp::kFinish); }
int ZoneResetCmd(Shell& sh, Args argv) { return ZoneMgmtCmd(sh, argv, ZoneOp::kReset); }

// qemu-io's zone_append calls getopt once: the first option-looking argument anywhere is the
// option, and the operands start after it. Unlike qemu-io, which prints getopt's complaint
// and appends anyway, an option other than -p is a usage error here (bad input changes
// nothing). Returns false after printing the error.
bool ZapOperands(Shell& sh, Args argv, bool& pflag, std::vector<std::string>& ops) {
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      ops.assign(argv.begin() + 1, argv.end());
      ops.erase(ops.begin() + static_cast<ptrdiff_t>(i) - 1);
      return true;
    }
    if (a.size() < 2 || a[0] != '-') {
      continue;
    }
    if (a[1] != 'p') {
      OptionEvent ev{OptionEvent::Kind::kInvalid, a[1], {}};
      UsageError(sh, argv[0], &ev);
      return false;
    }
    pflag = true;
    // A longer cluster ("-pq") leaves getopt inside it, so it is read as the offset.
    size_t first = a.size() == 2 ? i + 1 : i;
    ops.assign(argv.begin() + static_cast<ptrdiff_t>(first), argv.end());
    return true;
  }
  ops.assign(argv.begin() + 1, argv.end());
  return true;
}

// Adds up the length arguments with qemu-io's create_iovec checks.
bool AppendLength(Shell& sh, std::span<const std::string> lens, int64_t& total) {
  total = 0;
  for (const std::string& arg : lens) {
    int64_t len = 0;
    if (!Number(sh, arg, len)) {
      return false;
    }
    if (len > kMaxRequestBytes) {
      sh.out() << "Argument '" << arg << "' exceeds maximum size " << kMaxRequestBytes << "\n";
      return false;
    }
    if (total > kMaxRequestBytes - len) {
      sh.out() << "The total number of bytes exceed the maximum size " << kMaxRequestBytes << "\n";
      return false;
    }
    total += len;
  }
  return true;
}

int ZoneAppendCmd(Shell& sh, Args argv) {
  bool pflag = false;
  std::vector<std::string> ops;
  if (!ZapOperands(sh, argv, pflag, ops)) {
    return -EINVAL;
  }
  // Past the end of argv qemu-io parses a null pointer, which glibc prints as "(null)".
  const std::string offset_text = ops.empty() ? "(null)" : ops[0];
  int64_t offset = 0;
  if (!Number(sh, offset_text, offset)) {
    return static_cast<int>(offset);
  }
  std::span<const std::string> lens(ops);
  lens = lens.subspan(std::min<size_t>(1, lens.size()));
  int64_t total = 0;
  if (!AppendLength(sh, lens, total)) {
    return -EINVAL;
  }
  Backend& dev = *sh.device();
  // Validated before the buffer exists so that a bad request allocates nothing.
  if (Status st = dev.CheckAppend(static_cast<uint64_t>(offset), static_cast<size_t>(total));
      !st.ok()) {
    return Failed(sh, "zone append", st);
  }
  IoBuffer buf(static_cast<size_t>(total), 0xcd);
  auto r = dev.ZoneAppend(static_cast<uint64_t>(offset), buf.data(), buf.size());
  if (!r.ok()) {
    return Failed(sh, "zone append", r.status());
  }
  if (pflag) {
    sh.out() << "After zap done, the append sector is " << Sectors(*r) << "\n";
  }
  return 0;
}

// ---- readv, writev ------------------------------------------------------------------------

// The lengths of readv/writev/aio_*: added up with qemu-io's create_iovec checks.
bool IovecLength(Shell& sh, std::span<const std::string> lens, int64_t& total) {
  return AppendLength(sh, lens, total);
}

bool VerifyPattern(Shell& sh, const uint8_t* p, int64_t offset, int64_t count, int pattern) {
  for (int64_t i = 0; i < count; ++i) {
    if (p[i] != pattern) {
      sh.out() << "Pattern verification failed at offset " << offset << ", " << count
               << " bytes\n";
      return false;
    }
  }
  return true;
}

struct VecFlags {
  bool C = false, q = false, v = false, P = false, fua = false, r = false;
  int pattern = 0;
};

// The options readv, writev and aio_* share; `extra` handles the command's own ('i', 'z', ...).
// Returns 0, or the command's error (its complaint and usage already printed).
template <typename Extra>
int VecOptions(Shell& sh, const std::string& cmd, const GetoptResult& g, VecFlags& f,
               Extra&& extra) {
  for (const OptionEvent& ev : g.options) {
    if (ev.kind != OptionEvent::Kind::kOption) {
      return UsageError(sh, cmd, &ev);
    }
    switch (ev.opt) {
      case 'C':
        f.C = true;
        break;
      case 'q':
        f.q = true;
        break;
      case 'v':
        f.v = true;
        break;
      case 'f':
        f.fua = true;
        break;
      case 'r':
        f.r = true;  // registered buffers: accepted, no effect
        break;
      case 'P':
        f.P = true;
        f.pattern = ParsePattern(ev.arg);
        if (f.pattern < 0) {
          sh.out() << ev.arg << " is not a valid pattern byte\n";
          return -EINVAL;
        }
        break;
      default:
        if (int r = extra(ev.opt); r != 0) {
          return r;
        }
    }
  }
  return 0;
}

// Parses "off len [len..]" after the options; false after printing the error.
bool VecOperands(Shell& sh, const std::vector<std::string>& ops, int64_t& offset, int64_t& total,
                 int& err) {
  offset = Cvtnum(ops[0]);
  if (offset < 0) {
    sh.out() << CvtnumError(offset, ops[0]) << "\n";
    err = static_cast<int>(offset);
    return false;
  }
  if (!IovecLength(sh, std::span<const std::string>(ops).subspan(1), total)) {
    err = -EINVAL;
    return false;
  }
  return true;
}

int ReadvCmd(Shell& sh, Args argv) {
  GetoptResult g = Getopt(argv, "CP:qrv");
  VecFlags f;
  if (int r = VecOptions(sh, argv[0], g, f, [](char) { return 0; }); r != 0) {
    return r;
  }
  if (g.operands.size() < 2) {
    return UsageError(sh, argv[0], nullptr);
  }
  int64_t offset = 0, count = 0;
  int err = 0;
  if (!VecOperands(sh, g.operands, offset, count, err)) {
    return err;
  }
  Backend& dev = *sh.device();
  if (Status st = CheckPaddedIo(dev, offset, count, "read"); !st.ok()) {
    return OutOfRange(sh, "readv", st);
  }
  IoBuffer buf(static_cast<size_t>(count), 0xab);
  auto t1 = Clock::now();
  Status st = PaddedRead(dev, offset, buf.data(), buf.size());
  auto t2 = Clock::now();
  if (!st.ok()) {
    return Failed(sh, "readv", st);
  }
  int ret = 0;
  if (f.P && !VerifyPattern(sh, buf.data(), offset, count, f.pattern)) {
    ret = -EINVAL;
  }
  if (f.q) {
    return ret;
  }
  if (f.v) {
    DumpBuffer(sh.out(), buf.data(), offset, count);
  }
  PrintReport(sh.out(), "read", t2 - t1, offset, count, count, f.C);
  return ret;
}

int WritevCmd(Shell& sh, Args argv) {
  GetoptResult g = Getopt(argv, "CfqP:r");
  VecFlags f;
  f.pattern = 0xcd;
  if (int r = VecOptions(sh, argv[0], g, f, [](char) { return 0; }); r != 0) {
    return r;
  }
  if (g.operands.size() < 2) {
    return UsageError(sh, argv[0], nullptr);
  }
  int64_t offset = 0, count = 0;
  int err = 0;
  if (!VecOperands(sh, g.operands, offset, count, err)) {
    return err;
  }
  Backend& dev = *sh.device();
  if (Status st = CheckPaddedIo(dev, offset, count, "write"); !st.ok()) {
    return OutOfRange(sh, "writev", st);
  }
  IoBuffer buf(static_cast<size_t>(count), static_cast<uint8_t>(f.pattern));
  auto t1 = Clock::now();
  Status st = PaddedWrite(dev, offset, buf.data(), buf.size());
  if (st.ok() && f.fua) {
    st = dev.Flush();
  }
  auto t2 = Clock::now();
  if (!st.ok()) {
    return Failed(sh, "writev", st);
  }
  if (f.q) {
    return 0;
  }
  PrintReport(sh.out(), "wrote", t2 - t1, offset, count, count, f.C);
  return 0;
}

// ---- aio_read, aio_write, aio_flush ----------------------------------------------------------

struct AioCmd : AioContext {
  AioCmd(size_t len, uint8_t fill) : buf(len, fill) {}
  IoBuffer buf;
  VecFlags f;
  bool write = false;
  int64_t offset = 0;
  Clock::time_point t1;
};

void AioReadDone(Shell& sh, AioCmd& c) {
  auto t2 = Clock::now();
  if (c.req.error != 0) {
    // qemu-io's aio_read completion names readv (QEMU 10 qemu-io-cmds.c aio_read_done).
    sh.out() << "readv failed: " << std::strerror(c.req.error) << "\n";
    return;
  }
  const int64_t count = static_cast<int64_t>(c.buf.size());
  if (c.f.P) {
    VerifyPattern(sh, c.buf.data(), c.offset, count, c.f.pattern);
  }
  if (c.f.q) {
    return;
  }
  if (c.f.v) {
    DumpBuffer(sh.out(), c.buf.data(), c.offset, count);
  }
  PrintReport(sh.out(), "read", t2 - c.t1, c.offset, count, count, c.f.C);
}

void AioWriteDone(Shell& sh, AioCmd& c) {
  auto t2 = Clock::now();
  if (c.req.error != 0) {
    sh.out() << "aio_write failed: " << std::strerror(c.req.error) << "\n";
    return;
  }
  if (c.f.q) {
    return;
  }
  const int64_t count = static_cast<int64_t>(c.buf.size());
  PrintReport(sh.out(), "wrote", t2 - c.t1, c.offset, count, count, c.f.C);
}

int AioCommand(Shell& sh, Args argv, bool write) {
  GetoptResult g = Getopt(argv, write ? "CfiqP:ruz" : "CiP:qrv");
  VecFlags f;
  f.pattern = write ? 0xcd : 0;
  bool inject = false, z = false, u = false;
  int r = VecOptions(sh, argv[0], g, f, [&](char opt) {
    if (opt == 'i') {
      inject = true;
    } else if (opt == 'z') {
      z = true;
    } else if (opt == 'u') {
      u = true;
    }
    return 0;
  });
  if (r != 0) {
    return r;
  }
  // -i counts an invalid request in QEMU's statistics and submits nothing.
  if (inject) {
    sh.out() << "injecting invalid " << (write ? "write" : "read") << " request\n";
    return 0;
  }
  if (g.operands.size() < 2) {
    return UsageError(sh, argv[0], nullptr);
  }
  if (u && !z) {
    sh.out() << "-u requires -z to be specified\n";
    return -EINVAL;
  }
  if (z && g.operands.size() != 2) {
    sh.out() << "-z supports only a single length parameter\n";
    return -EINVAL;
  }
  if (z && f.r) {
    sh.out() << "cannot combine zero write with registered I/O buffer\n";
    return -EINVAL;
  }
  int64_t offset = 0, count = 0;
  int err = 0;
  if (!VecOperands(sh, g.operands, offset, count, err)) {
    return err;
  }
  auto ctx = std::make_unique<AioCmd>(static_cast<size_t>(count),
                                      z ? 0 : static_cast<uint8_t>(write ? f.pattern : 0xab));
  ctx->f = f;
  ctx->write = write;
  ctx->offset = offset;
  ctx->req.op = write ? IoRequest::Op::kWrite : IoRequest::Op::kRead;
  ctx->req.offset = static_cast<uint64_t>(offset);
  ctx->req.buf = ctx->buf.data();
  ctx->req.len = ctx->buf.size();
  AioCmd* c = ctx.get();
  ctx->finish = [&sh, c](AioContext&) {
    if (c->write) {
      if (c->req.error == 0 && c->f.fua) {
        c->req.error = sh.device()->Flush().code();
      }
      AioWriteDone(sh, *c);
    } else {
      AioReadDone(sh, *c);
    }
  };
  ctx->t1 = Clock::now();
  return sh.SubmitAio(std::move(ctx));
}

int AioReadCmd(Shell& sh, Args argv) { return AioCommand(sh, argv, false); }
int AioWriteCmd(Shell& sh, Args argv) { return AioCommand(sh, argv, true); }

int AioFlushCmd(Shell& sh, Args) {
  sh.Drain();
  return 0;
}

// ---- discard, truncate, map, alloc -------------------------------------------------------------

// zbl's nodes have no discard entry point yet: on a non-zoned device zbl-io writes zeroes,
// which is what a read returns after QEMU's discard of a raw file (a punched hole). Zoned
// devices refuse (their discard is a zone reset, which zone_reset does).
Status DiscardRange(Backend& dev, uint64_t offset, uint64_t len) {
  if (dev.model() != ZoneModel::kNone) {
    return Error(ENOTSUP, "discard is not supported by this driver ({}, zoned): use zone_reset",
                 dev.root().driver_name());
  }
  constexpr size_t kChunk = 1 << 20;
  std::vector<uint8_t> zeroes(std::min<uint64_t>(len, kChunk), 0);
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kChunk));
    ZBL_RETURN_IF_ERROR(PaddedWrite(dev, offset, zeroes.data(), n));
    offset += n;
    len -= n;
  }
  return Status::Ok();
}

int DiscardCmd(Shell& sh, Args argv) {
  GetoptResult g = Getopt(argv, "Cq");
  bool C = false, q = false;
  for (const OptionEvent& ev : g.options) {
    if (ev.kind != OptionEvent::Kind::kOption) {
      return UsageError(sh, argv[0], &ev);
    }
    (ev.opt == 'C' ? C : q) = true;
  }
  if (g.operands.size() != 2) {
    return UsageError(sh, argv[0], nullptr);
  }
  int64_t offset = 0, bytes = 0;
  if (!Number(sh, g.operands[0], offset)) {
    return static_cast<int>(offset);
  }
  if (!Number(sh, g.operands[1], bytes)) {
    return static_cast<int>(bytes);
  }
  if (bytes > kMaxRequestBytes) {
    sh.out() << "length cannot exceed " << kMaxRequestBytes << ", given " << g.operands[1] << "\n";
    return -EINVAL;
  }
  if (Status st = CheckPaddedIo(*sh.device(), static_cast<uint64_t>(offset),
                                static_cast<size_t>(bytes), "discard");
      !st.ok() && sh.device()->model() == ZoneModel::kNone) {
    return OutOfRange(sh, "discard", st);
  }
  auto t1 = Clock::now();
  Status st = DiscardRange(*sh.device(), static_cast<uint64_t>(offset),
                           static_cast<uint64_t>(bytes));
  auto t2 = Clock::now();
  if (!st.ok()) {
    return Failed(sh, "discard", st);
  }
  if (!q) {
    PrintReport(sh.out(), "discard", t2 - t1, offset, bytes, bytes, C);
  }
  return 0;
}

int TruncateCmd(Shell& sh, Args argv) {
  GetoptResult g = Getopt(argv, "m:");
  std::string mode = "off";
  for (const OptionEvent& ev : g.options) {
    if (ev.kind != OptionEvent::Kind::kOption) {
      return UsageError(sh, argv[0], &ev);
    }
    mode = ev.arg;
    if (mode != "off" && mode != "metadata" && mode != "falloc" && mode != "full") {
      sh.err() << sh.progname() << ": Invalid preallocation mode '" << mode << "'\n";
      return -EINVAL;
    }
  }
  // qemu-io reads the first operand; more are allowed (up to 3 arguments) and ignored. With
  // none (options only) it reads its first argument, which is then an option.
  const std::string& size_text = g.operands.empty() ? argv[1] : g.operands[0];
  int64_t offset = 0;
  if (!Number(sh, size_text, offset)) {
    return static_cast<int>(offset);
  }
  Status st = sh.Truncate(static_cast<uint64_t>(offset), mode);
  if (!st.ok()) {
    sh.err() << sh.progname() << ": " << st.message() << "\n";
    return -st.code();
  }
  return 0;
}

// zbl's nodes report no allocation status; a raw image without a backing file is allocated
// everywhere, which is what QEMU answers for one (and what zbl-io answers for every device).
int MapCmd(Shell& sh, Args) {
  const uint64_t size = sh.device()->size();
  if (size == 0) {
    return 0;
  }
  sh.out() << fmt::format("{} (0x{:x}) bytes {} at offset {} (0x{:x})\n",
                          Cvtstr(static_cast<double>(size)), size, "    allocated", Cvtstr(0), 0);
  return 0;
}

int AllocCmd(Shell& sh, Args argv) {
  int64_t offset = 0, count = 512;
  if (!Number(sh, argv[1], offset)) {
    return static_cast<int>(offset);
  }
  if (argv.size() == 3 && !Number(sh, argv[2], count)) {
    return static_cast<int>(count);
  }
  const int64_t size = static_cast<int64_t>(sh.device()->size());
  // Past the end QEMU's is_allocated answers "0 bytes more", which ends the count there.
  const int64_t inside = offset >= size ? 0 : std::min(count, size - offset);
  sh.out() << inside << "/" << inside << " bytes allocated at offset "
           << Cvtstr(static_cast<double>(offset)) << "\n";
  return 0;
}

// ---- sleep, abort, sigraise, reopen ------------------------------------------------------------

int SleepCmd(Shell& sh, Args argv) {
  char* end = nullptr;
  errno = 0;
  long ms = std::strtol(argv[1].c_str(), &end, 0);
  if (ms < 0 || *end != '\0') {
    sh.out() << argv[1] << " is not a valid number\n";
    return -EINVAL;
  }
  if (!sh.process_commands()) {
    ms = 0;  // in process: no stalls (see Shell::set_process_commands)
  }
  // The main loop runs while qemu-io sleeps: aio completions print meanwhile.
  auto until = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < until) {
    sh.ReapAio(0);
    auto left = until - Clock::now();
    std::this_thread::sleep_for(std::min<Clock::duration>(left, std::chrono::milliseconds(1)));
  }
  sh.ReapAio(0);
  return 0;
}

int ProcessCommandRefused(Shell& sh, std::string_view cmd) {
  sh.err() << sh.progname() << ": " << cmd << " is not enabled in this in-process shell\n";
  return -ENOTSUP;
}

int AbortCmd(Shell& sh, Args argv) {
  if (!sh.process_commands()) {
    return ProcessCommandRefused(sh, argv[0]);
  }
  // As qemu-io: a crash, with whatever stdout still buffers lost.
  std::abort();
}

int SigraiseCmd(Shell& sh, Args argv) {
  int64_t sig = Cvtnum(argv[1]);
  if (sig < 0) {
    sh.out() << CvtnumError(sig, argv[1]) << "\n";
    return static_cast<int>(sig);
  }
  if (sig > NSIG) {
    sh.out() << "signal argument '" << argv[1] << "' is too large to be a valid signal\n";
    return -EINVAL;
  }
  if (!sh.process_commands()) {
    return ProcessCommandRefused(sh, argv[0]);
  }
  sh.out().flush();
  sh.err().flush();
  std::raise(static_cast<int>(sig));
  return 0;
}

int ReopenCmd(Shell& sh, Args argv) {
  GetoptResult g = Getopt(argv, "c:o:rw");
  int rw = -1;  // -1: keep, 0: -w, 1: -r
  bool have_cache = false;
  int direct = -1;  // cache.direct asked for: -1 not, 0 off, 1 on
  // qemu-io gathers -o options in one list that only a reopen reaching its checks (or a bad
  // option) empties: after "Only one -r/-w option may be given" the -o options parsed before
  // it are still there and join the next reopen's.
  std::string options = sh.TakePendingReopenOptions();
  for (const OptionEvent& ev : g.options) {
    if (ev.kind != OptionEvent::Kind::kOption) {
      return UsageError(sh, argv[0], &ev);
    }
    switch (ev.opt) {
      case 'c': {
        auto mode = ParseCacheMode(ev.arg);
        if (!mode) {
          sh.err() << sh.progname() << ": Invalid cache option: " << ev.arg << "\n";
          return -EINVAL;
        }
        have_cache = true;
        direct = mode->direct ? 1 : 0;
        break;
      }
      case 'o':
        options += (options.empty() ? "" : ",") + ev.arg;
        break;
      case 'r':
      case 'w':
        if (rw != -1) {
          sh.SetPendingReopenOptions(options);
          sh.err() << sh.progname() << ": Only one -r/-w option may be given\n";
          return -EINVAL;
        }
        rw = ev.opt == 'r' ? 1 : 0;
        break;
    }
  }
  if (!g.operands.empty()) {
    return UsageError(sh, argv[0], nullptr);
  }
  const bool cache_keys = options.rfind("cache.", 0) == 0 ||
                          options.find(",cache.") != std::string::npos;
  if (have_cache && cache_keys) {
    sh.err() << sh.progname() << ": Cannot set both -c and the cache options\n";
    return -EINVAL;
  }
  if (!options.empty()) {
    // An open zbl node cannot change its options. Accepted as QEMU accepts them: the same
    // value again, read-only (the write permission), the cache keys (as -c: no effect, the
    // node keeps its cache.direct). Any other key: QEMU's refusal.
    auto o = Options::Parse(options);
    if (!o.ok()) {
      sh.err() << sh.progname() << ": " << o.status().message() << "\n";
      return -EINVAL;
    }
    auto cur = Options::Parse(sh.device()->option_string());
    size_t p = 0;
    while (p < options.size()) {
      size_t comma = options.find(',', p);
      std::string item = options.substr(p, comma == std::string::npos ? comma : comma - p);
      p = comma == std::string::npos ? options.size() : comma + 1;
      const size_t eq = item.find('=');
      const std::string key = item.substr(0, eq);
      const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
      const bool cache_key = key.rfind("cache.", 0) == 0 || key.find(".cache.") != std::string::npos;
      if (cache_key && key.size() >= 12 && key.compare(key.size() - 12, 12, "cache.direct") == 0) {
        auto b = ParseBool(value);
        if (b.ok()) {
          direct = *b ? 1 : 0;
        }
      }
      if (cache_key || key.empty()) {
        continue;
      }
      if (key == "read-only") {
        auto b = ParseBool(value);
        if (b.ok() && !*b) {
          continue;
        }
        if (b.ok()) {
          // The image's user (qemu-io's BlockBackend) keeps its write permission: QEMU refuses,
          // naming its node ('#block127'); zbl's nodes have no such names.
          sh.err() << sh.progname() << ": Read-only block node cannot support read-write users\n";
          return -EPERM;
        }
      }
      if (cur.ok() && key.find('.') == std::string::npos && cur->Has(key)) {
        auto v = cur->GetString(key, "");
        if (v.ok() && *v == value) {
          continue;
        }
      }
      sh.err() << sh.progname() << ": Cannot change the option '" << key << "'\n";
      return -EINVAL;
    }
  }
  // While the node is O_DIRECT and qemu-io holds the write permission (and keeps it: not -r),
  // every reopen makes QEMU check that permission again (CheckDirectWrite) and fail, changing
  // nothing; the reopen that turns O_DIRECT on is not checked. Without the permission, the
  // first command that writes takes it and is checked then (Shell::Execute). zbl's open node
  // keeps its own cache mode; the refusal and the mode QEMU would hold are tracked here.
  const bool direct_before = sh.QemuAlignment() > 1 || sh.reopened_direct() != 0;
  if (direct_before && rw != 1 && sh.write_permission() && !sh.resize_permission()) {
    if (Status st = CheckDirectWrite(sh.device()->option_string(), sh.reopened_direct());
        !st.ok()) {
      sh.err() << sh.progname() << ": " << st.message() << "\n";
      return -EPERM;
    }
  }
  if (direct == 0) {
    sh.set_reopened_direct(0);
  } else if (direct == 1 && sh.QemuAlignment() == 1 && sh.reopened_direct() == 0) {
    sh.set_reopened_direct(sh.ProbeDirectAlignment());
  }
  if (rw != -1) {
    Status st = sh.SetReadOnly(rw == 1);
    if (!st.ok()) {
      sh.err() << sh.progname() << ": " << st.message() << "\n";
      return -st.code();
    }
  }
  return 0;
}

// ---- breakpoints --------------------------------------------------------------------------

// QEMU suspends requests at blkdebug events; zbl's blkdebug filter injects errors only, so
// every node answers as QEMU's nodes without breakpoint support do (ENOTSUP).
int BreakCmd(Shell& sh, Args) {
  sh.out() << "Could not set breakpoint: " << std::strerror(ENOTSUP) << "\n";
  return -ENOTSUP;
}

int RemoveBreakCmd(Shell& sh, Args argv) {
  sh.out() << "Could not remove breakpoint " << argv[1] << ": " << std::strerror(ENOTSUP)
           << "\n";
  return -ENOTSUP;
}

int ResumeCmd(Shell& sh, Args) {
  sh.out() << "Could not resume request: " << std::strerror(ENOTSUP) << "\n";
  return -ENOTSUP;
}

// qemu-io waits forever when no node can stop a request; zbl-io says why nothing will stop.
int WaitBreakCmd(Shell& sh, Args argv) {
  sh.err() << sh.progname() << ": wait_break " << argv[1]
           << ": breakpoints are not supported by this driver ("
           << sh.device()->root().driver_name() << "); no request can stop\n";
  return -ENOTSUP;
}

// ---- open, close ----

// Applies open's options to `a`; returns 0 or the command's error. Cache and AIO hints are
// accepted (zbl has one I/O path); what would change the device's semantics is refused.
int OpenOptions(Shell& sh, const std::string& cmd, const GetoptResult& g, ImageArgs& a) {
  for (const OptionEvent& ev : g.options) {
    if (ev.kind != OptionEvent::Kind::kOption) {
      return UsageError(sh, cmd, &ev);
    }
    switch (ev.opt) {
      case 'n':
        a.nocache = true;
        break;
      case 'r':
        a.read_only = true;
        break;
      case 'U':
        a.force_share = true;
        break;
      case 'k':
        a.aio = "native";
        break;
      case 't': {
        auto mode = ParseCacheMode(ev.arg);
        if (!mode) {
          sh.err() << sh.progname() << ": Invalid cache option: " << ev.arg << "\n";
          return -EINVAL;
        }
        a.nocache = mode->direct;
        break;
      }
      case 'i':
        if (!IsAioMode(ev.arg)) {
          sh.err() << sh.progname() << ": Invalid aio option: " << ev.arg << "\n";
          return -EINVAL;
        }
        a.aio = ev.arg;
        break;
      case 'd':
        if (!IsDiscardMode(ev.arg)) {
          sh.err() << sh.progname() << ": Invalid discard option: " << ev.arg << "\n";
          return -EINVAL;
        }
        break;
      case 'o':
        if (sh.image_opts()) {
          sh.out() << "--image-opts and 'open -o' are mutually exclusive\n";
          return -EINVAL;
        }
        a.options += (a.options.empty() ? "" : ",") + ev.arg;
        break;
      default:  // -s, -C: snapshot, copy-on-read
        sh.err() << sh.progname() << ": open -" << ev.opt << " is not supported by zbl-io\n";
        return -ENOTSUP;
    }
  }
  return 0;
}

int OpenCmd(Shell& sh, Args argv) {
  GetoptResult g = Getopt(argv, "snCro:ki:t:d:U");
  ImageArgs a;
  a.image_opts = sh.image_opts();
  if (int r = OpenOptions(sh, argv[0], g, a); r != 0) {
    return r;
  }
  if (g.operands.size() > 1) {
    return UsageError(sh, argv[0], nullptr);
  }
  if (!g.operands.empty()) {
    a.image = g.operands[0];
  }
  if (sh.device() != nullptr) {
    sh.err() << sh.progname() << ": file open already, try 'help close'\n";
    return -EINVAL;
  }
  auto dev = OpenImage(a);
  if (!dev.ok()) {
    sh.err() << sh.progname() << ": " << dev.status().message() << "\n";
    return -EINVAL;
  }
  if (!a.image_opts && a.format.empty() && a.options.empty() && !a.image.empty()) {
    WarnProbedRaw(sh.err(), a.image);
  }
  sh.Adopt(std::move(*dev), &a);
  return 0;
}

int CloseCmd(Shell& sh, Args) {
  sh.Close();
  return 0;
}

// ---- the rest -----------------------------------------------------------------------------

int FlushCmd(Shell& sh, Args) {
  Status st = sh.device()->Flush();
  // qemu-io prints nothing when a flush fails; only the exit status tells.
  sh.ReportDetail(st);
  return -st.code();
}

// qemu-io's lines only, so that scripts compare; zbl's own view is `describe`.
int InfoCmd(Shell& sh, Args) {
  Node& root = sh.device()->root();
  // qemu-io prints a protocol driver's name twice (as format and as protocol name); zbl's
  // leaf drivers are its protocol drivers.
  sh.out() << "format name: " << root.driver_name() << "\n";
  if (root.children().empty()) {
    sh.out() << "format name: " << root.driver_name() << "\n";
  }
  sh.out() << "cluster size: " << Cvtstr(0) << "\n";
  sh.out() << "vm state offset: " << Cvtstr(0) << "\n";
  return 0;
}

int DescribeCmd(Shell& sh, Args) {
  sh.out() << sh.device()->Describe();
  return 0;
}

int LengthCmd(Shell& sh, Args) {
  sh.out() << Cvtstr(static_cast<double>(sh.device()->size())) << "\n";
  return 0;
}

int QuitCmd(Shell& sh, Args) {
  sh.RequestQuit();
  return 0;
}

void HelpOneline(std::ostream& out, std::string_view name, const CommandSpec& c) {
  out << name << " ";
  if (c.args != nullptr) {
    out << c.args << " ";
  }
  out << "-- " << c.oneline << "\n";
}

int HelpCmd(Shell& sh, Args argv) {
  if (argv.size() < 2) {
    for (const CommandSpec& c : Commands()) {
      if (c.flags & kCommandZblOnly) {
        continue;
      }
      HelpOneline(sh.out(), c.name, c);
    }
    sh.out() << "\nUse 'help commandname' for extended help.\n";
    return 0;
  }
  const CommandSpec* c = FindCommand(argv[1]);
  if (c == nullptr) {
    sh.out() << "command " << argv[1] << " not found\n";
    return -EINVAL;
  }
  HelpOneline(sh.out(), argv[1], *c);
  if (c->help != nullptr) {
    sh.out() << c->help;
  }
  return 0;
}

constexpr const char kOpenHelp[] =
    "\n"
    " opens a new device\n"
    "\n"
    " Example:\n"
    " 'open -n -o driver=raw /tmp/data' - opens raw data file read-write, uncached\n"
    " 'open driver=emulated,model=hm,size=1G' - with --image-opts, an option string\n"
    "\n"
    " Opens a device for subsequent use by all of the other zbl-io commands.\n"
    " -n, -- disable host cache (cache.direct=on on the file node)\n"
    " -t, -- cache mode: none and directsync disable the host cache, others are accepted\n"
    " -o, -- options for the root driver (not with --image-opts)\n"
    " -k, -i, -d, -U -- accepted, no effect; -r, -s, -C are not supported\n"
    "\n";

constexpr const char kReadHelp[] =
    "\n"
    " reads a range of bytes from the given offset\n"
    "\n"
    " Example:\n"
    " 'read -v 512 1k' - dumps 1 kilobyte read from 512 bytes into the file\n"
    "\n"
    " Reads a segment of the currently open device, optionally dumping it to the\n"
    " standard output stream (with -v option) for subsequent inspection.\n"
    " -b, -- read from the VM state (not supported by zbl devices)\n"
    " -C, -- report statistics in a machine parsable format\n"
    " -l, -- length for pattern verification (only with -P)\n"
    " -p, -- ignored for backwards compatibility\n"
    " -P, -- use a pattern to verify read data\n"
    " -q, -- quiet mode, do not show I/O statistics\n"
    " -r, -- register I/O buffer (accepted, no effect)\n"
    " -s, -- start offset for pattern verification (only with -P)\n"
    " -v, -- dump buffer to standard output\n"
    "\n";

constexpr const char kWriteHelp[] =
    "\n"
    " writes a range of bytes from the given offset\n"
    "\n"
    " Example:\n"
    " 'write 512 1k' - writes 1 kilobyte at 512 bytes into the open device\n"
    "\n"
    " Writes into a segment of the currently open device, using a buffer\n"
    " filled with a set pattern (0xcdcdcdcd).\n"
    " -b, -- write to the VM state (not supported by zbl devices)\n"
    " -c, -- write compressed data (not supported by zbl devices)\n"
    " -C, -- report statistics in a machine parsable format\n"
    " -f, -- use Force Unit Access semantics (a flush after the write)\n"
    " -n, -- with -z, don't allow slow fallback (accepted, no effect)\n"
    " -p, -- ignored for backwards compatibility\n"
    " -P, -- use different pattern to fill file\n"
    " -q, -- quiet mode, do not show I/O statistics\n"
    " -r, -- register I/O buffer (accepted, no effect)\n"
    " -s, -- use a pattern file to fill the write buffer\n"
    " -u, -- with -z, allow unmapping (accepted, no effect)\n"
    " -z, -- write zeroes\n"
    "\n";

constexpr const char kAioReadHelp[] =
    "\n"
    " reads a range of bytes asynchronously, through the device's queue\n"
    "\n"
    " Example:\n"
    " 'aio_read -P 0xcd 0 4k 4k' - reads 8 KiB and checks every byte is 0xcd\n"
    "\n"
    " The command returns once the request is queued; its result prints when it\n"
    " completes (before a later command, during sleep, at aio_flush or at exit), and\n"
    " an I/O error or a pattern mismatch then does not change the exit status.\n"
    " -C, -- report statistics in a machine parsable format\n"
    " -i, -- count an invalid request and submit nothing\n"
    " -P, -- check the data against a pattern byte\n"
    " -q, -- quiet mode, do not show I/O statistics\n"
    " -r, -- register I/O buffer (accepted, no effect)\n"
    " -v, -- dump buffer to standard output\n"
    "\n";

constexpr const char kAioWriteHelp[] =
    "\n"
    " writes a range of bytes asynchronously, through the device's queue\n"
    "\n"
    " Example:\n"
    " 'aio_write -P 7 0 4k 4k' - writes 8 KiB of 0x07 at offset 0\n"
    "\n"
    " The command returns once the request is queued; its result prints when it\n"
    " completes (before a later command, during sleep, at aio_flush or at exit), and\n"
    " an I/O error then does not change the exit status. Default pattern 0xcd.\n"
    " -C, -- report statistics in a machine parsable format\n"
    " -f, -- Force Unit Access (a flush after the write)\n"
    " -i, -- count an invalid request and submit nothing\n"
    " -P, -- pattern byte to fill the buffer with\n"
    " -q, -- quiet mode, do not show I/O statistics\n"
    " -r, -- register I/O buffer (accepted, no effect)\n"
    " -u, -- with -z, allow unmapping (accepted, no effect)\n"
    " -z, -- write zeroes\n"
    "\n";

constexpr const char kDiscardHelp[] =
    "\n"
    " discards a range of bytes\n"
    "\n"
    " Example:\n"
    " 'discard 0 1M' - the first MiB reads back as zeroes\n"
    "\n"
    " zbl's drivers have no discard entry point: on a non-zoned device the range is\n"
    " written with zeroes (what a read returns after QEMU discards a raw file's range);\n"
    " zoned devices refuse it (zone_reset empties zones).\n"
    " -C, -- report statistics in a machine parsable format\n"
    " -q, -- quiet mode, do not show I/O statistics\n"
    "\n";

constexpr const char kReadvHelp[] =
    "\n"
    " reads a range of bytes given as several lengths\n"
    "\n"
    " Example:\n"
    " 'readv -v 512 1k 1k' - dumps 2 KiB read from offset 512\n"
    "\n"
    " -C, -- report statistics in a machine parsable format\n"
    " -P, -- check the data against a pattern byte\n"
    " -q, -- quiet mode, do not show I/O statistics\n"
    " -r, -- register I/O buffer (accepted, no effect)\n"
    " -v, -- dump buffer to standard output\n"
    "\n";

constexpr const char kWritevHelp[] =
    "\n"
    " writes a range of bytes given as several lengths\n"
    "\n"
    " Example:\n"
    " 'writev 512 1k 1k' - writes 2 KiB of 0xcd at offset 512\n"
    "\n"
    " -C, -- report statistics in a machine parsable format\n"
    " -f, -- Force Unit Access (a flush after the write)\n"
    " -P, -- pattern byte to fill the buffer with (default 0xcd)\n"
    " -q, -- quiet mode, do not show I/O statistics\n"
    " -r, -- register I/O buffer (accepted, no effect)\n"
    "\n";

constexpr const char kReopenHelp[] =
    "\n"
    " changes how the open image is used\n"
    "\n"
    " Example:\n"
    " 'reopen -r' - commands that write are refused from now on\n"
    "\n"
    " -r, -- read-only\n"
    " -w, -- read-write (a file opened with -r is opened again read-write)\n"
    " -c, -- cache mode (checked, no effect: an open node keeps its cache.direct)\n"
    " -o, -- driver options: zbl cannot change an open node's options, refused\n"
    "\n";

constexpr const char kSigraiseHelp[] =
    "\n"
    " raises a signal in zbl-io itself\n"
    "\n"
    " Example:\n"
    " 'sigraise 15' - raises SIGTERM\n"
    "\n";

// The one command table: name, alias, synopsis, one-line help, argument count bounds, flags,
// extended help and handler. The synopses and one-liners are qemu-io's.
constexpr CommandSpec kCommands[] = {
    {"abort", nullptr, nullptr, "simulate a program crash using abort(3)", 0, 0, kCommandNoFile, nullptr,
     AbortCmd},
    {"aio_flush", nullptr, nullptr, "completes all outstanding aio requests", 0, 0, 0, nullptr,
     AioFlushCmd},
    {"aio_read", nullptr, "[-Ciqrv] [-P pattern] off len [len..]",
     "asynchronously reads a number of bytes", 2, -1, 0, kAioReadHelp, AioReadCmd},
    {"aio_write", nullptr, "[-Cfiqruz] [-P pattern] off len [len..]",
     "asynchronously writes a number of bytes", 2, -1, kCommandWrite, kAioWriteHelp,
     AioWriteCmd},
    {"alloc", "a", "offset [count]", "checks if offset is allocated in the file", 1, 2, 0, nullptr,
     AllocCmd},
    {"break", nullptr, "event tag", "sets a breakpoint on event and tags the stopped request as tag",
     2, 2, 0, nullptr, BreakCmd},
    {"close", "c", nullptr, "close the current open file", 0, 0, 0, nullptr, CloseCmd},
    {"describe", nullptr, nullptr,
     "zbl's view of the device: driver graph, options, limits, geometry (not in qemu-io)", 0, 0,
     kCommandZblOnly, nullptr, DescribeCmd},
    {"discard", "d", "[-Cq] off len", "discards a number of bytes at a specified offset", 2, -1,
     kCommandWrite, kDiscardHelp, DiscardCmd},
    {"flush", "f", nullptr, "flush all in-core file state to disk", 0, 0, 0, nullptr, FlushCmd},
    {"help", "?", "[command]", "help for one or all commands", 0, 1, kCommandGlobal, nullptr,
     HelpCmd},
    {"info", "i", nullptr, "prints information about the current file", 0, 0, 0, nullptr, InfoCmd},
    {"length", "l", nullptr, "gets the length of the current file", 0, 0, 0, nullptr, LengthCmd},
    {"map", nullptr, "", "prints the allocated areas of a file", 0, 0, 0, nullptr, MapCmd},
    {"open", "o", "[-rsCnkU] [-t cache] [-d discard] [-o options] [path]",
     "open the file specified by path", 1, -1, kCommandNoFile, kOpenHelp, OpenCmd},
    {"quit", "q", nullptr, "exit the program", -1, -1, kCommandGlobal, nullptr, QuitCmd},
    {"read", "r", "[-abCqrv] [-P pattern [-s off] [-l len]] off len",
     "reads a number of bytes at a specified offset", 2, -1, 0, kReadHelp, ReadCmd},
    {"readv", nullptr, "[-Cqrv] [-P pattern] off len [len..]",
     "reads a number of bytes at a specified offset", 2, -1, 0, kReadvHelp, ReadvCmd},
    {"remove_break", nullptr, "tag", "remove a breakpoint by tag", 1, 1, 0, nullptr,
     RemoveBreakCmd},
    {"reopen", nullptr, "[(-r|-w)] [-c cache] [-o options]", "reopens an image with new options",
     0, -1, 0, kReopenHelp, ReopenCmd},
    {"resume", nullptr, "tag", "resumes the request tagged as tag", 1, 1, 0, nullptr, ResumeCmd},
    {"sigraise", nullptr, "signal", "raises a signal", 1, 1, kCommandNoFile, kSigraiseHelp,
     SigraiseCmd},
    {"sleep", nullptr, nullptr, "waits for the given value in milliseconds", 1, 1,
     kCommandNoFile, nullptr, SleepCmd},
    {"truncate", "t", "[-m prealloc_mode] off", "truncates the current file at the given offset",
     1, 3, kCommandWrite, nullptr, TruncateCmd},
    {"wait_break", nullptr, "tag", "waits for the suspension of a request", 1, 1, 0, nullptr,
     WaitBreakCmd},
    {"write", "w", "[-bcCfnqruz] [-P pattern | -s source_file] off len",
     "writes a number of bytes at a specified offset", 2, -1, kCommandWrite, kWriteHelp, WriteCmd},
    {"writev", nullptr, "[-Cfqr] [-P pattern] off len [len..]",
     "writes a number of bytes at a specified offset", 2, -1, kCommandWrite, kWritevHelp,
     WritevCmd},
    {"zone_append", "zap", "offset len [len..]",
     "append write a number of bytes at a specified offset", 3, 4, 0, nullptr, ZoneAppendCmd},
    {"zone_close", "zc", "offset len", "close a range of zones in zone block device", 2, 2, 0,
     nullptr, ZoneCloseCmd},
    {"zone_finish", "zf", "offset len", "finish a range of zones in zone block device", 2, 2, 0,
     nullptr, ZoneFinishCmd},
    {"zone_open", "zo", "offset len", "explicit open a range of zones in zone block device", 2, 2,
     0, nullptr, ZoneOpenCmd},
    {"zone_report", "zrp", "offset number", "report zone information", 2, 2, 0, nullptr,
     ZoneReportCmd},
    {"zone_reset", "zrs", "offset len", "reset a zone write pointer in zone block device", 2, 2, 0,
     nullptr, ZoneResetCmd},
};

}  // namespace

std::span<const CommandSpec> Commands() { return kCommands; }

}  // namespace zbl::io
