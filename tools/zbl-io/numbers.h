// Numbers as qemu-io reads and prints them (QEMU's cvtnum, cvtstr, timestr and parse_pattern).
//
// zbl-io must accept exactly the argument texts qemu-io accepts and reject the others with the
// same message, so these follow qemu_strtosz's rules rather than zbl::ParseSize's: decimal with
// an optional binary suffix (b k M G T P E, any case), a fraction only together with a suffix
// larger than a byte ("1.5k"), 0x hex without fraction or suffix, negative values rejected as
// "too large" (ERANGE), anything left over rejected as EINVAL.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace zbl::io {

// The value of `text`, or a negative errno (-EINVAL, -ERANGE); values above INT64_MAX are
// -ERANGE, as in qemu-io.
int64_t Cvtnum(std::string_view text);
// qemu-io's message for a failed Cvtnum (without the newline):
// "Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- abc".
std::string CvtnumError(int64_t rc, std::string_view arg);

// A byte count as qemu-io prints it: "512 bytes", "4 KiB", "1.500 MiB".
std::string Cvtstr(double value);
// An elapsed time as qemu-io prints it: "00.00 sec" under a second, else "H:MM:SS.ss";
// `fixed` forces the "H:MM:SS.ss" form (the -C output).
std::string Timestr(std::chrono::nanoseconds elapsed, bool fixed);

// A -P pattern byte (strtol base 0, 0..255, whole text), or -1 when invalid.
int ParsePattern(std::string_view text);

}  // namespace zbl::io
