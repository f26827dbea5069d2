#include "configs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "zbl/driver.h"

namespace zbl::bench {
namespace {

// Scratch images live on tmpfs so that file-backed figures measure zbl, not a disk.
std::string ScratchPath(std::string_view tag) {
  return fmt::format("/dev/shm/zbl-bench-{}-{}.img", tag, getpid());
}

std::string FileDriverMissing() {
  return FindDriver("file") ? "" : "driver 'file' is not built (drivers/file not merged yet)";
}

struct OpenDevice {
  std::once_flag once;
  std::unique_ptr<Backend> backend;
  Status status;
};

std::mutex g_mu;
std::map<std::string, std::unique_ptr<OpenDevice>> g_devices;

OpenDevice& Slot(const std::string& name) {
  std::lock_guard<std::mutex> lk(g_mu);
  auto& slot = g_devices[name];
  if (!slot) slot = std::make_unique<OpenDevice>();
  return *slot;
}

// A sparse file of `size` bytes, for drivers that expect an existing image.
Status CreateSparse(const std::string& path, uint64_t size) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "creating " + path);
  int rc = ftruncate(fd, static_cast<off_t>(size));
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus(err, "sizing " + path);
  return Status::Ok();
}

}  // namespace

std::vector<BenchConfig> DefaultConfigs() {
  std::vector<BenchConfig> v;
  v.push_back({"emulated_hm_64m", "driver=emulated,model=hm,size=4G,zone-size=64M"});
  // 102400 zones: the report benchmarks' large case; memory stays sparse.
  v.push_back({"emulated_hm_huge", "driver=emulated,model=hm,size=400G,zone-size=4M"});
  v.push_back({"emulated_zns_cap48m",
               "driver=emulated,model=hm,profile=zns,size=4G,zone-size=64M,zone-capacity=48M,"
               "max-open-zones=8,max-active-zones=8"});
  v.push_back({"emulated_zbc_256m",
               "driver=emulated,model=hm,profile=zbc,size=16G,zone-size=256M,conventional-zones=2,"
               "max-open-zones=16"});

  const std::string missing = FileDriverMissing();
  for (auto& c : v) c.in_memory = true;

  BenchConfig raw{"file_tmpfs", "", false, true, false, missing};
  raw.scratch_files.push_back(ScratchPath("raw"));
  raw.options = "driver=file,filename=" + raw.scratch_files.back();
  v.push_back(raw);
  BenchConfig emu{"emulated_file_64m", "", false, true, false, missing};
  emu.scratch_files.push_back(ScratchPath("emu"));
  emu.options = "driver=emulated,model=hm,size=4G,zone-size=64M,file.driver=file,file.filename=" +
                emu.scratch_files.back();
  v.push_back(emu);

  if (const char* dev = std::getenv("ZBL_DEVICE"); dev && *dev)
    v.push_back({"user_device", dev, /*user_device=*/true, /*queue_capable=*/true, false, ""});
  return v;
}

bool DestructiveAllowed(const BenchConfig& cfg) {
  if (!cfg.user_device) return true;
  const char* allow = std::getenv("ZBL_ALLOW_DESTRUCTIVE");
  return allow && std::string_view(allow) == "1";
}

Result<Backend*> Device(const BenchConfig& cfg) {
  if (!cfg.skip_reason.empty()) return Error(ENOTSUP, "{}", cfg.skip_reason);
  OpenDevice& d = Slot(cfg.name);
  std::call_once(d.once, [&] {
    for (const auto& f : cfg.scratch_files) {
      d.status = CreateSparse(f, uint64_t{4} << 30);
      if (!d.status.ok()) return;
    }
    auto b = Backend::Open(cfg.options);
    if (!b.ok()) {
      d.status = b.status().Annotate(cfg.name);
      return;
    }
    d.backend = std::move(*b);
    // Start from empty zones: a device left with open zones would run out of resources.
    if (d.backend->limits().zoned() && DestructiveAllowed(cfg))
      d.status = d.backend->ZoneResetAll().Annotate(cfg.name + ": reset-all");
  });
  if (!d.status.ok()) return d.status;
  return d.backend.get();
}

void CloseAllDevices(const std::vector<BenchConfig>& cfgs) {
  {
    std::lock_guard<std::mutex> lk(g_mu);
    g_devices.clear();
  }
  for (const auto& c : cfgs)
    for (const auto& f : c.scratch_files) unlink(f.c_str());
}

}  // namespace zbl::bench
