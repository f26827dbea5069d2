// What zbl-suites leaves in its results folder besides GoogleTest's JSON: devices.json (schema
// zbl-devices/1, read by the report generator) and JUnit XML.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "configs.h"

namespace zbl::suites {

// One configuration's entry of devices.json; opens a fresh device and fingerprints it.
// Returns a null json when the configuration cannot run here.
nlohmann::json DescribeConfig(const Config& c);
// The whole devices.json document for `configs`.
nlohmann::json DevicesJson(const std::vector<const Config*>& configs);

// Writes devices.json (for the configurations whose tests ran) and the JUnit XML file when the
// test program ends.
::testing::TestEventListener* NewResultsListener(std::string dir, std::string xml_path);

}  // namespace zbl::suites
