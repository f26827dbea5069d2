// Helper of persist_test's crash test: writes and appends to a persistent emulated image with
// periodic flushes, forever, and after every successful flush prints the write pointer of each
// zone ("F <zone> <wp>") on stdout; before a reset it prints "R <zone>". The test kills it with
// SIGKILL at random points and checks the reopened image against what was printed.
//   persist_crash_writer <option string> <seed>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "persist_pattern.h"
#include "zbl/backend.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <options> <seed>\n", argv[0]);
    return 2;
  }
  auto b = zbl::Backend::Open(argv[1]);
  if (!b.ok()) {
    std::fprintf(stderr, "open: %s\n", b.status().ToString().c_str());
    return 1;
  }
  zbl::Backend& dev = **b;
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  const uint64_t zs = dev.limits().zone_size;
  const uint32_t nz = dev.limits().nr_zones;
  std::vector<uint8_t> buf(64 << 10);
  unsigned since_flush = 0, flush_every = 1 + rng() % 8;
  for (;;) {
    auto zones = dev.ReportZones(0, 0);
    if (!zones.ok()) return 1;
    const uint32_t z = static_cast<uint32_t>(rng() % nz);
    const zbl::Zone& zd = (*zones)[z];
    if (zd.type == zbl::ZoneType::kConventional) continue;
    const uint64_t end = zd.start + zd.capacity;
    if (zd.write_pointer >= end || rng() % 50 == 0) {
      std::printf("R %u\n", z);
      std::fflush(stdout);
      if (!dev.ZoneMgmt(zbl::ZoneOp::kReset, zd.start, zs).ok()) return 1;
      continue;
    }
    const uint64_t len = std::min<uint64_t>((1 + rng() % 16) * 4096, end - zd.write_pointer);
    zbl::persist_test::Fill(buf.data(), zd.write_pointer, len);
    if (rng() % 2) {
      auto at = dev.ZoneAppend(zd.start, buf.data(), len);
      if (!at.ok() || *at != zd.write_pointer) return 1;
    } else if (!dev.Write(zd.write_pointer, buf.data(), len).ok()) {
      return 1;
    }
    if (++since_flush >= flush_every) {
      if (!dev.Flush().ok()) return 1;
      auto after = dev.ReportZones(0, 0);
      if (!after.ok()) return 1;
      std::string msg;
      for (const zbl::Zone& d : *after)
        msg += "F " + std::to_string(d.start / zs) + " " + std::to_string(d.write_pointer) + "\n";
      if (write(1, msg.data(), msg.size()) < 0) return 1;
      since_flush = 0;
      flush_every = 1 + rng() % 8;
    }
  }
}
