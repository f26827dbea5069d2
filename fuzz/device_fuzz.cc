// libFuzzer target: bytes become a device configuration and a sequence of backend requests on
// an emulated zoned device; after every step the harness checks the invariants every family
// must keep (fuzz/device_checker.h). Any violation aborts with a message naming it.
#include <cstddef>
#include <cstdint>

#include "device_checker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zbl::fuzz::ByteReader in(data, size);
  auto checker = zbl::fuzz::DeviceChecker::Create(in);
  if (!checker) return 0;  // a configuration the device refuses is fine: nothing to check
  while (!in.empty()) checker->Step(in);
  checker->CheckWholeDevice();
  return 0;
}
