// Bad input: every request class of the catalogue returns its errno, names what was wrong, and
// leaves the device unchanged. One rule per class; the cases are in bad_input_catalogue.cc.
#include <algorithm>
#include <cctype>
#include <set>

#include "bad_input_catalogue.h"
#include "families.h"
#include "fixture.h"

namespace zbl::suites {
namespace {

namespace bi = zbl::bad_input;

// The suite's rules, one per catalogue class.
constexpr std::string_view kCovered[] = {"io_alignment", "io_range",     "zone_range",
                                         "append",       "not_zoned",    "write_pointer",
                                         "conventional", "fault_zone",   "queue"};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

class BadInput : public DeviceTest {
 protected:
  // What a rejected request must not change: the zones near the prepared ones, and their data.
  struct Snapshot {
    std::vector<Zone> zones;
    std::vector<uint8_t> data;
    bool operator==(const Snapshot&) const = default;
  };
  Snapshot Take(const bi::Target& t) {
    Snapshot s;
    const uint64_t wb = facts().wblock;
    if (DataKept()) {
      s.data.resize(2 * wb);
      uint64_t at = t.has_sequential ? ZoneStart(t.open_zone) : 0;
      EXPECT_TRUE(dev().Read(at, s.data.data(), s.data.size()).ok());
    }
    if (lim().zoned()) s.zones = ReportRange(0, std::min<uint32_t>(NrZones(), 256));
    return s;
  }

  void RunClass(std::string_view cls) {
    auto t = bi::Prepare(dev());
    ASSERT_TRUE(t.ok()) << "preparing the device: " << t.status().ToString();
    unsigned ran = 0;
    std::string names;
    for (const bi::Case& c : bi::Catalogue()) {
      if (c.cls != cls) continue;
      auto req = c.build(*t);
      if (!req) continue;
      ++ran;
      names += (names.empty() ? "" : ",") + std::string(c.name);
      SCOPED_TRACE(std::string(c.name) + ": " + bi::Describe(*req));
      const Snapshot before = Take(*t);
      Status st = bi::Execute(dev(), *req);
      // The family's errno: SCSI ZBC's where it differs (c.zbc_errno); a device held to no
      // family may give either. A write or append longer than max_transfer that breaks a
      // write-pointer rule is refused by zbl before Linux could split it (Backend
      // CheckSplitWrite, host_device's append), with EIO whatever the family.
      const int zbc = c.zbc_errno ? c.zbc_errno : c.expected_errno;
      const bool split = c.cls == "write_pointer" && dev().limits().max_transfer != 0 &&
                         req->len > dev().limits().max_transfer;
      // A case that is a family cell is judged by that cell on the device's kernel.
      const bool by_cell = !split && !c.cell.empty() && family();
      const std::string cell_why =
          by_cell ? JudgeVariant(c.cell, ErrnoVariant(st.code()), family(), ConfigKernel(cfg())) : "";
      const bool same = split ? st.code() == EIO
                        : by_cell ? cell_why.empty()
                        : !family() ? st.code() == c.expected_errno || st.code() == zbc
                        : *family() == "zbc" ? st.code() == zbc
                                             : st.code() == c.expected_errno;
      EXPECT_TRUE(same) << "returned " << st.ToString() << ", want errno "
                        << (family() && *family() == "zbc" ? zbc : c.expected_errno)
                        << (split ? " (EIO: longer than max_transfer)" : "")
                        << (by_cell ? " (" + cell_why + ")" : std::string());
      if (!c.fragment.empty()) {
        EXPECT_NE(Lower(st.message()).find(Lower(c.fragment)), std::string::npos)
            << "message '" << st.message() << "' does not name '" << c.fragment << "'";
      }
      EXPECT_TRUE(Take(*t) == before) << "the device changed";
    }
    if (ran == 0) GTEST_SKIP() << "no case of class '" << cls << "' applies to " << cfg().name;
    RecordProperty("cases", names);
  }
};

TEST_P(BadInput, IoAlignment) { RunClass("io_alignment"); }
TEST_P(BadInput, IoRange) { RunClass("io_range"); }
TEST_P(BadInput, ZoneRange) { RunClass("zone_range"); }
TEST_P(BadInput, Append) { RunClass("append"); }
TEST_P(BadInput, NotZoned) { RunClass("not_zoned"); }
TEST_P(BadInput, WritePointer) { RunClass("write_pointer"); }
TEST_P(BadInput, Conventional) { RunClass("conventional"); }
TEST_P(BadInput, FaultZone) { RunClass("fault_zone"); }
TEST_P(BadInput, Queue) { RunClass("queue"); }

ZBL_INSTANTIATE(BadInput);

TEST(BadInputCatalogue, HasFiftyDistinctCasesInCoveredClasses) {
  std::set<std::string_view> names;
  for (const bi::Case& c : bi::Catalogue()) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case " << c.name;
    EXPECT_NE(std::find(std::begin(kCovered), std::end(kCovered), c.cls), std::end(kCovered))
        << c.name << ": class " << c.cls << " has no rule in the BadInput suite";
    EXPECT_NE(c.expected_errno, 0) << c.name;
  }
  EXPECT_GE(names.size(), 50u);
  for (std::string_view cls : bi::Classes())
    EXPECT_NE(std::find(std::begin(kCovered), std::end(kCovered), cls), std::end(kCovered)) << cls;
}

}  // namespace
}  // namespace zbl::suites
