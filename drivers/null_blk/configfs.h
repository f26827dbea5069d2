// The kernel null_blk device's configfs lifecycle: make the item, write its attributes, power it
// on, find its disk, and on close power it off and remove the item.
//
// The root is injectable (configfs=/path) so the lifecycle runs in tests on a plain directory
// that stands in for /sys/kernel/config/nullb. On a stand-in tree (not a configfs mount) the
// item's attribute files are created by the writes and removed before rmdir, as configfs does
// for its own attributes; nothing else differs.
//
// Never leaves a half-made device: any failure after mkdir powers the item off and removes it.
// Not thread-safe; one item belongs to one node.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "params.h"
#include "zbl/status.h"

namespace zbl::null_blk {

inline constexpr const char* kConfigfsRoot = "/sys/kernel/config/nullb";

struct ConfigfsOptions {
  std::string root = kConfigfsRoot;  // the nullb subsystem directory
  std::string dev_dir = "/dev";      // where the disk's node appears
  // How long to wait for the disk node after power-on (devtmpfs normally has it at once).
  int node_wait_ms = 2000;
};

// Why the kernel backend is (un)usable here: empty when usable, else the reason and how to fix.
std::string KernelUnavailableReason(const std::string& root);

// modprobe null_blk nr_devices=0 and mount configfs when missing (root only); `load=on`.
Status LoadNullBlk(const std::string& root);

// An attribute (trimmed) of the item under `root` behind the disk /dev/`disk`: 6.12 names a
// disk after its item (cut to DISK_NAME_LEN - 1), older kernels nullb<index>. ENOENT when no
// item owns the disk.
Result<std::string> DiskItemAttr(const std::string& root, const std::string& disk,
                                 const std::string& attr);

class ConfigfsItem {
 public:
  // Makes item `name` under opts.root with `p` and powers it on. On error nothing is left.
  static Result<std::unique_ptr<ConfigfsItem>> Create(const ConfigfsOptions& opts,
                                                      const std::string& name, const Params& p);
  // Powers off and removes the item unless Keep() was called.
  ~ConfigfsItem();
  ConfigfsItem(const ConfigfsItem&) = delete;
  ConfigfsItem& operator=(const ConfigfsItem&) = delete;

  // Powers off and removes the item now (idempotent).
  Status Destroy();
  void Keep() { keep_ = true; }

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  // The disk node, e.g. /dev/nullb0 or /dev/<name>.
  const std::string& device_path() const { return device_; }
  // Every configfs operation done, in order ("mkdir", "size=1024", "power=1", ...).
  const std::vector<std::string>& journal() const { return journal_; }
  bool stand_in() const { return !is_configfs_; }
  // Reads an attribute back (the kernel shows adjusted values after power-on), trimmed.
  Result<std::string> ReadAttr(const std::string& attr) const;

 private:
  ConfigfsItem(ConfigfsOptions opts, std::string name);
  Status Make();
  Status WriteAttr(const std::string& attr, const std::string& value);
  Status WriteParams(const Params& p);
  Status ApplyZoneConditions(const Params& p);
  Status FindDevice();
  Status Remove();

  ConfigfsOptions opts_;
  std::string name_;
  std::string path_;
  std::string device_;
  std::vector<std::string> features_;  // empty: the kernel does not list them
  std::vector<std::string> written_;   // attribute files written (for a stand-in tree)
  std::vector<std::string> journal_;
  bool is_configfs_ = false;
  bool made_ = false;
  bool powered_ = false;
  bool keep_ = false;
};

}  // namespace zbl::null_blk
