// zbl-diff: a differential runner over the Backend API.
//
// The same seeded random sequence of operations runs against two devices; every result (errno,
// offset returned, bytes read) and the zone state after each step are compared. In assert mode
// the run stops at the first divergence; otherwise every distinct divergence "cell" (operation
// x zone condition before it x outcome pair) is recorded and the two devices are brought back
// in step (the zones involved are reset) so later steps stay meaningful.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "zbl/backend.h"
#include "zbl/status.h"

namespace zbl::diff {

struct DiffOptions {
  uint64_t seed = 1;
  uint64_t ops = 10000;
  std::string a, b;          // option strings
  bool assert_mode = true;   // stop at the first divergence
  uint32_t full_every = 64;  // a full zone report every this many steps (0 = only at the end)
  size_t history = 20;       // operations kept for a divergence message
  // Writes longer than this many bytes are issued as several requests (0 = one request). Linux
  // splits a long request into bios and the errno of a split request depends on how the block
  // layer chains them (see profile.h: split_write_errno); chunking keeps each request whole.
  uint64_t chunk = 0;
  // Compare the bytes reads return (off for devices whose unwritten data is undefined, as
  // null_blk with memory_backed=0 leaves the caller's buffer untouched).
  bool compare_data = true;
  // Writes may cross zone boundaries (off: every write stays inside its zone, for families where
  // the outcome of a split write is a race, see profile.h).
  bool cross_zone = true;
  // Pairs of errnos counted as the same answer (a family's allowed variants, profile.h).
  std::vector<std::pair<int, int>> errno_alias;
};

// One distinct way the two devices disagree.
struct Cell {
  std::string op;       // "write@wp", "close", ...
  std::string cond;     // condition of the zone before the operation ("EMPTY", "A:X/B:Y")
  std::string outcome;  // "A=EIO B=OK", "after: A CLOSED@start / B EMPTY@start"
  auto operator<=>(const Cell&) const = default;
};

struct CellStats {
  uint64_t count = 0;
  uint64_t first_step = 0;
  std::string example;  // the first step's operation and both answers
};

struct DiffResult {
  uint64_t steps = 0;           // operations run
  bool diverged = false;        // at least one divergence
  std::string first_divergence;  // seed, step, history and both answers
  std::map<Cell, CellStats> cells;
  std::map<std::string, uint64_t> op_counts;
  std::map<std::string, uint64_t> outcome_counts;  // "write@wp OK", "open ETOOMANYREFS", ...
};

// Checks that `a` and `b` have the same geometry and limits, zone by zone (types, capacities).
// The message names the first field that differs and both values.
Status CompareGeometry(Backend& a, Backend& b);

// Opens both devices, resets them and runs the sequence. Progress and the divergence message go
// to `log`. A setup failure (open, geometry) is an error; divergences are in the result.
Result<DiffResult> Run(const DiffOptions& opt, std::ostream& log);
// The same on devices already open (tests).
Result<DiffResult> Run(const DiffOptions& opt, Backend& a, Backend& b, std::ostream& log);

// "EIO,EREMOTEIO" -> {EIO, EREMOTEIO}; names as strerrorname_np prints them, or numbers.
Result<std::pair<int, int>> ParseErrnoPair(std::string_view text);

// The cell table as aligned text and as JSON (with the options and counts).
std::string CellTable(const DiffResult& r);
nlohmann::json ToJson(const DiffOptions& opt, const DiffResult& r);

}  // namespace zbl::diff
