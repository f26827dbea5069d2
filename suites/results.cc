#include "results.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include "families.h"
#include "zbl/version.h"
#include "fingerprint.h"


namespace zbl::suites {
namespace {

using nlohmann::json;

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown";
}

// One line of a sysfs attribute, trimmed; "" when absent.
std::string SysfsText(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  size_t b = line.find_first_not_of(" \t"), e = line.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : line.substr(b, e - b + 1);
}

// SCSI unit serial number (VPD page 0x80): a 4-byte header, then the ASCII serial.
std::string ScsiSerial(const std::filesystem::path& dev) {
  std::ifstream in(dev / "vpd_pg80", std::ios::binary);
  std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (page.size() <= 4) return {};
  std::string serial = page.substr(4);
  size_t b = serial.find_first_not_of(" \0"), e = serial.find_last_not_of(" \0");
  return b == std::string::npos ? std::string() : serial.substr(b, e - b + 1);
}

// Who the device is, from sysfs, when the option string names a block device (any
// "...filename=/dev/X"): vendor, model, serial, firmware of /sys/class/block/X/device (an NVMe
// namespace's controller, a SCSI disk). null on a device without those attributes (null_blk,
// files, the emulator): the report then identifies it by its option string.
json DeviceIdentity(const std::string& option_string) {
  namespace fs = std::filesystem;
  size_t pos = 0;
  while (pos < option_string.size()) {
    size_t end = option_string.find(',', pos);
    std::string kv = option_string.substr(pos, end == std::string::npos ? end : end - pos);
    pos = end == std::string::npos ? option_string.size() : end + 1;
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string key = kv.substr(0, eq);
    if (key != "filename" && !key.ends_with(".filename")) continue;
    std::error_code ec;
    fs::path target = fs::canonical(kv.substr(eq + 1), ec);
    if (ec || target.parent_path() != "/dev") continue;
    fs::path dev = fs::path("/sys/class/block") / target.filename() / "device";
    json id = json::object();
    auto put = [&](const char* key, const std::string& v) {
      if (!v.empty()) id[key] = v;
    };
    put("vendor", SysfsText(dev / "vendor"));
    put("model", SysfsText(dev / "model"));
    std::string serial = SysfsText(dev / "serial");
    put("serial", serial.empty() ? ScsiSerial(dev) : serial);
    std::string fw = SysfsText(dev / "firmware_rev");
    put("firmware", fw.empty() ? SysfsText(dev / "rev") : fw);
    if (id.empty()) return nullptr;
    id["device"] = target.string();
    id["source"] = "sysfs";
    return id;
  }
  return nullptr;
}

std::string IsoNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Leading conventional zones and the first sequential zone's capacity, from small reports.
std::pair<uint32_t, uint64_t> ConventionalAndCapacity(Backend& dev) {
  const Limits& l = dev.limits();
  for (uint32_t z = 0; z < l.nr_zones; z += 256) {
    auto zones = dev.ReportZones(uint64_t{z} * l.zone_size, 256);
    if (!zones.ok() || zones->empty()) break;
    for (size_t i = 0; i < zones->size(); ++i)
      if ((*zones)[i].type != ZoneType::kConventional)
        return {z + static_cast<uint32_t>(i), (*zones)[i].capacity};
  }
  return {l.nr_zones, 0};
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += ' ';
        else out += c;
    }
  }
  return out;
}

void WriteJUnit(const ::testing::UnitTest& ut, const std::string& path) {
  std::ofstream out(path);
  auto secs = [](long long ms) { return std::to_string(static_cast<double>(ms) / 1000.0); };
  int skipped_total = 0;
  for (int i = 0; i < ut.total_test_suite_count(); ++i)
    skipped_total += ut.GetTestSuite(i)->skipped_test_count();
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"zbl-suites\" tests=\"" << ut.test_to_run_count() << "\" failures=\""
      << ut.failed_test_count() << "\" skipped=\"" << skipped_total << "\" time=\""
      << secs(ut.elapsed_time()) << "\">\n";
  for (int i = 0; i < ut.total_test_suite_count(); ++i) {
    const ::testing::TestSuite* s = ut.GetTestSuite(i);
    if (s->test_to_run_count() == 0) continue;
    out << "  <testsuite name=\"" << XmlEscape(s->name()) << "\" tests=\"" << s->test_to_run_count()
        << "\" failures=\"" << s->failed_test_count() << "\" skipped=\"" << s->skipped_test_count()
        << "\" time=\"" << secs(s->elapsed_time()) << "\">\n";
    for (int j = 0; j < s->total_test_count(); ++j) {
      const ::testing::TestInfo* t = s->GetTestInfo(j);
      if (!t->should_run()) continue;
      const ::testing::TestResult* r = t->result();
      out << "    <testcase name=\"" << XmlEscape(t->name()) << "\" classname=\"" << XmlEscape(s->name())
          << "\" time=\"" << secs(r->elapsed_time()) << "\">\n";
      for (int k = 0; k < r->total_part_count(); ++k) {
        const ::testing::TestPartResult& p = r->GetTestPartResult(k);
        if (p.failed())
          out << "      <failure message=\"" << XmlEscape(p.summary()) << "\">"
              << XmlEscape(std::string(p.file_name() ? p.file_name() : "") + ":" +
                           std::to_string(p.line_number()) + "\n" + p.message())
              << "</failure>\n";
        else if (p.skipped())
          out << "      <skipped message=\"" << XmlEscape(p.message()) << "\"/>\n";
      }
      for (int k = 0; k < r->test_property_count(); ++k) {
        const ::testing::TestProperty& prop = r->GetTestProperty(k);
        if (k == 0) out << "      <properties>\n";
        out << "        <property name=\"" << XmlEscape(prop.key()) << "\" value=\""
            << XmlEscape(prop.value()) << "\"/>\n";
        if (k + 1 == r->test_property_count()) out << "      </properties>\n";
      }
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

class ResultsListener : public ::testing::EmptyTestEventListener {
 public:
  ResultsListener(std::string dir, std::string xml) : dir_(std::move(dir)), xml_(std::move(xml)) {}

  void OnTestProgramEnd(const ::testing::UnitTest& ut) override {
    // The configurations whose tests ran: the last part of each parametrized test's name.
    std::set<std::string> ran;
    for (int i = 0; i < ut.total_test_suite_count(); ++i) {
      const ::testing::TestSuite* s = ut.GetTestSuite(i);
      for (int j = 0; j < s->total_test_count(); ++j) {
        const ::testing::TestInfo* t = s->GetTestInfo(j);
        std::string name = t->name();
        if (!t->should_run() || !t->value_param()) continue;
        ran.insert(name.substr(name.rfind('/') + 1));
      }
    }
    std::vector<const Config*> configs;
    for (const Config& c : AllConfigs())
      if (ran.count(c.name)) configs.push_back(&c);
    std::string tmp = dir_ + "/devices.json.tmp";
    {
      std::ofstream out(tmp);
      out << DevicesJson(configs).dump(2) << "\n";
    }
    std::error_code ec;
    std::filesystem::rename(tmp, dir_ + "/devices.json", ec);
    WriteJUnit(ut, xml_);
  }

 private:
  std::string dir_, xml_;
};

}  // namespace

json DescribeConfig(const Config& c) {
  if (!SkipReason(c).empty()) return nullptr;
  auto dev = OpenConfig(c, MayDestroy(c));
  if (!dev.ok()) return nullptr;
  Backend& d = **dev;
  const Limits& l = d.limits();
  auto [conv, cap] = l.zoned() ? ConventionalAndCapacity(d) : std::pair<uint32_t, uint64_t>{0, 0};
  json limits = {
      {"logical_block_size", l.logical_block_size},
      {"zone_size", l.zone_size},
      {"nr_zones", l.nr_zones},
      {"max_open_zones", l.max_open_zones},
      {"max_active_zones", l.max_active_zones},
      {"max_append_bytes", l.max_append_bytes},
      {"max_transfer", l.max_transfer},
      {"write_granularity", l.write_granularity ? l.write_granularity : l.logical_block_size},
      {"size", l.size},
      {"conventional_zones", conv},
      {"zone_capacity", cap},
  };
  std::map<std::string, std::string> fp = Fingerprint(d, MayDestroy(c));
  json j = {
      {"name", c.name},
      {"option_string", c.option_string},
      {"driver_graph", d.GraphString()},
      {"model", std::string(ToString(l.model))},
      {"limits", limits},
      {"fingerprint", fp},
      {"fingerprint_match", MatchFamily(fp, ConfigKernel(c))},
  };
  // The kernel the cells were judged by: the running one for kernel devices, none for zbl's
  // own models (they answer as the current kernels do).
  if (auto k = ConfigKernel(c)) j["judged_kernel"] = LinuxVersionString(*k);
  auto profile = ConfigProfile(c);
  j["profile"] = profile ? json(*profile) : json(nullptr);
  if (json id = DeviceIdentity(c.option_string); !id.is_null()) j["identity"] = std::move(id);
  return j;
}

json DevicesJson(const std::vector<const Config*>& configs) {
  utsname u{};
  uname(&u);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  json doc = {
      {"schema", "zbl-devices/1"},
      {"zbl_version", std::string(zbl::Version())},
      {"commit", std::string(zbl::Commit())},
      {"host", host},
      {"kernel", u.release},
      {"cpu", CpuModel()},
      {"generated", IsoNow()},
  };
  json list = json::array(), unavailable = json::array();
  for (const Config* c : configs) {
    json j = DescribeConfig(*c);
    if (j.is_null()) {
      std::string why = SkipReason(*c);
      unavailable.push_back({{"name", c->name}, {"reason", why.empty() ? "the device did not open" : why}});
    } else {
      list.push_back(std::move(j));
    }
  }
  doc["configs"] = std::move(list);
  // Not in the schema's required fields: configurations that could not be described here.
  doc["unavailable"] = std::move(unavailable);
  return doc;
}

::testing::TestEventListener* NewResultsListener(std::string dir, std::string xml_path) {
  return new ResultsListener(std::move(dir), std::move(xml_path));
}

}  // namespace zbl::suites
