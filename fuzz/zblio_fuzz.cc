// libFuzzer target: zbl-io's command lines (tools/zbl-io). Each input line is parsed with
// ParseCommandLine and run by the Shell against a small emulated device (output discarded).
// Invariants: nothing crashes, throws or hangs; a parse error is EINVAL with qemu-io's message;
// the device's limits never change.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "command_line.h"
#include "shell.h"
#include "zbl/backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto dev = zbl::Backend::Open(
      "driver=emulated,size=4M,zone-size=256k,zone-capacity=192k,conventional-zones=1,"
      "max-open-zones=2,max-active-zones=3,max-append-bytes=64k");
  if (!dev.ok()) std::abort();
  const zbl::Limits limits = (*dev)->limits();
  std::ostringstream out, err;
  zbl::io::Shell sh(dev->get(), out, err);
  size_t lines = 0;
  for (size_t p = 0; p <= text.size() && lines < 64; ++lines) {
    size_t q = text.find('\n', p);
    if (q == std::string_view::npos) q = text.size();
    const std::string_view line = text.substr(p, q - p);
    p = q + 1;
    auto parsed = zbl::io::ParseCommandLine(line);
    if (!parsed.ok() && (parsed.status().code() != EINVAL || parsed.status().message().empty())) {
      std::fprintf(stderr, "parse error without EINVAL and message: %s\n",
                   parsed.status().ToString().c_str());
      std::abort();
    }
    (void)sh.Execute(line);
    if (sh.quit_requested()) break;
    out.str("");
    err.str("");
  }
  if (!((*dev)->limits() == limits)) std::abort();
  return 0;
}
