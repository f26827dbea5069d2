#include "diff.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <ostream>
#include <random>

#include <fmt/format.h>

namespace zbl::diff {
namespace {

using ZC = ZoneCondition;

enum class Kind : uint8_t {
  kWriteAtWp,
  kWriteOffWp,
  kWriteToCap,
  kWriteCrossCap,
  kWriteCrossZone,
  kWriteConv,
  kAppend,
  kAppendCrossCap,
  kOpen,
  kClose,
  kFinish,
  kReset,
  kResetAll,
  kRead,
  kReadPastWp,
  kReport,
};

struct KindInfo {
  const char* name;
  unsigned weight;
};

// The mix leans on what tells families apart: opens and writes that exhaust resources, zones
// filled to (and past) capacity, management from every condition.
constexpr KindInfo kKinds[] = {
    {"write@wp", 16},      {"write-off-wp", 5}, {"write-to-cap", 4}, {"write-cross-cap", 3},
    {"write-cross-zone", 2}, {"write-conv", 2}, {"append", 10},      {"append-cross-cap", 4},
    {"open", 12},          {"close", 9},        {"finish", 6},       {"reset", 8},
    {"reset-all", 1},      {"read", 5},         {"read-past-wp", 5}, {"report", 2},
};
constexpr size_t kNrKinds = sizeof(kKinds) / sizeof(kKinds[0]);

const char* Name(Kind k) { return kKinds[static_cast<size_t>(k)].name; }

std::string ErrName(int err) {
  if (err == 0) return "OK";
  const char* n = strerrorname_np(err);
  return n ? n : fmt::format("errno{}", err);
}

// A page-aligned buffer: devices opened with O_DIRECT need aligned memory.
class Buffer {
 public:
  void resize(size_t n) {
    if (n > cap_) {
      cap_ = (n + 4095) / 4096 * 4096;
      p_.reset(static_cast<uint8_t*>(std::aligned_alloc(4096, cap_)));
    }
    n_ = n;
  }
  uint8_t* data() { return p_.get(); }
  size_t size() const { return n_; }
  uint8_t& operator[](size_t i) { return p_.get()[i]; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> p_;
  size_t n_ = 0, cap_ = 0;
};

struct Op {
  Kind kind = Kind::kReport;
  uint32_t zone = 0;
  uint64_t offset = 0, len = 0;
};

struct Answer {
  int err = 0;
  uint64_t value = 0;  // offset of an append, hash of the bytes read
  std::string message;
  std::vector<uint8_t> bytes;  // what a read returned
  bool operator==(const Answer& o) const { return err == o.err && value == o.value; }
  bool Same(const Answer& o, bool data, int (*canon)(const void*, int), const void* ctx) const {
    return canon(ctx, err) == canon(ctx, o.err) && (err != 0 || !data || value == o.value);
  }
};

uint64_t Fnv(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ull;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Distinct data for every step and block, cheap enough for multi-megabyte writes under TCG:
// one random 4 KiB pattern a step, each 512-byte block stamped with its index.
void Fill(Buffer& buf, uint64_t seed, uint64_t step) {
  uint64_t x = seed * 0x100000001b3ull + step;
  uint8_t pattern[4096];
  for (size_t i = 0; i < sizeof(pattern); i += 8) {
    uint64_t v = SplitMix(x);
    std::memcpy(&pattern[i], &v, 8);
  }
  for (size_t off = 0; off < buf.size(); off += sizeof(pattern))
    std::memcpy(&buf[off], pattern, std::min(sizeof(pattern), buf.size() - off));
  for (size_t off = 0; off + 8 <= buf.size(); off += 512) {
    uint64_t tag = off / 512;
    std::memcpy(&buf[off], &tag, 8);
  }
}

Status Mismatch(std::string_view what, uint64_t a, uint64_t b) {
  return Error(EINVAL, "devices differ in {}: a has {} ({:#x}), b has {} ({:#x})", what, a, a, b, b);
}

}  // namespace

Status CompareGeometry(Backend& a, Backend& b) {
  const Limits &la = a.limits(), &lb = b.limits();
  if (la.model != lb.model || !la.zoned())
    return Error(EINVAL, "devices differ in zoned model or are not zoned: a is {}, b is {}",
                 ToString(la.model), ToString(lb.model));
  if (la.size != lb.size) return Mismatch("size", la.size, lb.size);
  if (la.logical_block_size != lb.logical_block_size)
    return Mismatch("logical block size", la.logical_block_size, lb.logical_block_size);
  if (la.zone_size != lb.zone_size) return Mismatch("zone size", la.zone_size, lb.zone_size);
  if (la.nr_zones != lb.nr_zones) return Mismatch("number of zones", la.nr_zones, lb.nr_zones);
  if (la.max_open_zones != lb.max_open_zones)
    return Mismatch("max open zones", la.max_open_zones, lb.max_open_zones);
  if (la.max_active_zones != lb.max_active_zones)
    return Mismatch("max active zones", la.max_active_zones, lb.max_active_zones);
  auto za = a.ReportZones(0, 0);
  if (!za.ok()) return za.status().Annotate("zone report of a");
  auto zb = b.ReportZones(0, 0);
  if (!zb.ok()) return zb.status().Annotate("zone report of b");
  if (za->size() != zb->size()) return Mismatch("zones reported", za->size(), zb->size());
  for (size_t i = 0; i < za->size(); ++i) {
    const Zone &x = (*za)[i], &y = (*zb)[i];
    if (x.type != y.type)
      return Error(EINVAL, "devices differ in the type of zone {}: a has {}, b has {}", i,
                   ToString(x.type), ToString(y.type));
    if (x.length != y.length) return Mismatch(fmt::format("length of zone {}", i), x.length, y.length);
    if (x.type != ZoneType::kConventional && x.capacity != y.capacity)
      return Mismatch(fmt::format("capacity of zone {}", i), x.capacity, y.capacity);
  }
  return Status::Ok();
}

namespace {

class Runner {
 public:
  Runner(const DiffOptions& o, Backend& a, Backend& b, std::ostream& log)
      : o_(o), a_(a), b_(b), log_(log), rng_(o.seed) {}

  Result<DiffResult> Go() {
    ZBL_RETURN_IF_ERROR(Setup());
    for (step_ = 0; step_ < o_.ops; ++step_) {
      if (!Step()) break;
      if (o_.full_every && (step_ + 1) % o_.full_every == 0 && !FullCompare("periodic")) break;
    }
    if (!res_.diverged || !o_.assert_mode) FullCompare("final");
    res_.steps = std::min<uint64_t>(step_ + 1, o_.ops);
    return std::move(res_);
  }

 private:
  // ---- setup ----
  Status Setup() {
    ZBL_RETURN_IF_ERROR(CompareGeometry(a_, b_));
    const Limits &la = a_.limits(), &lb = b_.limits();
    blk_ = std::max(la.request_alignment, lb.request_alignment);
    zone_size_ = la.zone_size;
    size_ = la.size;
    max_append_ = std::min(la.max_append_bytes ? la.max_append_bytes : UINT64_MAX,
                           lb.max_append_bytes ? lb.max_append_bytes : UINT64_MAX);
    if (max_append_ == UINT64_MAX) max_append_ = 0;
    max_append_ -= max_append_ % blk_;
    if (la.max_append_bytes != lb.max_append_bytes)
      log_ << fmt::format("zbl-diff: max append differs (a {}, b {}); appends use at most {}\n",
                          la.max_append_bytes, lb.max_append_bytes, max_append_);
    ZBL_RETURN_IF_ERROR(a_.ZoneResetAll().Annotate("reset-all of a"));
    ZBL_RETURN_IF_ERROR(b_.ZoneResetAll().Annotate("reset-all of b"));
    auto zones = a_.ReportZones(0, 0);
    if (!zones.ok()) return zones.status();
    geo_ = std::move(*zones);
    known_.assign(geo_.size(), UINT64_MAX);  // never: the first look asks both
    std::vector<uint32_t> seq;
    for (uint32_t i = 0; i < geo_.size(); ++i) {
      if (geo_[i].type == ZoneType::kConventional) {
        if (conv_.size() < 2) conv_.push_back(i);
      } else {
        seq.push_back(i);
      }
    }
    if (seq.empty()) return Error(EINVAL, "the devices have no sequential zone");
    // A small hot set exhausts open and active resources and refills zones often.
    const uint32_t lim = std::max(la.max_open_zones, la.max_active_zones);
    const size_t hot = std::min<size_t>(seq.size(), (lim && lim < 64 ? lim : 6) + 3);
    hot_.assign(seq.begin(), seq.begin() + static_cast<ptrdiff_t>(hot));
    seq_ = std::move(seq);
    // Conventional zones keep data across runs on a kernel device: start both from zeros.
    Buffer zeros;
    zeros.resize(std::min<uint64_t>(zone_size_, uint64_t{1} << 20));
    std::memset(zeros.data(), 0, zeros.size());
    for (uint32_t z : conv_)
      for (uint64_t off = 0; off < geo_[z].length; off += zeros.size()) {
        size_t n = std::min<uint64_t>(zeros.size(), geo_[z].length - off);
        ZBL_RETURN_IF_ERROR(a_.Write(geo_[z].start + off, zeros.data(), n).Annotate("zeroing a"));
        ZBL_RETURN_IF_ERROR(b_.Write(geo_[z].start + off, zeros.data(), n).Annotate("zeroing b"));
      }
    for (size_t i = 0; i < kNrKinds; ++i) total_weight_ += kKinds[i].weight;
    return Status::Ok();
  }

  // ---- the sequence ----
  uint64_t Rand(uint64_t n) { return n ? rng_() % n : 0; }
  bool Chance(unsigned pct) { return Rand(100) < pct; }

  Kind PickKind() {
    uint64_t r = Rand(total_weight_);
    for (size_t i = 0; i < kNrKinds; ++i) {
      if (r < kKinds[i].weight) return static_cast<Kind>(i);
      r -= kKinds[i].weight;
    }
    return Kind::kReport;
  }

  uint32_t PickZone(Kind k) {
    if (k == Kind::kWriteConv && !conv_.empty()) return conv_[Rand(conv_.size())];
    unsigned r = static_cast<unsigned>(Rand(100));
    if (r < 4 && !conv_.empty()) return conv_[Rand(conv_.size())];
    if (r < 14) return seq_[Rand(seq_.size())];
    return hot_[Rand(hot_.size())];
  }

  uint64_t Blocks(unsigned max_small) {
    return (Chance(10) ? 1 + Rand(64) : 1 + Rand(max_small)) * blk_;
  }

  // Builds the operation from A's view of the zone (both devices agree unless a divergence was
  // just recorded).
  Op Pick(Kind kind, const Zone& z) {
    Op op;
    op.kind = kind;
    if (op.kind == Kind::kWriteConv && conv_.empty()) op.kind = Kind::kWriteAtWp;
    const uint64_t start = z.start, end = z.start + z.length, cap_end = z.start + z.capacity;
    const bool conv = z.type == ZoneType::kConventional;
    uint64_t wp = conv || z.write_pointer == kInvalidWritePointer ? start + Rand(z.length / blk_) * blk_
                                                                  : std::min(z.write_pointer, end);
    if (op.kind == Kind::kWriteConv) wp = start + Rand(z.length / blk_) * blk_;
    op.offset = wp;
    switch (op.kind) {
      case Kind::kWriteAtWp:
      case Kind::kWriteConv: op.len = Blocks(8); break;
      case Kind::kWriteOffWp: {
        uint64_t d = (1 + Rand(4)) * blk_;
        op.offset = wp >= start + d && Chance(50) ? wp - d : std::min(wp + d, end - blk_);
        if (op.offset == wp) op.offset = wp > start ? start : start + blk_;
        op.len = Blocks(4);
        break;
      }
      case Kind::kWriteToCap: {
        uint64_t target = cap_end - std::min<uint64_t>(Rand(10) < 4 ? 0 : 1 + Rand(4), z.capacity / blk_) * blk_;
        op.len = target > wp ? target - wp : blk_;
        break;
      }
      case Kind::kWriteCrossCap: op.len = (cap_end > wp ? cap_end - wp : 0) + (1 + Rand(3)) * blk_; break;
      case Kind::kWriteCrossZone: {
        uint64_t k = 1 + Rand(2);
        op.offset = end - k * blk_;
        op.len = (k + 1 + Rand(2)) * blk_;
        break;
      }
      case Kind::kAppend:
      case Kind::kAppendCrossCap:
        op.offset = start;
        op.len = op.kind == Kind::kAppend ? Blocks(8)
                                          : (cap_end > wp ? cap_end - wp : 0) + (1 + Rand(2)) * blk_;
        if (max_append_) op.len = std::min(op.len, max_append_);
        break;
      case Kind::kOpen:
      case Kind::kClose:
      case Kind::kFinish:
      case Kind::kReset: op.offset = start; op.len = z.length; break;
      case Kind::kRead:
        op.offset = wp > start ? start + Rand((wp - start) / blk_) * blk_ : start;
        op.len = Blocks(8);
        break;
      case Kind::kReadPastWp: {
        uint64_t back = std::min<uint64_t>(Rand(3) * blk_, wp - start);
        op.offset = wp - back;
        op.len = back + (1 + Rand(8)) * blk_;
        break;
      }
      case Kind::kResetAll:
      case Kind::kReport: op.offset = 0; op.len = 0; break;
    }
    if (!o_.cross_zone && op.kind <= Kind::kWriteConv) {
      if (op.kind == Kind::kWriteCrossZone) op.kind = Kind::kWriteOffWp;
      op.len = std::min(op.len, end - op.offset);
    }
    if (op.offset >= size_) op.offset = size_ - blk_;
    if (op.kind == Kind::kRead || op.kind == Kind::kReadPastWp || op.kind == Kind::kWriteOffWp)
      op.len = std::min(op.len, end - op.offset);  // stay in the zone
    op.len = std::min(op.len, size_ - op.offset);
    return op;
  }

  Answer Apply(Backend& d, const Op& op) {
    Answer ans;
    Status st;
    switch (op.kind) {
      case Kind::kWriteAtWp:
      case Kind::kWriteOffWp:
      case Kind::kWriteToCap:
      case Kind::kWriteCrossCap:
      case Kind::kWriteCrossZone:
      case Kind::kWriteConv: st = WriteChunked(d, op); break;
      case Kind::kAppend:
      case Kind::kAppendCrossCap: {
        auto r = d.ZoneAppend(op.offset, data_.data(), op.len);
        if (r.ok()) ans.value = *r;
        else st = r.status();
        break;
      }
      case Kind::kOpen: st = d.ZoneMgmt(ZoneOp::kOpen, op.offset, op.len); break;
      case Kind::kClose: st = d.ZoneMgmt(ZoneOp::kClose, op.offset, op.len); break;
      case Kind::kFinish: st = d.ZoneMgmt(ZoneOp::kFinish, op.offset, op.len); break;
      case Kind::kReset: st = d.ZoneMgmt(ZoneOp::kReset, op.offset, op.len); break;
      case Kind::kResetAll: st = d.ZoneResetAll(); break;
      case Kind::kRead:
      case Kind::kReadPastWp:
        rbuf_.resize(op.len);
        std::memset(rbuf_.data(), 0xa5, op.len);
        st = d.Read(op.offset, rbuf_.data(), op.len);
        if (st.ok()) {
          ans.value = Fnv(rbuf_.data(), rbuf_.size());
          ans.bytes.assign(rbuf_.data(), rbuf_.data() + rbuf_.size());
        }
        break;
      case Kind::kReport: break;
    }
    ans.err = st.code();
    if (!st.ok()) ans.message = st.message();
    return ans;
  }

  // A write larger than --chunk is issued as consecutive requests, as an application that
  // respects the device's transfer limit does; the first failing request ends it.
  Status WriteChunked(Backend& d, const Op& op) {
    const uint64_t chunk = o_.chunk ? o_.chunk : op.len;
    for (uint64_t done = 0; done < op.len; done += chunk) {
      uint64_t n = std::min(chunk, op.len - done);
      ZBL_RETURN_IF_ERROR(d.Write(op.offset + done, data_.data() + done, n));
    }
    return Status::Ok();
  }

  std::string AnswerStr(const Answer& x, const Op& op) const {
    if (x.err) return ErrName(x.err) + " (" + x.message + ")";
    if (op.kind == Kind::kAppend || op.kind == Kind::kAppendCrossCap) return fmt::format("OK at {:#x}", x.value);
    if (op.kind == Kind::kRead || op.kind == Kind::kReadPastWp) return fmt::format("OK data {:016x}", x.value);
    return "OK";
  }

  std::string OpStr(const Op& op) const {
    if (op.kind == Kind::kResetAll || op.kind == Kind::kReport) return Name(op.kind);
    return fmt::format("{} {:#x}+{:#x} (zone {})", Name(op.kind), op.offset, op.len, op.zone);
  }

  static std::string DataDiff(const Answer& x, const Answer& y) {
    size_t i = 0, n = x.bytes.size();
    while (i < n && x.bytes[i] == y.bytes[i]) ++i;
    if (i == n) return "";
    auto zeros = [](const std::vector<uint8_t>& v) { return std::count(v.begin(), v.end(), 0); };
    return fmt::format("  data: first difference at +{:#x}: A {:#04x} B {:#04x}; zero bytes A {} B {} of {}\n",
                       i, x.bytes[i], y.bytes[i], zeros(x.bytes), zeros(y.bytes), n);
  }

  static int CanonThunk(const void* self, int err) {
    for (const auto& [x, y] : static_cast<const Runner*>(self)->o_.errno_alias)
      if (err == y) return x;
    return err;
  }

  // ---- zone state ----
  Zone ReportOne(Backend& d, uint32_t z) {
    Zone out;
    auto r = d.ReportZones(geo_[z].start, std::span<Zone>(&out, 1));
    if (!r.ok() || *r != 1) out.condition = static_cast<ZC>(0xff);
    return Normal(out);
  }
  // A write pointer beyond the device is "none": Linux reports SCSI conventional zones' all-ones
  // sector, which a driver converting sectors to bytes turns into 0xff..fe00.
  Zone Normal(Zone z) const {
    if (z.write_pointer != kInvalidWritePointer && z.write_pointer > size_)
      z.write_pointer = kInvalidWritePointer;
    return z;
  }

  std::string WpClass(const Zone& z) const {
    if (z.type == ZoneType::kConventional) return "";
    if (z.write_pointer == kInvalidWritePointer) return "@none";
    uint64_t rel = z.write_pointer - z.start;
    if (rel == 0) return "@start";
    if (rel == z.capacity) return "@cap";
    if (rel == z.length) return "@zone-end";
    return "@mid";
  }
  std::string CondStr(const Zone& z) const { return std::string(ToString(z.condition)); }
  std::string ZoneStr(const Zone& z) const { return CondStr(z) + WpClass(z); }
  std::string ZoneDetail(const Zone& z) const {
    return fmt::format("{} wp {:#x} cap {:#x} len {:#x}", CondStr(z), z.write_pointer, z.capacity,
                       z.length);
  }

  std::vector<uint32_t> Touched(const Op& op) const {
    std::vector<uint32_t> v;
    if (op.kind == Kind::kResetAll || op.kind == Kind::kReport) return v;
    uint64_t last = (op.offset + std::max<uint64_t>(op.len, 1) - 1) / zone_size_;
    for (uint64_t z = op.offset / zone_size_; z <= last && z < geo_.size() && v.size() < 4; ++z)
      v.push_back(static_cast<uint32_t>(z));
    return v;
  }

  // ---- divergences ----
  // Records a cell; returns false when the run must stop.
  bool Diverge(Cell cell, const std::string& detail) {
    if (!res_.diverged) {
      res_.diverged = true;
      std::string msg = fmt::format("zbl-diff: divergence at step {} (seed {}): {} [{}] {}\n{}",
                                    step_, o_.seed, cell.op, cell.cond, cell.outcome, detail);
      msg += fmt::format("  a = {}\n  b = {}\nlast {} operations:\n", o_.a, o_.b, history_.size());
      for (const auto& h : history_) msg += "  " + h + "\n";
      msg += fmt::format("reproduce: zbl-diff --seed {} --ops {} --a '{}' --b '{}'\n", o_.seed,
                         step_ + 1, o_.a, o_.b);
      res_.first_divergence = msg;
      log_ << msg;
    }
    CellStats& s = res_.cells[cell];
    if (s.count++ == 0) {
      s.first_step = step_;
      s.example = detail;
      if (!o_.assert_mode)
        log_ << fmt::format("zbl-diff: new cell at step {}: {} [{}] {}\n", step_, cell.op,
                            cell.cond, cell.outcome);
    }
    return !o_.assert_mode;
  }

  // Brings zone z back in step on both devices: reset it, or everything if that is not enough.
  void Resync(const std::vector<uint32_t>& zones) {
    ++epoch_;
    bool ok = true;
    for (uint32_t z : zones) {
      if (geo_[z].type == ZoneType::kConventional) continue;
      (void)a_.ZoneMgmt(ZoneOp::kReset, geo_[z].start, geo_[z].length);
      (void)b_.ZoneMgmt(ZoneOp::kReset, geo_[z].start, geo_[z].length);
      ok &= ReportOne(a_, z) == ReportOne(b_, z);
    }
    if (!ok) {
      (void)a_.ZoneResetAll();
      (void)b_.ZoneResetAll();
    }
  }

  bool Step() {
    Kind k = PickKind();
    uint32_t zi = PickZone(k);
    Zone pa = ReportOne(a_, zi);
    // B's state of a zone is known from the last report in which both agreed, until a step that
    // may close other zones to make room (an open resource taken) ends that epoch.
    Zone pb = known_[zi] == epoch_ ? pa : ReportOne(b_, zi);
    if (!(pa == pb)) {
      // A side effect of an earlier step (a zone closed to make room, say) shows here.
      bool go = Diverge({"side-effect", "", fmt::format("A {} / B {}", ZoneStr(pa), ZoneStr(pb))},
                        fmt::format("  zone {} before step: A {} / B {}\n", zi, ZoneDetail(pa),
                                    ZoneDetail(pb)));
      if (!go) return false;
      Resync({zi});
      pa = ReportOne(a_, zi);
      pb = pa;
    }
    Op op = Pick(k, pa);
    op.zone = zi;
    if (op.kind == Kind::kWriteConv && geo_[zi].type != ZoneType::kConventional) op.kind = Kind::kWriteAtWp;
    if (op.len && op.kind != Kind::kRead && op.kind != Kind::kReadPastWp) {
      data_.resize(op.len);
      Fill(data_, o_.seed, step_);
    }
    const std::string cond = geo_[zi].type == ZoneType::kConventional ? "CONV" : CondStr(pa);
    if (pa.condition == ZC::kEmpty || pa.condition == ZC::kClosed || op.kind == Kind::kResetAll ||
        op.kind == Kind::kWriteCrossZone || op.kind == Kind::kWriteCrossCap)
      ++epoch_;
    Answer aa = Apply(a_, op), ab = Apply(b_, op);
    res_.op_counts[Name(op.kind)]++;
    res_.outcome_counts[fmt::format("{} {} {}", Name(op.kind), cond, ErrName(aa.err))]++;
    history_.push_back(fmt::format("step {}: {} [{}] -> A {} | B {}", step_, OpStr(op), cond,
                                   AnswerStr(aa, op), AnswerStr(ab, op)));
    if (history_.size() > o_.history) history_.pop_front();
    std::vector<uint32_t> touched = Touched(op);
    const bool is_read = op.kind == Kind::kRead || op.kind == Kind::kReadPastWp;
    if (!aa.Same(ab, o_.compare_data || !is_read, &Runner::CanonThunk, this)) {
      std::string outcome = fmt::format("A={} B={}", ErrName(aa.err), ErrName(ab.err));
      if (aa.err == ab.err) outcome += aa.err ? "" : (op.kind == Kind::kRead || op.kind == Kind::kReadPastWp
                                                          ? " (data differs)"
                                                          : " (offset differs)");
      std::string detail = fmt::format("  operation: {}\n  zone before: {}\n  A: {}\n  B: {}\n",
                                       OpStr(op), ZoneDetail(pa), AnswerStr(aa, op), AnswerStr(ab, op));
      if (aa.err == 0 && ab.err == 0 && aa.bytes.size() == ab.bytes.size()) detail += DataDiff(aa, ab);
      for (uint32_t z : touched)
        detail += fmt::format("  zone {} after: A {} / B {}\n", z, ZoneDetail(ReportOne(a_, z)),
                              ZoneDetail(ReportOne(b_, z)));
      if (!Diverge({Name(op.kind), cond, outcome}, detail)) return false;
      Resync(touched);
      return true;
    }
    for (uint32_t z : touched) {
      Zone xa = ReportOne(a_, z), xb = ReportOne(b_, z);
      if (xa == xb) {
        known_[z] = epoch_;
        continue;
      }
      std::string detail = fmt::format("  operation: {} -> {}\n  zone {} before: {}\n  zone {} after: A {} / B {}\n",
                                       OpStr(op), AnswerStr(aa, op), zi, ZoneDetail(pa), z,
                                       ZoneDetail(xa), ZoneDetail(xb));
      std::string outcome = fmt::format("{}: after A {} / B {}", ErrName(aa.err), ZoneStr(xa), ZoneStr(xb));
      if (z != zi) outcome = "next zone " + outcome;
      if (!Diverge({Name(op.kind), cond, outcome}, detail)) return false;
      Resync(touched);
      break;
    }
    if (op.kind == Kind::kResetAll || op.kind == Kind::kReport) return FullCompare(Name(op.kind));
    return true;
  }

  bool FullCompare(const char* why) {
    auto ra = a_.ReportZones(0, 0), rb = b_.ReportZones(0, 0);
    if (!ra.ok() || !rb.ok() || ra->size() != rb->size()) {
      return Diverge({"full-report", why, fmt::format("A={} B={}", ErrName(ra.status().code()),
                                                       ErrName(rb.status().code()))},
                     "  full zone report failed or differs in length\n");
    }
    std::vector<uint32_t> bad;
    for (uint32_t i = 0; i < ra->size(); ++i) {
      const Zone xa = Normal((*ra)[i]), xb = Normal((*rb)[i]);
      if (xa == xb) continue;
      bad.push_back(i);
      bool go = Diverge({"side-effect", "", fmt::format("A {} / B {}", ZoneStr(xa), ZoneStr(xb))},
                        fmt::format("  zone {} in the {} full report: A {} / B {}\n", i, why,
                                    ZoneDetail(xa), ZoneDetail(xb)));
      if (!go) return false;
    }
    if (!bad.empty()) Resync(bad);
    return true;
  }

  const DiffOptions& o_;
  Backend &a_, &b_;
  std::ostream& log_;
  std::mt19937_64 rng_;
  DiffResult res_;
  uint64_t step_ = 0;
  uint64_t blk_ = 512, zone_size_ = 0, size_ = 0, max_append_ = 0;
  uint64_t total_weight_ = 0;
  std::vector<Zone> geo_;
  std::vector<uint64_t> known_;  // epoch in which A and B were last seen to agree on a zone
  uint64_t epoch_ = 0;
  std::vector<uint32_t> conv_, seq_, hot_;
  Buffer data_, rbuf_;
  std::deque<std::string> history_;
};

}  // namespace

Result<DiffResult> Run(const DiffOptions& opt, Backend& a, Backend& b, std::ostream& log) {
  Runner r(opt, a, b, log);
  return r.Go();
}

Result<DiffResult> Run(const DiffOptions& opt, std::ostream& log) {
  auto a = Backend::Open(opt.a);
  if (!a.ok()) return a.status().Annotate("device a");
  auto b = Backend::Open(opt.b);
  if (!b.ok()) return b.status().Annotate("device b");
  return Run(opt, **a, **b, log);
}

Result<std::pair<int, int>> ParseErrnoPair(std::string_view text) {
  auto one = [](std::string_view name) -> int {
    for (int e = 1; e < 256; ++e) {
      const char* n = strerrorname_np(e);
      if (n && name == n) return e;
    }
    int v = 0;
    for (char c : name) {
      if (c < '0' || c > '9') return 0;
      v = v * 10 + (c - '0');
    }
    return v;
  };
  size_t comma = text.find(',');
  if (comma == std::string_view::npos) return Error(EINVAL, "errno pair '{}' needs a comma", text);
  int a = one(text.substr(0, comma)), b = one(text.substr(comma + 1));
  if (a <= 0 || b <= 0) return Error(EINVAL, "errno pair '{}': unknown errno name", text);
  return std::pair{a, b};
}

std::string CellTable(const DiffResult& r) {
  size_t w0 = 2, w1 = 4, w2 = 7;
  for (const auto& [c, s] : r.cells) {
    w0 = std::max(w0, c.op.size());
    w1 = std::max(w1, c.cond.size());
    w2 = std::max(w2, c.outcome.size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>6}  {:>6}\n", "op", w0, "cond", w1,
                                "outcome", w2, "count", "first");
  for (const auto& [c, s] : r.cells)
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>6}  {:>6}\n", c.op, w0, c.cond, w1, c.outcome,
                       w2, s.count, s.first_step);
  return out;
}

nlohmann::json ToJson(const DiffOptions& opt, const DiffResult& r) {
  nlohmann::json j;
  j["seed"] = opt.seed;
  j["ops"] = opt.ops;
  j["a"] = opt.a;
  j["b"] = opt.b;
  j["assert"] = opt.assert_mode;
  j["chunk"] = opt.chunk;
  j["compare_data"] = opt.compare_data;
  j["cross_zone"] = opt.cross_zone;
  for (const auto& [x, y] : opt.errno_alias) j["errno_alias"].push_back(ErrName(x) + "," + ErrName(y));
  j["steps"] = r.steps;
  j["diverged"] = r.diverged;
  j["first_divergence"] = r.first_divergence;
  j["cells"] = nlohmann::json::array();
  for (const auto& [c, s] : r.cells)
    j["cells"].push_back({{"op", c.op}, {"cond", c.cond}, {"outcome", c.outcome}, {"count", s.count},
                          {"first_step", s.first_step}, {"example", s.example}});
  j["op_counts"] = r.op_counts;
  j["outcome_counts"] = r.outcome_counts;
  return j;
}

}  // namespace zbl::diff
