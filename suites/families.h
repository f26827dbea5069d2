// Where zoned device families (Linux null_blk, NVMe ZNS, SCSI ZBC) legitimately differ: the
// suites' own table of "cells", written from the families' specifications and kernel code, not
// from the emulator's profiles, so that a test can disagree with the engine.
//
// Each cell lists the variants some family shows and, per family, the variants that family
// allows. A device shows one variant per cell; a variant no family allows fails, and a device
// held to a family (profile=, ZBL_PROFILE) fails on a variant its family does not allow.
//
// The kernel is part of the answer: a device's cells are what Linux's zoned block layer makes
// of the device, and that layer changed (zone write plugging, 6.10). `allowed` holds each
// family's answers through the current kernels (Linux 6.12 measured, which zbl's emulator and
// null_blk twin model); `by_kernel` replaces one family's answers on a range of kernel versions
// (measured on Linux 6.1 in ci/vm: `ci/vm/suites.sh --kernel 6.1`). A device whose answers come
// through the running kernel (host_device, null_blk backend=kernel) is judged with that
// kernel's answers only; zbl's own models are judged with `allowed`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zbl::suites {

inline constexpr std::string_view kFamilies[] = {"null_blk", "zns", "zbc"};

// A Linux version as KERNEL_VERSION(major, minor, patch) computes it.
constexpr uint32_t LinuxVersion(uint32_t major, uint32_t minor, uint32_t patch = 0) {
  return major << 16 | minor << 8 | (patch > 255 ? 255 : patch);
}
// "6.1.0-57-amd64", "6.12.118+deb12-amd64" -> the version; nullopt if it does not start with
// MAJOR.MINOR.
std::optional<uint32_t> ParseLinuxVersion(std::string_view release);
// "6.1", "6.12.118"
std::string LinuxVersionString(uint32_t v);
// The running kernel (uname -r), nullopt when unparsable.
std::optional<uint32_t> RunningLinuxVersion();

// One family's answers for a cell on kernels in [from, before) (0 = unbounded).
struct KernelAnswers {
  std::string_view family;
  uint32_t from = 0;
  uint32_t before = 0;
  std::vector<std::string_view> allowed;
  std::string_view why;  // what changed in Linux
};

struct Cell {
  std::string_view name;
  std::string_view what;
  // Per family, in kFamilies order: the variants that family allows (through Linux >= the
  // newest by_kernel range, and for zbl's own models).
  std::vector<std::vector<std::string_view>> allowed;
  // Per family and kernel range, answers that replace `allowed` there.
  std::vector<KernelAnswers> by_kernel = {};
};

// Every cell, in a fixed order.
const std::vector<Cell>& Cells();
const Cell* FindCell(std::string_view name);

// The variants `family` allows for `cell` on `kernel` (nullopt: `allowed`, zbl's models).
const std::vector<std::string_view>& AllowedVariants(const Cell& cell, size_t family,
                                                     std::optional<uint32_t> kernel);

// "" when `variant` is acceptable for `cell` (for `family` when given, on `kernel` when given),
// else why not. An unknown family name is itself an error.
std::string JudgeVariant(std::string_view cell, std::string_view variant,
                         const std::optional<std::string>& family,
                         std::optional<uint32_t> kernel = std::nullopt);

// The one family every observed cell agrees with (on `kernel` when given); "mixed" when no
// family allows them all; "unknown" when nothing was observed or the cells seen fit several.
std::string MatchFamily(const std::map<std::string, std::string>& observed,
                        std::optional<uint32_t> kernel = std::nullopt);

// The read_unwritten variant of a read into a buffer pre-filled with `prefill`: "error",
// "zeros", "untouched" (the buffer as it was), "fill_pattern" (one repeated non-zero byte),
// else "data".
std::string ReadVariant(bool ok, const std::vector<uint8_t>& got, uint8_t prefill);

// errno as a variant name: "eio", "einval", "etoomanyrefs", ... ("ok" for 0).
std::string ErrnoVariant(int err);

}  // namespace zbl::suites
