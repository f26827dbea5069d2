// The fingerprint of a device: which variant it shows in each cell where families differ
// (families.h), from a quick probe of each cell on a device whose data may be destroyed.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "zbl/backend.h"

namespace zbl::suites {

struct ProbeResult {
  std::string variant;  // the variant observed; empty when not observed
  std::string skip;     // why this device cannot show the cell (no open limit, ...)
  std::string error;    // a step of the probe failed unexpectedly
};

struct Probe {
  std::string_view cell;
  ProbeResult (*run)(Backend&);
};

// One probe per cell of Cells(). Each starts with a reset-all and leaves the zones it used reset.
const std::vector<Probe>& Probes();
ProbeResult RunProbe(Backend& dev, std::string_view cell);

// Every observable cell's variant. With destructive = false only cells read from limits.
std::map<std::string, std::string> Fingerprint(Backend& dev, bool destructive = true);

}  // namespace zbl::suites
