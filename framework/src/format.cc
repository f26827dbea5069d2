#include "zbl/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "zbl/buffer.h"

namespace zbl {

std::string Hex(uint64_t v) { return fmt::format("{:#x}", v); }

std::string SizeText(uint64_t v) {
  if (v == 0) {
    return "0";
  }
  if (v % (uint64_t{1} << 30) == 0) {
    return fmt::format("{}G", v >> 30);
  }
  if (v % (uint64_t{1} << 20) == 0) {
    return fmt::format("{}M", v >> 20);
  }
  if (v % (uint64_t{1} << 10) == 0) {
    return fmt::format("{}k", v >> 10);
  }
  return std::to_string(v);
}

void AlignedBuffer::Free::operator()(uint8_t* p) const { std::free(p); }

bool AlignedBuffer::Reset(size_t len, size_t align) {
  p_.reset();
  cap_ = 0;
  const size_t want = (std::max<size_t>(len, 1) + align - 1) / align * align;
  void* p = std::aligned_alloc(align, want);
  if (!p) {
    return false;
  }
  std::memset(p, 0, want);
  p_.reset(static_cast<uint8_t*>(p));
  cap_ = want;
  return true;
}

}  // namespace zbl
