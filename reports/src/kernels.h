// The kernel dimension of a fleet: the same device folder run under several kernels (ci/main.sh
// puts ci/vm/suites.sh's results under results-vm/<kernel series>/<device>/). Sources are the
// same device when their folder names are equal; their kernel is the environment's (devices.json
// records `uname -r` of the machine that ran the suites). For every configuration tested on the
// same device under two or more kernels, the view lists each rule whose outcome (or recorded
// variant) differs and each fingerprint cell whose variant differs, with every kernel's answer.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "results.h"

namespace zbl::report {

// The device a source is: its folder's name ("zbc" for results-vm/6.1/zbc).
std::string DeviceKey(const Source& s);

// {"kernels": [release...] (sorted, every kernel any source names),
//  "devices": [{device, sources: [index...], kernels: [release...]}] (devices seen under >= 2
//              kernels),
//  "changes": [{device, config, kind: "rule"|"cell", suite?, name,
//               answers: [{kernel, source, answer, status?, message?}]}]}
// An answer is a rule's outcome ("pass", "fail", "skip", with its variant when recorded:
// "pass (write_violation_errno=eio)") or a cell's variant; a kernel that lacks the rule or cell
// answers "absent". Changes are ordered by device, then cells before rules, each by
// configuration and name.
nlohmann::json KernelView(const std::vector<Source>& sources);

}  // namespace zbl::report
