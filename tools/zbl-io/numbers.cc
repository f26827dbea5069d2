#include "numbers.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace zbl::io {
namespace {

// Multiplier of a size suffix (binary units), or -1 when `c` is not one.
int64_t SuffixMultiplier(char c) {
  switch (std::toupper(static_cast<unsigned char>(c))) {
    case 'B': return 1;
    case 'K': return int64_t{1} << 10;
    case 'M': return int64_t{1} << 20;
    case 'G': return int64_t{1} << 30;
    case 'T': return int64_t{1} << 40;
    case 'P': return int64_t{1} << 50;
    case 'E': return int64_t{1} << 60;
    default: return -1;
  }
}

struct Parsed {
  int err = 0;              // 0 or a negative errno
  const char* end = nullptr;  // first character not consumed
};

// The leading unsigned decimal integer, refusing a minus sign with ERANGE (as QEMU's
// parse_uint does, so "-1" reads as "too large" rather than as garbage).
Parsed LeadingDecimal(const char* s, uint64_t* value) {
  char* e = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &e, 10);
  Parsed p{0, e};
  *value = v;
  if (errno != 0) {
    p.err = -errno;
    return p;
  }
  if (e == s) {
    p.err = -EINVAL;
    return p;
  }
  const char* t = s;
  while (std::isspace(static_cast<unsigned char>(*t))) ++t;
  if (*t == '-') {
    *value = 0;
    p.err = -ERANGE;
  }
  return p;
}

// The fractional part starting at `from` (".5k" style), as a 64-bit fixed-point fraction.
// An exponent is never part of the number here: 'e' is the exabyte suffix.
Parsed Fraction(const char* from, uint64_t* val, uint64_t* valf) {
  std::string copy(from);
  if (size_t e = copy.find_first_of("eE"); e != std::string::npos) copy.resize(e);
  char* tail = nullptr;
  errno = 0;
  double fraction = std::strtod(copy.c_str(), &tail);
  int libc_errno = errno;
  Parsed p{0, from + (tail - copy.c_str())};
  if (!std::isfinite(fraction) || (libc_errno == 0 && tail == copy.c_str())) {
    p.err = -EINVAL;
    p.end = from;
    return p;
  }
  if (std::signbit(fraction)) {
    p.err = -ERANGE;
    return p;
  }
  if (fraction == 1.0) {
    if (*val == UINT64_MAX) {
      p.err = -ERANGE;
      return p;
    }
    ++*val;
  } else if (libc_errno == ERANGE) {
    *valf = 1;  // underflow: a non-zero fraction too small for a double
  } else {
    *valf = static_cast<uint64_t>(fraction * 0x1p64);
    if (*valf == 0 && fraction > 0.0) *valf = 1;
  }
  return p;
}

// qemu_strtosz with the whole text to be consumed.
int Strtosz(const char* nptr, uint64_t* result) {
  uint64_t val = 0, valf = 0;
  Parsed p = LeadingDecimal(nptr, &val);
  const char* end = p.end;
  int err = p.err;
  auto finish = [&]() {
    if (*end != '\0') err = -EINVAL;
    *result = err == 0 ? val : 0;
    return err;
  };
  if (err == -ERANGE) return finish();
  if (err == 0 && val == 0 && (*end == 'x' || *end == 'X')) {
    // Hex: no fraction and no suffix ("0x1b" is 27, not 1 with a byte suffix).
    char* e = nullptr;
    errno = 0;
    val = std::strtoull(nptr, &e, 16);
    end = e;
    if (errno != 0) {
      err = -errno;
      return finish();
    }
    if (*end == '.' || SuffixMultiplier(*end) > 0) {
      end = nptr;
      err = -EINVAL;
      return finish();
    }
  } else if (*end == '.' || (end == nptr && std::strchr(nptr, '.') != nullptr)) {
    if (err == 0 && *end == '.' && !std::isdigit(static_cast<unsigned char>(end[1]))) {
      ++end;  // "1." and "1.k": a point without digits
    } else {
      Parsed f = Fraction(end, &val, &valf);
      err = f.err;
      end = f.end;
    }
  }
  if (err != 0) return finish();
  int64_t mul = SuffixMultiplier(*end);
  if (mul > 0) {
    ++end;
  } else {
    mul = 1;
  }
  if (mul == 1) {
    if (valf != 0) {  // a fraction needs a unit larger than a byte
      end = nptr;
      err = -EINVAL;
      return finish();
    }
  } else {
    using u128 = unsigned __int128;
    u128 whole = static_cast<u128>(val) * static_cast<uint64_t>(mul);
    u128 frac = static_cast<u128>(valf) * static_cast<uint64_t>(mul);
    whole += frac >> 64;
    whole += static_cast<uint64_t>(frac) >> 63;  // round half up
    if ((whole >> 64) != 0) {
      err = -ERANGE;
      return finish();
    }
    val = static_cast<uint64_t>(whole);
  }
  err = 0;
  return finish();
}

}  // namespace

int64_t Cvtnum(std::string_view text) {
  std::string s(text);
  uint64_t v = 0;
  int err = Strtosz(s.c_str(), &v);
  if (err < 0) return err;
  if (v > static_cast<uint64_t>(INT64_MAX)) return -ERANGE;
  return static_cast<int64_t>(v);
}

std::string CvtnumError(int64_t rc, std::string_view arg) {
  switch (rc) {
    case -EINVAL:
      return "Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- " +
             std::string(arg);
    case -ERANGE:
      return "Parsing error: argument too large -- " + std::string(arg);
    default:
      return "Parsing error: " + std::string(arg);
  }
}

std::string Cvtstr(double value) {
  struct Unit {
    int shift;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{60, " EiB"}, {50, " PiB"}, {40, " TiB"},
                                    {30, " GiB"}, {20, " MiB"}, {10, " KiB"}};
  char buf[64];
  const char* suffix = " bytes";
  bool scaled = false;
  for (const Unit& u : kUnits) {
    double unit = std::ldexp(1.0, u.shift);
    if (value >= unit) {
      std::snprintf(buf, sizeof(buf), "%.3f", value / unit);
      suffix = u.suffix;
      scaled = true;
      break;
    }
  }
  if (!scaled) std::snprintf(buf, sizeof(buf), "%f", value);
  std::string s(buf);
  // "4.000" prints as "4": qemu-io cuts at the first ".000".
  if (size_t p = s.find(".000"); p != std::string::npos) s.resize(p);
  return s + suffix;
}

std::string Timestr(std::chrono::nanoseconds elapsed, bool fixed) {
  long long total_ns = elapsed.count();
  if (total_ns < 0) total_ns = 0;
  unsigned long long sec = static_cast<unsigned long long>(total_ns / 1000000000);
  double frac = static_cast<double>(total_ns % 1000000000) / 1e9;
  char buf[64];
  if (fixed || sec != 0) {
    std::snprintf(buf, sizeof(buf), "%u:%02u:%05.2f", static_cast<unsigned>(sec / 3600),
                  static_cast<unsigned>((sec % 3600) / 60), static_cast<double>(sec % 60) + frac);
  } else {
    std::snprintf(buf, sizeof(buf), "%05.2f sec", frac);
  }
  return buf;
}

int ParsePattern(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 0);
  if (v < 0 || v > UCHAR_MAX || *end != '\0') return -1;
  return static_cast<int>(v);
}

}  // namespace zbl::io
