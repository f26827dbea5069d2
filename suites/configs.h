// The driver configurations every suite runs against: an explicit list, plus the user's own
// device from ZBL_DEVICE.
//
// A configuration is an option string and what the suites should expect of the device it opens.
// The expectations are written here by hand (not read from the device) so that a driver that
// propagates the wrong limits fails; the user's device has no expectations and is described by
// what it reports.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zbl/backend.h"
#include "zbl/types.h"

namespace zbl::suites {

// What a configuration needs from the machine before it can open.
enum class Needs : uint8_t {
  kNothing,
  kRoot,            // root (loop devices)
  kKernelNullBlk,   // root and the kernel's null_blk module (configfs)
};

// Expected properties of a configuration's device. `known` is false for devices described only
// by what they report (the user's device, drivers whose defaults the suites do not fix).
struct Expected {
  bool known = true;
  ZoneModel model = ZoneModel::kHostManaged;
  uint64_t size = 0;
  uint32_t block_size = 4096;  // 0 = the driver's choice, not checked
  uint64_t zone_size = 0;
  uint64_t zone_capacity = 0;  // 0 = zone_size
  uint32_t nr_zones = 0;
  uint32_t conventional_zones = 0;
  uint32_t max_open = 0;
  uint32_t max_active = 0;
  uint64_t max_append = 0;  // 0 = not checked
  std::vector<uint32_t> read_only_zones;
  std::vector<uint32_t> offline_zones;
};

struct Config {
  std::string name;           // a C identifier: the last part of every test name
  std::string option_string;  // may hold "<tmp>" and "<loop>", replaced when the device opens
  std::vector<std::string> driver_labels;  // ctest labels: "emulated", "raw", "file", ...
  Expected expect;
  // Data survives closing and reopening the device (a file, a real device).
  bool persistent = false;
  // Opening gives a device in a fresh state (every zone empty); otherwise the suites reset it.
  bool fresh_on_open = true;
  // The device belongs to the user: data-destroying tests need ZBL_ALLOW_DESTRUCTIVE=1.
  bool user_owned = false;
  Needs needs = Needs::kNothing;
  // The family the device belongs to by nature (null_blk for driver=null_blk); "" = unknown.
  std::string family;
  // Size of the temporary file "<tmp>" stands for (0 = an empty file).
  uint64_t tmp_file_size = 0;
};

// Every configuration: the built-in list, then `user_device` when ZBL_DEVICE is set.
const std::vector<Config>& AllConfigs();
// Built-in configurations only.
const std::vector<Config>& BuiltinConfigs();
const Config* FindConfig(std::string_view name);

// The family a configuration is held to: its option string's `profile=` (at any level), else
// its own family, else env ZBL_PROFILE, else none.
std::optional<std::string> ConfigProfile(const Config& c);

// The Linux version whose answers the configuration's device gives: the running kernel's when
// the driver graph reaches the kernel's zoned block layer (host_device, null_blk backend=kernel)
// and has no emulator profile; nullopt for zbl's own models (they model the current kernels).
// ZBL_KERNEL_VERSION=6.12 overrides the running kernel (to hold a device to another kernel's
// answers).
std::optional<uint32_t> ConfigKernel(const Config& c);

// Why a configuration cannot run here ("driver 'raw' is not available in this build"), or "".
std::string SkipReason(const Config& c);

// Opens the configuration's device in the state the suites start from: fresh, or (persistent
// and kernel devices, when allowed) with every zone reset. `wipe` = false keeps existing data
// (reopen in the persistence suite; the user's device without ZBL_ALLOW_DESTRUCTIVE).
Result<std::unique_ptr<Backend>> OpenConfig(const Config& c, bool wipe = true);
// Opens it again over the same storage, without wiping (persistence).
Result<std::unique_ptr<Backend>> ReopenConfig(const Config& c);

// True when ZBL_ALLOW_DESTRUCTIVE=1.
bool DestructiveAllowed();
// May tests destroy data on this configuration's device?
bool MayDestroy(const Config& c);

// The drivers named in an option string, outer first ("raw", "file").
std::vector<std::string> DriversOf(const std::string& option_string);

}  // namespace zbl::suites
