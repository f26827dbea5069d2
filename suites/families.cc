#include "families.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace zbl::suites {
namespace {

using V = std::vector<std::string_view>;

// Sources: Linux drivers/block/null_blk/zoned.c; the NVMe ZNS command set and Linux's
// nvme_zone_parse_entry (a FULL zone reports its write pointer at the zone end); SCSI ZBC and
// Linux's sd_zbc_parse_report (same), scsi_debug's zbc handling.
std::vector<Cell> MakeCells() {
  return {
      {"close_at_start", "close of an explicitly-open zone whose write pointer is at its start",
       {V{"empty"}, V{"closed"}, V{"empty"}}},
      {"full_wp_written", "write pointer of a zone filled by writes (capacity < zone size)",
       {V{"capacity_end"}, V{"zone_end"}, V{"zone_end"}}},
      {"full_wp_finished", "write pointer of a zone made FULL by finish",
       {V{"zone_end"}, V{"zone_end"}, V{"zone_end"}}},
      {"open_full", "explicit open of a FULL zone",
       {V{"error"}, V{"error"}, V{"noop"}}},
      {"close_empty", "close of an EMPTY zone", {V{"error"}, V{"error"}, V{"noop"}}},
      {"close_full", "close of a FULL zone", {V{"error"}, V{"error"}, V{"noop"}}},
      {"finish_without_resources",
       "finish of an EMPTY zone while explicitly-open zones use every open resource",
       {V{"fails"}, V{"succeeds"}, V{"succeeds"}}},
      {"evict_policy", "which implicitly-open zone is closed to make room for another",
       {V{"round_robin"}, V{"oldest"}, V{"lowest"}}},
      // Linux null_blk fills 0xFF above the write pointer when memory-backed and leaves the
      // buffer untouched otherwise (null_transfer); the emulator's null_blk profile fills 0xFF.
      // Two variants, one per configuration (memory_backed), each deterministic. scsi_debug
      // returns zeros (ci/vm/diff.sh, Linux 6.12); a ZBC disk without unrestricted reads would
      // fail the read, but none has been measured, so the family allows only what was seen.
      {"read_unwritten", "a read of blocks above the write pointer",
       {V{"fill_pattern", "untouched"}, V{"zeros"}, V{"zeros"}}},
      {"cross_zone_write", "a write from one zone's last block into the next zone's first",
       {V{"split"}, V{"split"}, V{"split"}}},
      // Refused by zbl's Backend before any device, as QEMU's block layer does (qemu-io 10 on
      // all three kernel families: EINVAL; ci/vm/errno-cells.sh append_not_start).
      {"append_not_zone_start", "zone append aimed inside a zone, not at its start",
       {V{"einval"}, V{"einval"}, V{"einval"}}},
      // A write the device itself judges: ahead of the write pointer of an EMPTY zone, at the
      // write pointer past the capacity, below the capacity of a FULL zone. Linux reports
      // SCSI's check condition as EREMOTEIO, every time (scsi_debug, Linux 6.12.118, qemu-io
      // three runs per state: ci/vm/errno-cells.sh).
      {"write_violation_errno", "errno of a write the device refuses (not at the write pointer)",
       {V{"eio"}, V{"eio"}, V{"eremoteio"}}},
      // A write Linux 6.12's zone write plug refuses before the device: off the write pointer
      // of a zone written since it was EMPTY or FULL, or into the gap after the capacity. EIO
      // in every family, every time (same measurement). Linux before 6.10 has no zone write
      // plug: the write reaches the device, and scsi_debug's check condition is what a user sees
      // (measured on 6.1.0-57 in ci/vm, suites.sh --kernel 6.1: EREMOTEIO every time; null_blk
      // and ZNS refuse with EIO themselves, the same answer as the plug's).
      {"write_plug_errno", "errno of a write off the write pointer Linux tracks for a written zone",
       {V{"eio"}, V{"eio"}, V{"eio"}},
       {{"zbc", 0, LinuxVersion(6, 10), V{"eremoteio"},
         "no zone write plugging before 6.10: the write reaches the device, EREMOTEIO"}}},
      {"transition_errno", "errno of a zone operation its condition does not allow",
       {V{"eio"}, V{"eio"}, V{"eio"}}},
      {"active_limit", "the device limits active zones",
       {V{"present", "absent"}, V{"present", "absent"}, V{"absent"}}},
  };
}

bool Contains(const V& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }

int FamilyIndex(std::string_view f) {
  for (size_t i = 0; i < std::size(kFamilies); ++i)
    if (kFamilies[i] == f) return static_cast<int>(i);
  return -1;
}

std::string Join(const V& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : "|") + std::string(x);
  return s;
}

}  // namespace

std::optional<uint32_t> ParseLinuxVersion(std::string_view r) {
  const char* p = r.data();
  const char* end = p + r.size();
  auto number = [&](uint32_t& out) {
    auto [next, ec] = std::from_chars(p, end, out);
    if (ec != std::errc() || next == p) return false;
    p = next;
    return true;
  };
  uint32_t major = 0, minor = 0, patch = 0;
  if (!number(major) || p == end || *p++ != '.' || !number(minor)) return std::nullopt;
  if (p != end && *p == '.') {
    ++p;
    if (!number(patch)) patch = 0;
  }
  return LinuxVersion(major, minor, patch);
}

std::string LinuxVersionString(uint32_t v) {
  std::string s = std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 255);
  if (v & 255) s += "." + std::to_string(v & 255);
  return s;
}

std::optional<uint32_t> RunningLinuxVersion() {
  utsname u{};
  if (uname(&u) != 0) return std::nullopt;
  return ParseLinuxVersion(u.release);
}

const std::vector<std::string_view>& AllowedVariants(const Cell& c, size_t family,
                                                     std::optional<uint32_t> kernel) {
  if (kernel)
    for (const KernelAnswers& k : c.by_kernel)
      if (k.family == kFamilies[family] && (k.from == 0 || *kernel >= k.from) &&
          (k.before == 0 || *kernel < k.before))
        return k.allowed;
  return c.allowed[family];
}

const std::vector<Cell>& Cells() {
  static const std::vector<Cell> cells = MakeCells();
  return cells;
}

const Cell* FindCell(std::string_view name) {
  for (const Cell& c : Cells())
    if (c.name == name) return &c;
  return nullptr;
}

std::string JudgeVariant(std::string_view cell, std::string_view variant,
                         const std::optional<std::string>& family, std::optional<uint32_t> kernel) {
  const Cell* c = FindCell(cell);
  if (!c) return "unknown cell '" + std::string(cell) + "'";
  V any;
  for (const V& v : c->allowed)
    for (auto x : v)
      if (!Contains(any, x)) any.push_back(x);
  for (const KernelAnswers& k : c->by_kernel)
    for (auto x : k.allowed)
      if (!Contains(any, x)) any.push_back(x);
  if (!Contains(any, variant))
    return "cell '" + std::string(cell) + "' (" + std::string(c->what) + "): variant '" +
           std::string(variant) + "' is allowed by no family (allowed: " + Join(any) + ")";
  if (!family) return "";
  int i = FamilyIndex(*family);
  if (i < 0) return "unknown family '" + *family + "' (null_blk, zns or zbc)";
  const V& allowed = AllowedVariants(*c, static_cast<size_t>(i), kernel);
  if (!Contains(allowed, variant)) {
    std::string on = kernel ? " on Linux " + LinuxVersionString(*kernel) : "";
    for (const KernelAnswers& k : c->by_kernel)
      if (&k.allowed == &allowed) on += " (" + std::string(k.why) + ")";
    return "cell '" + std::string(cell) + "' (" + std::string(c->what) + "): family '" + *family +
           "'" + on + " allows " + Join(allowed) + ", the device showed '" +
           std::string(variant) + "'";
  }
  return "";
}

std::string MatchFamily(const std::map<std::string, std::string>& observed,
                        std::optional<uint32_t> kernel) {
  if (observed.empty()) return "unknown";
  std::vector<std::string_view> agree;
  for (std::string_view f : kFamilies) {
    bool all = true;
    for (const auto& [cell, variant] : observed)
      if (FindCell(cell) && !JudgeVariant(cell, variant, std::string(f), kernel).empty())
        all = false;
    if (all) agree.push_back(f);
  }
  if (agree.size() == 1) return std::string(agree[0]);
  // Several agree: the cells seen cannot tell those families apart.
  return agree.empty() ? "mixed" : "unknown";
}

std::string ReadVariant(bool ok, const std::vector<uint8_t>& got, uint8_t prefill) {
  if (!ok) return "error";
  auto all = [&](uint8_t v) { return std::all_of(got.begin(), got.end(), [v](uint8_t b) { return b == v; }); };
  if (got.empty() || all(0)) return "zeros";
  if (all(prefill)) return "untouched";
  if (all(got[0])) return "fill_pattern";
  return "data";
}

std::string ErrnoVariant(int err) {
  switch (err) {
    case 0: return "ok";
    case EIO: return "eio";
    case EINVAL: return "einval";
    case ETOOMANYREFS: return "etoomanyrefs";
    case EOVERFLOW: return "eoverflow";
    case ENOTSUP: return "enotsup";
    case ENOSPC: return "enospc";
    case EREMOTEIO: return "eremoteio";
    case EBADF: return "ebadf";
    default: return "errno" + std::to_string(err);
  }
}

}  // namespace zbl::suites
