// The one aligned buffer: memory for O_DIRECT I/O (4 KiB aligned unless told otherwise), owned,
// movable, zero-filled when made. A failed allocation leaves it empty (data() == nullptr).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace zbl {

class AlignedBuffer {
 public:
  static constexpr size_t kAlign = 4096;
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t len, size_t align = kAlign) { Reset(len, align); }

  // Replaces the memory with `len` zeroed bytes (rounded up to the alignment); false (and empty)
  // when the allocation fails.
  bool Reset(size_t len, size_t align = kAlign);
  // Makes room for at least `len` bytes, keeping the memory when it is already large enough
  // (contents are then unspecified); false when the allocation fails.
  bool Reserve(size_t len, size_t align = kAlign) {
    return (len <= cap_ && p_) || Reset(len, align);
  }

  uint8_t* data() const { return p_.get(); }
  size_t size() const { return cap_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> p_;
  size_t cap_ = 0;
};

}  // namespace zbl
