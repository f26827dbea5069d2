#include "configs.h"
#include "zbl/format.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

#include "families.h"
#include "zbl/driver.h"
#include "zbl/options.h"

namespace zbl::suites {
namespace {

constexpr uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;

// An emulated HM/HA device's option string and expectations from one geometry.
struct Geometry {
  std::string model = "hm";
  uint64_t size = 64 * kMiB;
  uint64_t zone_size = kMiB;
  uint64_t zone_capacity = 0;
  uint32_t conventional = 0;
  uint32_t max_open = 0, max_active = 0;
  uint32_t block = 4096;
  std::string profile;  // "" = the driver's default, not named
  std::string faults;   // extra option text: read-only-zones / offline-zones
  std::vector<uint32_t> read_only, offline;
};

// Option keys of driver=emulated (prefix "file." when it sits below raw).
std::string EmulatedKeys(const Geometry& g, const std::string& p) {
  std::string s = p + "model=" + g.model + "," + p + "size=" + SizeText(g.size) + "," + p +
                  "zone-size=" + SizeText(g.zone_size) + "," + p + "block-size=" +
                  std::to_string(g.block);
  if (g.zone_capacity) s += "," + p + "zone-capacity=" + SizeText(g.zone_capacity);
  if (g.conventional) s += "," + p + "conventional-zones=" + std::to_string(g.conventional);
  if (g.max_open) s += "," + p + "max-open-zones=" + std::to_string(g.max_open);
  if (g.max_active) s += "," + p + "max-active-zones=" + std::to_string(g.max_active);
  if (!g.profile.empty()) s += "," + p + "profile=" + g.profile;
  if (!g.faults.empty()) s += "," + g.faults;
  return s;
}

Expected ExpectOf(const Geometry& g) {
  Expected e;
  e.model = g.model == "hm" ? ZoneModel::kHostManaged
                            : g.model == "ha" ? ZoneModel::kHostAware : ZoneModel::kNone;
  e.size = g.size;
  e.block_size = g.block;
  if (e.model != ZoneModel::kNone) {
    e.zone_size = g.zone_size;
    e.zone_capacity = g.zone_capacity;
    e.nr_zones = static_cast<uint32_t>((g.size + g.zone_size - 1) / g.zone_size);
    e.conventional_zones = g.conventional;
    e.max_open = g.max_open;
    e.max_active = g.max_active;
    e.max_append = kMiB;  // the emulated driver's documented default
    e.read_only_zones = g.read_only;
    e.offline_zones = g.offline;
  }
  return e;
}

Config Emulated(std::string name, const Geometry& g) {
  Config c;
  c.name = std::move(name);
  c.option_string = "driver=emulated," + EmulatedKeys(g, "");
  c.driver_labels = {"emulated"};
  c.expect = ExpectOf(g);
  // Without profile= the emulator follows null_blk (its documented default).
  if (g.profile.empty()) c.family = "null_blk";
  return c;
}

std::vector<Config> MakeBuiltins() {
  std::vector<Config> v;
  // fio t/zbd layouts, scaled down: conventional share, capacity < size, open/active limits.
  v.push_back(Emulated("emulated_hm_4k", {}));
  v.push_back(Emulated("emulated_hm_512", {.size = 32 * kMiB, .block = 512}));
  v.push_back(Emulated("emulated_hm_conv10", {.conventional = 6}));
  v.push_back(Emulated("emulated_hm_conv66", {.size = 48 * kMiB, .conventional = 32}));
  v.push_back(Emulated("emulated_hm_cap3of4",
                       {.size = 64 * kMiB, .zone_size = 4 * kMiB, .zone_capacity = 3 * kMiB}));
  v.push_back(Emulated("emulated_hm_open8", {.max_open = 8}));
  v.push_back(Emulated("emulated_hm_open8_active8", {.max_open = 8, .max_active = 8}));
  v.push_back(Emulated("emulated_hm_open8_active10",
                       {.zone_size = 2 * kMiB, .zone_capacity = 1536 * kKiB, .conventional = 2,
                        .max_open = 8, .max_active = 10}));
  v.push_back(Emulated("emulated_hm_runt", {.size = 34 * kMiB, .zone_size = 4 * kMiB}));
  v.push_back(Emulated("emulated_hm_faults",
                       {.size = 16 * kMiB, .conventional = 1,
                        .faults = "read-only-zones=5,offline-zones=6:9",
                        .read_only = {5}, .offline = {6, 9}}));
  // About 100k zones, like a large SMR disk: memory is sparse, reports must stay partial.
  v.push_back(Emulated("emulated_hm_huge", {.size = 400 * kGiB, .zone_size = 4 * kMiB}));
  v.push_back(Emulated("emulated_ha", {.model = "ha", .conventional = 2}));
  v.push_back(Emulated("emulated_none", {.model = "none", .zone_size = 64 * kMiB}));
  // One device per family, with capacity < size and limits, held to the family's variants.
  for (const char* p : {"null_blk", "zns", "zbc"}) {
    Geometry g{.size = 32 * kMiB, .zone_size = 2 * kMiB, .zone_capacity = 1536 * kKiB,
               .conventional = 2, .max_open = 4, .max_active = 8, .profile = p};
    if (std::string(p) == "zbc") g.max_active = 0;  // ZBC has no active limit
    v.push_back(Emulated(std::string("profile_") + p, g));
  }
  {
    Config c = Emulated("raw_emulated", {.max_open = 8});
    c.option_string = "driver=raw," + EmulatedKeys({.max_open = 8}, "file.") + ",file.driver=emulated";
    c.driver_labels = {"raw", "emulated"};
    v.push_back(c);
  }
  {
    Config c = Emulated("emulated_file", {.conventional = 2});
    c.option_string = "driver=emulated," + EmulatedKeys({.conventional = 2}, "") +
                      ",file.driver=file,file.filename=<tmp>";
    c.driver_labels = {"emulated", "file"};
    c.persistent = true;
    v.push_back(c);
  }
  {
    Config c;
    c.name = "raw_file";
    c.option_string = "driver=raw,file.driver=file,file.filename=<tmp>";
    c.driver_labels = {"raw", "file"};
    c.expect = ExpectOf({.model = "none", .block = 0});  // the file driver picks its block size
    c.persistent = true;
    c.tmp_file_size = 64 * kMiB;
    v.push_back(c);
  }
  {
    Config c;
    c.name = "host_device_loop";
    c.option_string = "driver=host_device,filename=<loop>";
    c.driver_labels = {"host_device"};
    c.expect = ExpectOf({.model = "none", .block = 0});
    c.persistent = true;
    c.tmp_file_size = 64 * kMiB;
    c.needs = Needs::kRoot;
    v.push_back(c);
  }
  for (const char* backend : {"user", "kernel"}) {
    // null_blk's own option names and units (sizes in MB), memory-backed so data reads back.
    Config c;
    c.name = std::string("null_blk_") + backend;
    c.option_string = std::string("driver=null_blk,backend=") + backend +
                      ",size=64,zoned=1,zone_size=1,zone_nr_conv=2,zone_max_open=8,"
                      "blocksize=4096,memory_backed=1";
    c.driver_labels = {"null_blk"};
    c.expect = ExpectOf({.conventional = 2, .max_open = 8});
    c.expect.max_append = 0;  // the block layer's cap: not fixed here
    c.family = "null_blk";
    if (std::string(backend) == "kernel") {
      c.needs = Needs::kKernelNullBlk;
      c.fresh_on_open = false;
    }
    v.push_back(c);
  }
  return v;
}

std::vector<Config> MakeAll() {
  std::vector<Config> v = BuiltinConfigs();
  if (const char* dev = std::getenv("ZBL_DEVICE"); dev && *dev) {
    Config c;
    c.name = "user_device";
    c.option_string = dev;
    c.driver_labels = DriversOf(dev);
    c.driver_labels.push_back("user_device");
    c.expect.known = false;
    // A real device keeps its data; ZBL_DEVICE_PERSISTENT=0 says it does not (a memory device).
    const char* p = std::getenv("ZBL_DEVICE_PERSISTENT");
    c.persistent = !(p && std::string(p) == "0");
    c.fresh_on_open = false;
    c.user_owned = true;
    v.push_back(c);
  }
  return v;
}

void CollectDrivers(const Options& o, std::vector<std::string>& out) {
  if (auto d = o.GetString("driver", ""); d.ok() && !d->empty()) out.push_back(*d);
  for (const std::string& child : o.ChildNames()) CollectDrivers(*o.Child(child), out);
}

bool FindProfileKey(const Options& o, std::string& out) {
  if (auto p = o.GetString("profile", ""); p.ok() && !p->empty()) {
    out = *p;
    return true;
  }
  for (const std::string& child : o.ChildNames())
    if (FindProfileKey(*o.Child(child), out)) return true;
  return false;
}

// Temporary files and loop devices, made on first use and removed when the process exits.
class Scratch {
 public:
  static Scratch& Get() {
    static Scratch s;
    return s;
  }
  ~Scratch() {
    for (const auto& [file, loop] : loops_) {
      std::string cmd = "losetup -d " + loop + " 2>/dev/null";
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "zbl-suites: could not detach %s\n", loop.c_str());
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // The temporary file of a configuration, recreated with `size` bytes when `fresh`.
  Result<std::string> File(const Config& c, bool fresh) {
    std::lock_guard<std::mutex> lk(mu_);
    if (dir_.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "zbl-suites.XXXXXX").string();
      if (!mkdtemp(tmpl.data())) return ErrnoStatus(errno, "creating a temporary directory");
      dir_ = tmpl;
    }
    std::string path = dir_ + "/" + c.name + ".img";
    if (fresh || access(path.c_str(), F_OK) != 0) {
      int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
      if (fd < 0) return ErrnoStatus(errno, "creating " + path);
      int rc = ftruncate(fd, static_cast<off_t>(c.tmp_file_size));
      int err = errno;
      close(fd);
      if (rc != 0) return ErrnoStatus(err, "sizing " + path);
    }
    return path;
  }

  // A loop device over the configuration's temporary file.
  Result<std::string> Loop(const std::string& file) {
    std::lock_guard<std::mutex> lk(mu_);
    if (auto it = loops_.find(file); it != loops_.end()) return it->second;
    std::string cmd = "losetup -f --show " + file + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return ErrnoStatus(errno, "running losetup");
    char line[256] = {};
    std::string out = fgets(line, sizeof line, p) ? line : "";
    int rc = pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (rc != 0 || out.rfind("/dev/", 0) != 0)
      return Error(ENODEV, "losetup -f --show {} failed: {}", file, out);
    loops_[file] = out;
    return out;
  }

 private:
  std::mutex mu_;
  std::string dir_;
  std::map<std::string, std::string> loops_;
};

bool KernelNullBlkPresent() {
  if (access("/sys/module/null_blk", F_OK) == 0) return true;
  return std::system("modprobe -q null_blk nr_devices=0 >/dev/null 2>&1") == 0 &&
         access("/sys/module/null_blk", F_OK) == 0;
}

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

Result<std::string> ResolveOptions(const Config& c, bool fresh) {
  std::string s = c.option_string;
  if (s.find("<tmp>") == std::string::npos && s.find("<loop>") == std::string::npos) return s;
  auto file = Scratch::Get().File(c, fresh);
  if (!file.ok()) return file.status();
  ReplaceAll(s, "<tmp>", *file);
  if (s.find("<loop>") != std::string::npos) {
    auto loop = Scratch::Get().Loop(*file);
    if (!loop.ok()) return loop.status();
    ReplaceAll(s, "<loop>", *loop);
  }
  return s;
}

}  // namespace

const std::vector<Config>& BuiltinConfigs() {
  static const std::vector<Config> v = MakeBuiltins();
  return v;
}

const std::vector<Config>& AllConfigs() {
  static const std::vector<Config> v = MakeAll();
  return v;
}

const Config* FindConfig(std::string_view name) {
  for (const Config& c : AllConfigs())
    if (c.name == name) return &c;
  return nullptr;
}

std::vector<std::string> DriversOf(const std::string& option_string) {
  std::vector<std::string> out;
  auto o = Options::Parse(option_string);
  if (o.ok()) CollectDrivers(*o, out);
  return out;
}

std::optional<std::string> ConfigProfile(const Config& c) {
  if (auto o = Options::Parse(c.option_string); o.ok()) {
    std::string p;
    if (FindProfileKey(*o, p)) return p;
  }
  if (!c.family.empty()) return c.family;
  // ZBL_PROFILE names the family of the user's device; built-in configurations keep their own.
  if (!c.user_owned) return std::nullopt;
  if (const char* env = std::getenv("ZBL_PROFILE"); env && *env) return std::string(env);
  return std::nullopt;
}

namespace {
bool ThroughKernel(const Options& o) {
  auto d = o.GetString("driver", "");
  if (d.ok() && *d == "host_device") return true;
  if (d.ok() && *d == "null_blk") {
    auto b = o.GetString("backend", "");
    if (b.ok() && *b == "kernel") return true;
  }
  for (const std::string& child : o.ChildNames())
    if (ThroughKernel(*o.Child(child))) return true;
  return false;
}
}  // namespace

std::optional<uint32_t> ConfigKernel(const Config& c) {
  auto o = Options::Parse(c.option_string);
  if (!o.ok()) return std::nullopt;
  std::string profile;
  if (FindProfileKey(*o, profile) || !ThroughKernel(*o)) return std::nullopt;
  if (const char* env = std::getenv("ZBL_KERNEL_VERSION"); env && *env) {
    if (auto v = ParseLinuxVersion(env)) return v;
  }
  return RunningLinuxVersion();
}

std::string SkipReason(const Config& c) {
  for (const std::string& d : DriversOf(c.option_string))
    if (!FindDriver(d)) return "driver '" + d + "' is not available in this build";
  if ((c.needs == Needs::kRoot || c.needs == Needs::kKernelNullBlk) && geteuid() != 0)
    return "needs root";
  if (c.needs == Needs::kKernelNullBlk && !KernelNullBlkPresent())
    return "the kernel's null_blk module is not available on this machine";
  return "";
}

bool DestructiveAllowed() {
  const char* v = std::getenv("ZBL_ALLOW_DESTRUCTIVE");
  return v && std::string(v) == "1";
}

bool MayDestroy(const Config& c) { return !c.user_owned || DestructiveAllowed(); }

Result<std::unique_ptr<Backend>> OpenConfig(const Config& c, bool wipe) {
  const bool fresh_file = wipe && MayDestroy(c);
  auto opts = ResolveOptions(c, fresh_file);
  if (!opts.ok()) return opts.status();
  auto dev = Backend::Open(*opts);
  if (!dev.ok()) return dev.status().Annotate("opening '" + *opts + "'");
  // Persistent and kernel devices keep zone state across opens: start from every zone empty.
  if (fresh_file && (!c.fresh_on_open || c.persistent) && (*dev)->limits().zoned()) {
    if (Status st = (*dev)->ZoneResetAll(); !st.ok()) return st.Annotate("reset-all after open");
  }
  return dev;
}

Result<std::unique_ptr<Backend>> ReopenConfig(const Config& c) { return OpenConfig(c, false); }

}  // namespace zbl::suites
