// A fuzzed emulated device with invariants, shared by the libFuzzer target (device_fuzz.cc) and
// the gtest that replays random and corpus inputs in every build (device_checker_test.cc).
//
// The checker keeps a shadow of every byte it wrote and, before each state-changing request, a
// zone report. After each step it checks: write pointers inside their zones; open/active counts
// from the report within the limits; a failed request changed neither the report nor the data
// (except what the device's family documents: a multi-zone request is one command per zone, and
// a ZNS device closes an implicitly-open zone before checking resources); written data reads
// back; reset frees (reads return zeros). A violation prints what broke and aborts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "zbl/backend.h"

namespace zbl::fuzz {

// Reads little pieces of the fuzz input; past the end it gives zeros.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() | (U8() << 8)); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

class DeviceChecker {
 public:
  // Decodes the configuration (profile from the first byte); null if the device refuses it.
  static std::unique_ptr<DeviceChecker> Create(ByteReader& in);
  // Decodes and runs one request, then checks the invariants.
  void Step(ByteReader& in);
  // Reads the whole device and compares it with the shadow.
  void CheckWholeDevice();
  const std::string& option_string() const { return option_string_; }

 private:
  enum class Kind { kRead, kWrite, kAppend, kReport, kZoneOp, kResetAll, kFlush };
  struct Request {
    Kind kind = Kind::kRead;
    ZoneOp op = ZoneOp::kOpen;
    uint64_t offset = 0;
    uint64_t len = 0;
    uint32_t max_zones = 0;
  };

  DeviceChecker(std::unique_ptr<Backend> b, std::string opts);
  Request Decode(ByteReader& in) const;
  uint64_t DecodeOffset(ByteReader& in, bool zone_start) const;
  uint64_t DecodeLength(ByteReader& in) const;
  void Run(const Request& r);
  std::vector<Zone> Report() const;
  void CheckReport(const std::vector<Zone>& zones) const;
  void CheckRange(uint64_t offset, uint64_t len, const char* why);
  // What a read of [lo, lo+n) must return: the shadow, with the family's fill at and above each
  // sequential zone's write pointer.
  void ExpectedInto(uint64_t lo, uint64_t n, const std::vector<Zone>& zones,
                    std::vector<uint8_t>& out) const;
  void ReadAndCompare(uint64_t lo, uint64_t n, const std::vector<Zone>& zones, const char* why);
  void FillPattern(uint64_t offset, uint64_t len);
  // After a request that failed: `before` vs now, allowing only the documented partial effects.
  void CheckFailed(const Request& r, const std::vector<Zone>& before, const std::vector<Zone>& after);
  bool MustSucceed(const Request& r, const std::vector<Zone>& before) const;
  void ApplyWrite(uint64_t offset, uint64_t len);
  void ApplyReset(const Zone& z);
  [[noreturn]] void Fail(const std::string& what) const;

  std::unique_ptr<Backend> b_;
  std::string option_string_;
  Limits lim_;
  // Reused from one checker to the next in a thread: fresh pages cost more than the checks.
  std::vector<uint8_t>& shadow_;  // expected content of the whole device
  std::vector<uint8_t> expected_;
  uint8_t fill_ = 0;              // what the family returns above the write pointer
  int read_across_cap_err_ = 0;   // errno of a read from below capacity into the gap (0: allowed)
  std::vector<uint8_t>& buf_;     // the data of the request being run
  std::vector<uint8_t>& read_;
  uint64_t serial_ = 0;
  bool evicts_before_check_ = false;  // zns: a failed open may still close an implicit one
  unsigned steps_ = 0;
  bool trace_ = false;  // ZBL_FUZZ_TRACE set: print each request
};

}  // namespace zbl::fuzz
