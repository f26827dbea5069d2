// The data the crash writer puts at each device offset, so a checker can recognise it.
#pragma once

#include <cstdint>
#include <cstring>

namespace zbl::persist_test {

inline uint64_t PatternWord(uint64_t offset) { return (offset + 1) * 0x9E3779B97F4A7C15ull; }

// Fills `len` bytes (a multiple of 8) meant for device offset `offset`.
inline void Fill(uint8_t* buf, uint64_t offset, uint64_t len) {
  for (uint64_t i = 0; i < len; i += 8) {
    const uint64_t w = PatternWord(offset + i);
    std::memcpy(buf + i, &w, 8);
  }
}

// The first offset in [offset, offset+len) whose bytes are not the pattern, or offset+len.
inline uint64_t FirstMismatch(const uint8_t* buf, uint64_t offset, uint64_t len) {
  for (uint64_t i = 0; i < len; i += 8) {
    uint64_t w;
    std::memcpy(&w, buf + i, 8);
    if (w != PatternWord(offset + i)) return offset + i;
  }
  return offset + len;
}

}  // namespace zbl::persist_test
