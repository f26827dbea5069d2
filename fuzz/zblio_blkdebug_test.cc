// zbl-io over blkdebug: an injected failure prints qemu-io's failure line for the command
// ("write failed: Input/output error"), zbl's detail on stderr, returns the -errno, and leaves
// the device as it was. Built when tools/zbl-io (zbl_io_lib) is in the tree.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "shell.h"
#include "zbl/backend.h"
#include "zbl/driver.h"

namespace zbl {
namespace {

struct Case {
  const char* rule;     // inject-error.0.*
  const char* command;  // the zbl-io command line
  const char* line;     // qemu-io's failure line on stdout
  int err;
};

TEST(ZblIoBlkdebug, FailureLinesAndNothingChanges) {
  const Case cases[] = {
      {"event=write,errno=5", "write 0x100000 4k", "write failed: Input/output error", 5},
      {"event=read,errno=5", "read 0 4k", "read failed: Input/output error", 5},
      {"event=append,errno=28", "zap -p 0x100000 4k", "zone append failed: No space left on device", 28},
      {"event=report,errno=61", "zrp 0 2", "zone report failed: No data available", 61},
      {"event=reset,errno=1", "zrs 0x100000 1M", "zone reset failed: Operation not permitted", 1},
      {"event=open,errno=5", "zo 0x100000 1M", "zone open failed: Input/output error", 5},
      {"event=finish,errno=16", "zf 0x100000 1M", "zone finish failed: Device or resource busy", 16},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.command);
    std::string rule = std::string(c.rule);
    std::string opts = "driver=blkdebug,";
    for (size_t p = 0, q; p < rule.size(); p = q + 1) {
      q = rule.find(',', p);
      if (q == std::string::npos) q = rule.size();
      opts += "inject-error.0." + rule.substr(p, q - p) + ",";
    }
    opts += "file.driver=emulated,file.size=8M,file.zone-size=1M";
    auto b = Backend::Open(opts);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    std::vector<uint8_t> blk(4096, 0x33);
    ASSERT_TRUE((*b)->root().file()->Write(0x100000, blk.data(), blk.size()).ok());  // below blkdebug
    auto before = (*b)->root().file()->limits();
    std::vector<Zone> zones_before(8), zones_after(8);
    ASSERT_TRUE((*b)->root().file()->ReportZones(0, zones_before).ok());

    std::ostringstream out, err;
    io::Shell sh(b->get(), out, err);
    EXPECT_EQ(sh.Execute(c.command), -c.err);
    EXPECT_NE(out.str().find(std::string(c.line) + "\n"), std::string::npos) << out.str();
    EXPECT_NE(err.str().find("injected error"), std::string::npos) << err.str();

    ASSERT_TRUE((*b)->root().file()->ReportZones(0, zones_after).ok());
    EXPECT_EQ(zones_before, zones_after);
    EXPECT_EQ(before, (*b)->root().file()->limits());
  }
}

}  // namespace
}  // namespace zbl
