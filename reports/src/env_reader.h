// Readers for zbl's own result files: devices.json (schema zbl-devices/1, from the suite
// runner), comparison results (schema zbl-compare/1, from the bench comparison command) and
// vm-devices.json (from the VM harness, kept as-is). Every field is optional.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "diagnostics.h"
#include "results.h"

namespace zbl::report {

void ReadDevices(const nlohmann::json& doc, const std::string& file, Source& src,
                 Diagnostics& diag);
void ReadCompare(const nlohmann::json& doc, const std::string& file, const std::string& rel,
                 Source& src, Diagnostics& diag);
void ReadVmDevices(const nlohmann::json& doc, const std::string& file, Source& src,
                   Diagnostics& diag);

// Warns when `schema` is present and not `expected` (a newer writer): the known fields are
// still read.
void CheckSchema(const nlohmann::json& doc, const std::string& expected, const std::string& file,
                 Diagnostics& diag);

// Adds "cell=variant" pairs (separated by ',' or ';') to a configuration's fingerprint, as
// recorded by tests with RecordProperty("variant", ...). `origin` says which test saw it; a cell
// already known with another variant is reported, not overwritten.
void AddVariants(const std::string& variants, const std::string& origin, DeviceConfig& config,
                 const std::string& file, Diagnostics& diag);

}  // namespace zbl::report
