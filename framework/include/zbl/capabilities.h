// Capabilities: what a device (a node, and so a backend) can do beyond Read/Write/Flush and the
// zone operations its limits promise. Data, not guesses: suites skip on a missing capability.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace zbl {

// What a node can do beyond Read/Write/Flush and the zone operations its limits promise. Read
// through one call, Node::capabilities(); an entry point whose capability is absent answers
// ENOTSUP. Filters declare their child's set, minus what they take away.
enum class Cap : uint32_t {
  kDiscard = 1u << 0,      // Discard frees a range; it reads back as zeros
  kResize = 1u << 1,       // Truncate sets the device's size
  kNativeQueue = 1u << 2,  // CreateQueue overlaps requests (not the synchronous fallback)
  kKeepsData = 1u << 3,    // reads return what was written (null_blk memory_backed=0 does not)
  kZoneAppend = 1u << 4,   // zone append done by the device itself (not emulated with writes)
  kPersistent = 1u << 5,   // data (and zone state) survives closing and reopening the device
};

class Capabilities {
 public:
  constexpr Capabilities() = default;
  constexpr Capabilities(std::initializer_list<Cap> caps) {
    for (Cap c : caps) bits_ |= static_cast<uint32_t>(c);
  }
  constexpr bool Has(Cap c) const { return (bits_ & static_cast<uint32_t>(c)) != 0; }
  constexpr Capabilities& Set(Cap c, bool on = true) {
    bits_ = on ? bits_ | static_cast<uint32_t>(c) : bits_ & ~static_cast<uint32_t>(c);
    return *this;
  }
  constexpr Capabilities With(Cap c, bool on = true) const { return Capabilities(*this).Set(c, on); }
  constexpr Capabilities Without(Cap c) const { return With(c, false); }
  constexpr bool operator==(const Capabilities&) const = default;
  // "discard, resize, keeps-data" (or "none").
  std::string ToString() const;

 private:
  uint32_t bits_ = 0;
};
// The name of one capability as ToString() and `info` show it ("native-queue").
std::string_view CapName(Cap c);
// Every capability, in bit order.
std::span<const Cap> AllCaps();

}  // namespace zbl
