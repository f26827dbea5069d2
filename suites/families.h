// Where zoned device families (Linux null_blk, NVMe ZNS, SCSI ZBC) legitimately differ: the
// suites' own table of "cells", written from the families' specifications and kernel code, not
// from the emulator's profiles, so that a test can disagree with the engine.
//
// Each cell lists the variants some family shows and, per family, the variants that family
// allows. A device shows one variant per cell; a variant no family allows fails, and a device
// held to a family (profile=, ZBL_PROFILE) fails on a variant its family does not allow.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zbl::suites {

inline constexpr std::string_view kFamilies[] = {"null_blk", "zns", "zbc"};

struct Cell {
  std::string_view name;
  std::string_view what;
  // Per family, in kFamilies order: the variants that family allows.
  std::vector<std::vector<std::string_view>> allowed;
};

// Every cell, in a fixed order.
const std::vector<Cell>& Cells();
const Cell* FindCell(std::string_view name);

// "" when `variant` is acceptable for `cell` (for `family` when given), else why not. An unknown
// family name is itself an error.
std::string JudgeVariant(std::string_view cell, std::string_view variant,
                         const std::optional<std::string>& family);

// The one family every observed cell agrees with; "mixed" when no family allows them all;
// "unknown" when nothing was observed or the cells seen fit several families.
std::string MatchFamily(const std::map<std::string, std::string>& observed);

// The read_unwritten variant of a read into a buffer pre-filled with `prefill`: "error",
// "zeros", "untouched" (the buffer as it was), "fill_pattern" (one repeated non-zero byte),
// else "data".
std::string ReadVariant(bool ok, const std::vector<uint8_t>& got, uint8_t prefill);

// errno as a variant name: "eio", "einval", "etoomanyrefs", ... ("ok" for 0).
std::string ErrnoVariant(int err);

}  // namespace zbl::suites
