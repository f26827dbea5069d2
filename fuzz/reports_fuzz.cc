// libFuzzer target: zbl-report's result-JSON reading, merging and page model (reports/).
//
// Invariant (reports/src/diagnostics.h): reading never throws on bad input; a malformed or
// unexpected file becomes a warning. So any exception or crash from parse -> read -> merge ->
// model -> embedded JSON is a bug. The first byte picks the file name the reader sees (the
// VM harness's vm-devices.json is recognised by name).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "diagnostics.h"
#include "load.h"
#include "model.h"
#include "page.h"
#include "results.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string file = (data[0] & 1) ? "vm-devices.json" : "results.json";
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  zbl::report::Diagnostics diag;
  std::vector<zbl::report::Source> sources(1);
  auto doc = zbl::report::ParseResultJson(text, file, diag);
  if (doc) zbl::report::ReadDocument(*doc, file, file, sources[0], diag);
  zbl::report::FinishSource(sources[0], diag);
  sources[0].dir = "fuzz";
  zbl::report::AssignLabels(sources);
  zbl::report::ReportMeta meta;
  const nlohmann::json model = zbl::report::BuildModel(sources, diag, meta, nullptr);
  const std::string embedded = zbl::report::EmbedJson(model);
  (void)embedded;
  return 0;
}
