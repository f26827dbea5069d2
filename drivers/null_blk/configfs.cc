#include "configfs.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

namespace zbl::null_blk {
namespace {

constexpr long kConfigfsMagic = 0x62656570;  // CONFIGFS_MAGIC
constexpr size_t kDiskNameMax = 31;          // DISK_NAME_LEN - 1
constexpr uint64_t kSectorsPerMb = (uint64_t{1} << 20) / 512;

constexpr const char* kHowToGet =
    "load the module with 'modprobe null_blk nr_devices=0' (kernel option "
    "CONFIG_BLK_DEV_NULL_BLK) and mount configfs with 'mount -t configfs none "
    "/sys/kernel/config' (or give load=on as root), or use backend=user";

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

bool IsConfigfs(const std::string& p) {
  struct statfs fs;
  return ::statfs(p.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kConfigfsMagic;
}

std::string Parent(const std::string& p) {
  auto slash = p.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? std::string("/") : p.substr(0, slash);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

Result<std::string> ReadFile(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return ErrnoStatus(errno, fmt::format("open {}", path));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      Status st = ErrnoStatus(errno, fmt::format("read {}", path));
      ::close(fd);
      return st;
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::vector<std::string> SplitFeatures(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  const std::string t = Trim(text);
  while (i <= t.size() && !t.empty()) {
    size_t j = t.find(',', i);
    if (j == std::string::npos) {
      j = t.size();
    }
    if (j > i) {
      out.push_back(t.substr(i, j - i));
    }
    i = j + 1;
  }
  return out;
}

Status RunModprobe() {
  const char* argv[] = {"modprobe", "null_blk", "nr_devices=0", nullptr};
  pid_t pid;
  int rc =
      ::posix_spawnp(&pid, "modprobe", nullptr, nullptr, const_cast<char* const*>(argv), environ);
  if (rc != 0) {
    return ErrnoStatus(rc, "run 'modprobe null_blk nr_devices=0'");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return ErrnoStatus(errno, "wait for modprobe");
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error(ENODEV,
                 "'modprobe null_blk nr_devices=0' failed (exit status {}): the kernel may lack "
                 "CONFIG_BLK_DEV_NULL_BLK",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return Status::Ok();
}

}  // namespace

std::string KernelUnavailableReason(const std::string& root) {
  if (IsDir(root)) {
    if (::access(root.c_str(), W_OK) != 0) {
      return fmt::format("null_blk's configfs directory {} is not writable (needs root)", root);
    }
    return "";
  }
  const std::string parent = Parent(root);
  if (root == kConfigfsRoot && !IsConfigfs(parent)) {
    return fmt::format("configfs is not mounted at {} and {} is missing: {}", parent, root,
                       kHowToGet);
  }
  return fmt::format("null_blk's configfs directory {} is missing (module not loaded?): {}", root,
                     kHowToGet);
}

Status LoadNullBlk(const std::string& root) {
  if (IsDir(root)) {
    return Status::Ok();
  }
  if (root != kConfigfsRoot) {
    return Error(ENODEV, "load=on loads the kernel's null_blk only for {}; {} is missing",
                 kConfigfsRoot, root);
  }
  if (::geteuid() != 0) {
    return Error(EPERM, "load=on: loading null_blk and mounting configfs needs root; {}",
                 KernelUnavailableReason(root));
  }
  const std::string parent = Parent(root);
  if (root == kConfigfsRoot && IsDir(parent) && !IsConfigfs(parent)) {
    if (::mount("none", parent.c_str(), "configfs", 0, nullptr) != 0) {
      return ErrnoStatus(errno, fmt::format("mount configfs at {}", parent));
    }
  }
  if (!IsDir(root)) {
    ZBL_RETURN_IF_ERROR(RunModprobe());
  }
  if (!IsDir(root)) {
    return Error(ENODEV, "null_blk loaded but {} is still missing: {}", root,
                 KernelUnavailableReason(root));
  }
  return Status::Ok();
}

ConfigfsItem::ConfigfsItem(ConfigfsOptions opts, std::string name)
    : opts_(std::move(opts)), name_(std::move(name)), path_(opts_.root + "/" + name_) {}

ConfigfsItem::~ConfigfsItem() {
  if (!keep_) {
    (void)Destroy();
  }
}

Result<std::unique_ptr<ConfigfsItem>> ConfigfsItem::Create(const ConfigfsOptions& opts,
                                                           const std::string& name,
                                                           const Params& p) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return Error(EINVAL, "name '{}' is not a valid configfs item name", name);
  }
  if (auto why = KernelUnavailableReason(opts.root); !why.empty()) {
    return Status(ENODEV, why);
  }
  std::unique_ptr<ConfigfsItem> item(new ConfigfsItem(opts, name));
  item->is_configfs_ = IsConfigfs(opts.root);
  if (auto f = ReadFile(opts.root + "/features"); f.ok()) {
    item->features_ = SplitFeatures(*f);
  }
  Status st = item->Make();
  if (!st.ok()) {
    // Nothing half-made stays behind: power off and remove what was made.
    (void)item->Remove();
    return st;
  }
  st = item->WriteParams(p);
  if (st.ok()) {
    st = item->WriteAttr("power", "1");
  }
  if (st.ok()) {
    item->powered_ = true;
  } else {
    st = st.Annotate("null_blk refused the configuration at power-on (see dmesg)");
  }
  if (st.ok()) {
    st = item->ApplyZoneConditions(p);
  }
  if (st.ok()) {
    st = item->FindDevice();
  }
  if (!st.ok()) {
    (void)item->Remove();
    return st;
  }
  return item;
}

Status ConfigfsItem::Make() {
  journal_.push_back("mkdir");
  if (::mkdir(path_.c_str(), 0755) != 0) {
    int err = errno;
    if (err == EEXIST) {
      return Error(EEXIST, "null_blk device '{}' already exists ({}); pick another name=", name_,
                   path_);
    }
    return ErrnoStatus(err, fmt::format("mkdir {}", path_));
  }
  made_ = true;
  return Status::Ok();
}

Status ConfigfsItem::WriteAttr(const std::string& attr, const std::string& value) {
  journal_.push_back(fmt::format("{}={}", attr, value));
  const std::string file = path_ + "/" + attr;
  // configfs makes every attribute file itself; a stand-in tree gets them from the writes.
  const int flags = O_WRONLY | O_CLOEXEC | O_TRUNC | (is_configfs_ ? 0 : O_CREAT);
  int fd;
  do {
    fd = ::open(file.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      return Error(ENOTSUP, "null_blk attribute '{}' does not exist at {} (kernel too old?)", attr,
                   file);
    }
    return ErrnoStatus(err, fmt::format("open {}", file));
  }
  if (!is_configfs_) {
    written_.push_back(file);
  }
  const std::string text = value + "\n";
  ssize_t n;
  do {
    n = ::write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) {
    return ErrnoStatus(err, fmt::format("write '{}' to {}", value, file));
  }
  return Status::Ok();
}

Result<std::string> DiskItemAttr(const std::string& root, const std::string& disk,
                                 const std::string& attr) {
  namespace fs = std::filesystem;
  std::string item;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, fs::directory_options::skip_permission_denied, ec)) {
    const std::string name = e.path().filename();
    auto index = ReadFile(e.path() / "index");
    if (name.substr(0, kDiskNameMax) == disk || (index.ok() && "nullb" + Trim(*index) == disk)) {
      item = e.path();
      break;
    }
  }
  if (item.empty()) {
    return Error(ENOENT, "no null_blk item under {} owns the disk '{}'", root, disk);
  }
  auto r = ReadFile(item + "/" + attr);
  if (!r.ok()) {
    return r.status();
  }
  return Trim(*r);
}

Result<std::string> ConfigfsItem::ReadAttr(const std::string& attr) const {
  auto r = ReadFile(path_ + "/" + attr);
  if (!r.ok()) {
    return r.status();
  }
  return Trim(*r);
}

Status ConfigfsItem::WriteParams(const Params& p) {
  // Attributes the kernel always had are written whatever the module's load-time defaults, so
  // the device matches the user twin. Newer ones are written when the kernel lists them, and
  // a kernel without one fails only if the user asked for it.
  auto optional = [&](const char* attr, const std::string& value) -> Status {
    const bool listed = std::find(features_.begin(), features_.end(), attr) != features_.end();
    if (listed) {
      return WriteAttr(attr, value);
    }
    if (p.Given(attr)) {
      return features_.empty()
                 ? WriteAttr(attr, value)
                 : Error(ENOTSUP, "this kernel's null_blk has no '{}' attribute", attr);
    }
    return Status::Ok();
  };
  ZBL_RETURN_IF_ERROR(WriteAttr("size", std::to_string(p.size_mb)));
  ZBL_RETURN_IF_ERROR(WriteAttr("blocksize", std::to_string(p.blocksize)));
  ZBL_RETURN_IF_ERROR(WriteAttr("memory_backed", p.memory_backed ? "1" : "0"));
  ZBL_RETURN_IF_ERROR(optional("max_sectors", std::to_string(p.max_sectors)));
  ZBL_RETURN_IF_ERROR(WriteAttr("zoned", p.zoned ? "1" : "0"));
  if (!p.zoned) {
    return Status::Ok();
  }
  ZBL_RETURN_IF_ERROR(WriteAttr("zone_size", std::to_string(p.zone_size_mb)));
  ZBL_RETURN_IF_ERROR(WriteAttr("zone_capacity", std::to_string(p.zone_capacity_mb)));
  ZBL_RETURN_IF_ERROR(WriteAttr("zone_nr_conv", std::to_string(p.zone_nr_conv)));
  ZBL_RETURN_IF_ERROR(WriteAttr("zone_max_open", std::to_string(p.zone_max_open)));
  ZBL_RETURN_IF_ERROR(WriteAttr("zone_max_active", std::to_string(p.zone_max_active)));
  ZBL_RETURN_IF_ERROR(
      optional("zone_append_max_sectors", std::to_string(p.zone_append_max_sectors)));
  ZBL_RETURN_IF_ERROR(optional("zone_full", p.zone_full ? "1" : "0"));
  return Status::Ok();
}

// zone_readonly / zone_offline take a sector and work only on a powered device. The resolved
// sets are written once each (the attributes toggle), read-only first, as Resolve assumes.
Status ConfigfsItem::ApplyZoneConditions(const Params& p) {
  if (p.zone_readonly.empty() && p.zone_offline.empty()) {
    return Status::Ok();
  }
  auto g = Resolve(p);
  if (!g.ok()) {
    return g.status();
  }
  for (auto [attr, zones] : {std::pair{"zone_readonly", &g->readonly_zones},
                             std::pair{"zone_offline", &g->offline_zones}}) {
    for (uint64_t z : *zones) {
      ZBL_RETURN_IF_ERROR(WriteAttr(attr, std::to_string(z * p.zone_size_mb * kSectorsPerMb)));
    }
  }
  return Status::Ok();
}

// Recent kernels name the disk after the configfs item; older ones "nullb<index>".
Status ConfigfsItem::FindDevice() {
  // The disk name is the item name cut to DISK_NAME_LEN - 1 characters.
  const std::string by_name = opts_.dev_dir + "/" + name_.substr(0, kDiskNameMax);
  std::string by_index;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.node_wait_ms);
  for (;;) {
    if (by_index.empty()) {
      if (auto idx = ReadAttr("index"); idx.ok() && !idx->empty()) {
        by_index = opts_.dev_dir + "/nullb" + *idx;
      }
    }
    for (const std::string* c : std::initializer_list<const std::string*>{&by_name, &by_index}) {
      if (!c->empty() && Exists(*c)) {
        device_ = *c;
        journal_.push_back("device=" + *c);
        return Status::Ok();
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Error(ENODEV, "null_blk device '{}' is powered on but its disk node ({}{}) did not appear",
               name_, by_name, by_index.empty() ? "" : " or " + by_index);
}

Status ConfigfsItem::Remove() {
  Status first;
  if (powered_) {
    Status st = WriteAttr("power", "0");
    if (st.ok()) {
      powered_ = false;
    } else if (first.ok()) {
      first = st;
    }
  }
  if (made_) {
    journal_.push_back("rmdir");
    // configfs drops its attribute files with the item; a stand-in tree needs it done.
    for (const auto& f : written_) {
      ::unlink(f.c_str());
    }
    written_.clear();
    if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) {
      made_ = false;
    } else if (first.ok()) {
      first = ErrnoStatus(errno, fmt::format("rmdir {}", path_));
    }
  }
  return first;
}

Status ConfigfsItem::Destroy() { return Remove(); }

}  // namespace zbl::null_blk
