// An NVMe Zoned Namespace reached through Linux's generic character device (/dev/ngXnY):
// passthrough commands, as ZNS firmware engineers send them, with none of the block layer in
// between (no zone write plug, no append emulation, nothing hidden). driver=nvme_passthru wraps
// it for the Backend; tests that need what the Backend cannot express (ZRWA, descriptor
// extensions, zone attributes, the raw NVMe status) use this class directly.
//
// Every command returns a Completion: the NVMe status of the device kept as it came (SCT, SC),
// the errno the kernel's block layer would give that status, and the command's result dwords.
// Thread safety: every method may be called from many threads at once (each command is one
// ioctl; nothing is cached but the identify data read at Open).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nvme_spec.h"
#include "zbl/status.h"

namespace zbl::nvme {

struct Completion {
  NvmeStatus status;  // the device's answer; status.ok() when it succeeded
  int sys_errno = 0;  // the ioctl's own failure (EINVAL, EACCES, ...), before any device status
  uint64_t result = 0;  // completion DW0..1 (zone append: the LBA written)

  bool ok() const { return sys_errno == 0 && status.ok(); }
  // The errno a caller sees: the ioctl's, else the block layer's mapping of the status.
  int err() const { return sys_errno != 0 ? sys_errno : StatusErrno(status); }
  // OK, or an error Status whose message is `what` plus the NVMe status.
  Status ToStatus(std::string_view what) const;
};

// What the identify commands said, in the units the device uses, plus derived byte values.
struct Identity {
  uint32_t nsid = 0;
  IdController ctrl;
  IdNamespace ns;
  IdZnsNamespace zns;
  uint8_t zasl = 0;
  uint32_t lba_bytes = 0;
  uint64_t nr_lbas = 0;
  uint64_t zone_lbas = 0;
  uint32_t nr_zones = 0;
  uint64_t max_transfer_bytes = 0;  // min(MDTS, the kernel's max_hw_sectors); 0 = unknown
  uint64_t max_append_bytes = 0;    // ZASL (0 there means MDTS)
  std::string block_device;         // "/dev/nvme0n1" when the namespace has one
};

class Device {
 public:
  // Opens `path` (a /dev/ngXnY character device); nsid 0 = the namespace of the device node.
  // Reads the identify data and refuses a namespace that is not zoned (no ZNS command set).
  static Result<std::unique_ptr<Device>> Open(const std::string& path, uint32_t nsid,
                                              bool read_only);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const Identity& id() const { return id_; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // One I/O command through NVME_IOCTL_IO64_CMD (nsid filled in).
  Completion Io(UringCmd cmd) const;
  Completion Admin(UringCmd cmd) const;

  Completion Read(uint64_t slba, void* buf, size_t len) const;
  Completion Write(uint64_t slba, const void* buf, size_t len) const;
  Completion Flush() const;
  // Zone append to the zone starting at zslba; result = the LBA the device chose.
  Completion Append(uint64_t zslba, const void* buf, size_t len) const;
  // Zone management send. `select_all` applies to every zone (SLBA ignored); `zrwa` allocates a
  // ZRWA with kOpen; `data` is the descriptor extension for kSetDescriptorExtension.
  Completion Send(SendAction action, uint64_t slba, bool select_all = false, bool zrwa = false,
                  std::span<const uint8_t> data = {}) const;
  // ZRWA flush up to and including `last_lba` (ZSA 11h).
  Completion ZrwaFlush(uint64_t last_lba) const { return Send(SendAction::kZrwaFlush, last_lba); }
  // Zone report from the zone containing `slba`, at most `max_zones` zones; extended reports
  // carry each zone's descriptor extension.
  Completion Report(uint64_t slba, size_t max_zones, bool extended,
                    std::vector<ZoneDescriptor>& out) const;

 private:
  Device(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status Identify();

  int fd_ = -1;
  std::string path_;
  Identity id_;
};

}  // namespace zbl::nvme
