// libFuzzer target: the option-string parser and Backend::Open on what it accepts (the checks
// are in options_check.cc).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "options_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zbl::fuzz::CheckOptionString(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
