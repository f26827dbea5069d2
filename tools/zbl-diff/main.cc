// zbl-diff: runs the same seeded operation sequence on two devices and compares every answer.
// Exit status: 0 no divergence (or --no-assert finished), 1 divergence, 2 usage or setup error.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "diff.h"

int main(int argc, char** argv) {
  zbl::diff::DiffOptions o;
  std::string json_path;
  bool no_assert = false;
  CLI::App app{"zbl-diff: differential runner over two zoned devices", "zbl-diff"};
  app.add_option("--seed", o.seed, "random seed")->default_val(1);
  app.add_option("--ops", o.ops, "operations to run")->default_val(10000);
  app.add_option("--a", o.a, "option string of device a (the reference)")->required();
  app.add_option("--b", o.b, "option string of device b")->required();
  app.add_option("--json", json_path, "write the result (cells, counts) as JSON here");
  app.add_option("--full-every", o.full_every, "full zone report every N steps (0 = at the end)")
      ->default_val(64);
  app.add_option("--chunk", o.chunk, "issue writes longer than this as several requests (bytes)");
  bool no_data = false;
  app.add_flag("--no-data", no_data, "compare only the status of reads, not the bytes");
  bool no_cross = false;
  app.add_flag("--no-cross-zone", no_cross, "keep every write inside one zone");
  std::vector<std::string> aliases;
  app.add_option("--errno-alias", aliases, "two errnos counted as the same answer, e.g. EIO,EREMOTEIO");
  app.add_flag("--no-assert", no_assert, "record every divergence cell instead of stopping");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  o.assert_mode = !no_assert;
  o.compare_data = !no_data;
  o.cross_zone = !no_cross;
  for (const auto& a : aliases) {
    auto p = zbl::diff::ParseErrnoPair(a);
    if (!p.ok()) {
      fmt::print(stderr, "zbl-diff: --errno-alias: {}\n", p.status().ToString());
      return 2;
    }
    o.errno_alias.push_back(*p);
  }
  auto r = zbl::diff::Run(o, std::cerr);
  if (!r.ok()) {
    fmt::print(stderr, "zbl-diff: {}\n", r.status().ToString());
    return 2;
  }
  if (!json_path.empty()) {
    std::ofstream f(json_path);
    f << zbl::diff::ToJson(o, *r).dump(2) << "\n";
    if (!f) {
      fmt::print(stderr, "zbl-diff: cannot write {}\n", json_path);
      return 2;
    }
  }
  fmt::print("zbl-diff: seed {} steps {}: {} ({} distinct cells)\n", o.seed, r->steps,
             r->diverged ? "DIVERGED" : "no divergence", r->cells.size());
  if (!r->cells.empty()) fmt::print("{}", zbl::diff::CellTable(*r));
  return r->diverged && o.assert_mode ? 1 : 0;
}
