// The Node behind driver=file and driver=host_device (internal to drivers/file).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "file.h"

namespace zbl::file {

enum class Aio : uint8_t { kIoUring, kThreads };

struct FileConfig {
  std::string filename;
  bool direct = false;
  bool read_only = false;
  Aio aio = Aio::kThreads;
  bool host_device = false;
  bool create = false;  // OpenFlags::create: a missing regular file is created empty
};

class FileNode final : public Node {
 public:
  // Opens and probes; `spec` is kFileDriver or kHostDeviceDriver.
  static Result<std::unique_ptr<FileNode>> Open(const DriverSpec& spec, const FileConfig& cfg);
  ~FileNode() override;

  Result<Limits> ComputeLimits() override;
  Status Read(uint64_t offset, void* buf, size_t len) override;
  Status Write(uint64_t offset, const void* buf, size_t len) override;
  Status Flush() override;
  Result<size_t> ReportZones(uint64_t offset, std::span<Zone> zones) override;
  Status ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) override;
  Status ZoneResetAll() override;
  Result<uint64_t> ZoneAppend(uint64_t zone_offset, const void* buf, size_t len) override;
  Status Discard(uint64_t offset, uint64_t len) override;
  Status Truncate(uint64_t size) override;
  Result<std::unique_ptr<IoQueue>> CreateQueue(unsigned depth) override;
  Capabilities capabilities() const override;
  void Describe(NodeInfo& info) const override;

  int fd() const { return fd_; }
  bool zoned() const { return geo_.model != ZoneModel::kNone; }
  bool read_only() const { return cfg_.read_only; }
  // The write-pointer cache after an asynchronous write (queue completions).
  void NoteWriteDone(uint64_t offset, size_t len, bool ok);
  const std::string& path() const { return cfg_.filename; }
  std::string filename() const override { return cfg_.filename; }

 private:
  FileNode(const DriverSpec& spec, const FileConfig& cfg) : Node(spec), cfg_(cfg) {}
  int OpenFile(bool direct) const;
  Status OpenFd();
  // Zoned devices always use O_DIRECT (see file.h).
  Status ReopenDirect();
  Status ProbeRegular(const struct stat& st);
  uint64_t RoundUpToBlock(uint64_t bytes) const;
  Status ProbeBlock(const struct stat& st);
  void ProbeZoned(const struct stat& st);
  Status OpenZbd();
  Status Pread(void* buf, size_t len, uint64_t offset) const;
  Status Pwrite(const void* buf, size_t len, uint64_t offset) const;
  Status RefuseReadOnly(std::string_view what) const;
  // Write-pointer cache (zoned host_device only).
  Status RefreshWps(uint64_t first_zone, uint64_t count);
  void AdvanceWp(uint64_t offset, uint64_t len);
  Zone ToZone(const struct zbd_zone& z) const;
  uint64_t ZoneLen(uint64_t z) const;

  FileConfig cfg_;
  int fd_ = -1;
  int zbd_fd_ = -1;
  uint64_t size_ = 0;
  uint32_t lbs_ = 512;
  uint32_t align_ = 512;
  bool is_block_ = false;
  bool direct_ = false;  // O_DIRECT in effect: cache.direct=on, or forced for a zoned device
  bool block_discard_ = false;  // a block device with queue/discard_max_bytes > 0
  std::string no_data_;         // why a block device keeps no data ("" when it does)
  ZonedGeometry geo_;
  std::string zbd_vendor_;
  // One entry per zone: the cached write pointer (absolute bytes; kInvalidWritePointer for
  // read-only/offline zones), the zone's type and capacity, and its lock for appends.
  std::unique_ptr<std::atomic<uint64_t>[]> wps_;
  std::unique_ptr<uint8_t[]> types_;
  std::unique_ptr<uint64_t[]> caps_;
  std::unique_ptr<std::mutex[]> zone_mu_;
};

// zbd_close (zoned.cc), so that libzbd stays inside zoned.cc.
void CloseZbd(int fd);

// An io_uring queue over `node` (uring.cc).
Result<std::unique_ptr<IoQueue>> CreateUringQueue(FileNode& node, unsigned depth);
// A regular file on tmpfs or ramfs: its io_uring queue does requests at submission (uring.cc).
bool OnMemoryFileSystem(int fd);

}  // namespace zbl::file
