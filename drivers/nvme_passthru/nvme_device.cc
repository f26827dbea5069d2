#include "nvme_device.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <algorithm>

#include <fmt/format.h>

namespace zbl::nvme {

Status Completion::ToStatus(std::string_view what) const {
  if (ok()) return Status::Ok();
  if (sys_errno != 0) return ErrnoStatus(sys_errno, what);
  return Error(StatusErrno(status), "{}: {}", what, DescribeStatus(status));
}

namespace {

Completion Ioctl(int fd, unsigned long request, const UringCmd& cmd, uint32_t nsid) {
  PassthruCmd64 c{cmd, 0};
  if (c.cmd.nsid == 0) c.cmd.nsid = nsid;
  Completion out;
  int rc;
  do {
    rc = ::ioctl(fd, request, &c);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    out.sys_errno = errno;
    return out;
  }
  out.status.raw = static_cast<uint16_t>(rc);
  out.result = c.result;
  return out;
}

// A sysfs value of the namespace's block device ("" when absent).
std::string SysfsValue(const std::string& block_name, const std::string& attr) {
  std::ifstream f("/sys/block/" + block_name + "/" + attr);
  std::string v;
  if (f) std::getline(f, v);
  return v;
}

}  // namespace

Result<std::unique_ptr<Device>> Device::Open(const std::string& path, uint32_t nsid,
                                             bool read_only) {
  int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == EACCES || e == EPERM) {
      return Error(e, "{}: NVMe passthrough needs root (or CAP_SYS_ADMIN and access to the node)",
                   path);
    }
    return ErrnoStatus(e, fmt::format("open {}", path));
  }
  std::unique_ptr<Device> dev(new Device(fd, path));
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
    return Error(EINVAL, "{}: not a character device; nvme_passthru takes the namespace's "
                 "generic device /dev/ngXnY", path);
  }
  int id = ::ioctl(fd, kIoctlId);
  if (id <= 0) {
    return Error(ENOTTY == errno ? ENOTSUP : EINVAL,
                 "{}: not an NVMe namespace (NVME_IOCTL_ID failed); use /dev/ngXnY", path);
  }
  dev->id_.nsid = nsid != 0 ? nsid : static_cast<uint32_t>(id);
  ZBL_RETURN_IF_ERROR(dev->Identify());
  return dev;
}

Device::~Device() {
  if (fd_ >= 0) ::close(fd_);
}

Completion Device::Io(UringCmd cmd) const { return Ioctl(fd_, kIoctlIo64, cmd, id_.nsid); }
Completion Device::Admin(UringCmd cmd) const {
  return Ioctl(fd_, kIoctlAdmin64, cmd, cmd.nsid);
}

Status Device::Identify() {
  std::vector<uint8_t> buf(kIdentifySize);
  auto identify = [&](uint8_t cns, uint8_t csi, uint32_t nsid, std::string_view what) {
    std::fill(buf.begin(), buf.end(), 0);
    UringCmd c{};
    c.opcode = static_cast<uint8_t>(AdminOp::kIdentify);
    c.nsid = nsid;
    c.addr = reinterpret_cast<uintptr_t>(buf.data());
    c.data_len = static_cast<uint32_t>(buf.size());
    c.cdw10 = cns;
    c.cdw11 = uint32_t{csi} << 24;
    return Admin(c).ToStatus(fmt::format("{}: identify {}", path_, what));
  };
  std::string why;
  ZBL_RETURN_IF_ERROR(identify(kCnsController, 0, 0, "controller"));
  if (!ParseIdController(buf, id_.ctrl, why)) return Error(EIO, "{}: {}", path_, why);
  ZBL_RETURN_IF_ERROR(identify(kCnsNamespace, 0, id_.nsid, "namespace"));
  if (!ParseIdNamespace(buf, id_.ns, why)) return Error(EIO, "{}: {}", path_, why);
  Status zns = identify(kCnsCsiNamespace, kCsiZns, id_.nsid, "namespace (zoned command set)");
  if (!zns.ok()) {
    return Error(ENOTSUP, "{}: namespace {} has no zoned command set ({})", path_, id_.nsid,
                 zns.ToString());
  }
  if (!ParseIdZnsNamespace(buf, id_.ns.lbaf_index, id_.zns, why)) {
    return Error(ENOTSUP, "{}: {}", path_, why);
  }
  ZBL_RETURN_IF_ERROR(identify(kCnsCsiController, kCsiZns, 0, "controller (zoned command set)"));
  id_.zasl = ParseZasl(buf);

  id_.lba_bytes = id_.ns.lba_bytes;
  id_.nr_lbas = id_.ns.nsze;
  id_.zone_lbas = id_.zns.zsze;
  id_.nr_zones = static_cast<uint32_t>(id_.nr_lbas / id_.zone_lbas);
  // MDTS and ZASL count in units of the controller's minimum memory page size (CAP.MPSMIN),
  // which user space cannot read; Linux and every known ZNS controller use 4 KiB.
  constexpr uint64_t kMinPage = 4096;
  uint64_t mdts = id_.ctrl.mdts ? kMinPage << id_.ctrl.mdts : 0;
  // The namespace's block device (ngXnY <-> nvmeXnY) carries the kernel's transfer limit.
  std::string base = path_.substr(path_.rfind('/') + 1);
  if (base.rfind("ng", 0) == 0) {
    std::string block = "nvme" + base.substr(2);
    std::string hw = SysfsValue(block, "queue/max_hw_sectors_kb");
    if (!hw.empty()) {
      id_.block_device = "/dev/" + block;
      uint64_t kernel = std::stoull(hw) * 1024;
      // A user buffer maps page by page; an unaligned one spans one page more than its length.
      std::string segs = SysfsValue(block, "queue/max_segments");
      if (!segs.empty() && std::stoull(segs) > 1) {
        kernel = std::min<uint64_t>(kernel, (std::stoull(segs) - 1) * kMinPage);
      }
      mdts = mdts ? std::min(mdts, kernel) : kernel;
    }
  }
  id_.max_transfer_bytes = mdts;
  id_.max_append_bytes = id_.zasl ? kMinPage << id_.zasl : mdts;
  if (mdts) id_.max_append_bytes = std::min(id_.max_append_bytes, mdts);
  return Status::Ok();
}

Completion Device::Read(uint64_t slba, void* buf, size_t len) const {
  return Io(DataCommand(IoOp::kRead, slba, buf, len, id_.lba_bytes));
}

Completion Device::Write(uint64_t slba, const void* buf, size_t len) const {
  return Io(DataCommand(IoOp::kWrite, slba, buf, len, id_.lba_bytes));
}

Completion Device::Flush() const {
  UringCmd c{};
  c.opcode = static_cast<uint8_t>(IoOp::kFlush);
  return Io(c);
}

Completion Device::Append(uint64_t zslba, const void* buf, size_t len) const {
  return Io(DataCommand(IoOp::kZoneAppend, zslba, buf, len, id_.lba_bytes));
}

Completion Device::Send(SendAction action, uint64_t slba, bool select_all, bool zrwa,
                        std::span<const uint8_t> data) const {
  UringCmd c{};
  c.opcode = static_cast<uint8_t>(IoOp::kZoneMgmtSend);
  c.cdw10 = static_cast<uint32_t>(slba);
  c.cdw11 = static_cast<uint32_t>(slba >> 32);
  c.cdw13 = static_cast<uint32_t>(action) | (select_all ? kSendSelectAll : 0) |
            (zrwa ? kSendZrwaAllocate : 0);
  if (!data.empty()) {
    c.addr = reinterpret_cast<uintptr_t>(data.data());
    c.data_len = static_cast<uint32_t>(data.size());
  }
  return Io(c);
}

Completion Device::Report(uint64_t slba, size_t max_zones, bool extended,
                          std::vector<ZoneDescriptor>& out) const {
  size_t ext = extended ? id_.zns.zdes_bytes : 0;
  size_t each = kDescriptorSize + ext;
  size_t len = kReportHeaderSize + each * std::max<size_t>(max_zones, 1);
  if (id_.max_transfer_bytes && len > id_.max_transfer_bytes) {
    len = id_.max_transfer_bytes;
  }
  len &= ~size_t{3};
  std::vector<uint8_t> buf(len);
  UringCmd c{};
  c.opcode = static_cast<uint8_t>(IoOp::kZoneMgmtRecv);
  c.addr = reinterpret_cast<uintptr_t>(buf.data());
  c.data_len = static_cast<uint32_t>(len);
  c.cdw10 = static_cast<uint32_t>(slba);
  c.cdw11 = static_cast<uint32_t>(slba >> 32);
  c.cdw12 = static_cast<uint32_t>(len / 4 - 1);  // NUMD, 0's based
  c.cdw13 = (extended ? kRecvExtendedReport : kRecvReport) | kRecvPartial;
  Completion done = Io(c);
  if (!done.ok()) return done;
  std::string why;
  if (!ParseZoneReport(buf, ext, out, why)) {
    done.status.raw = sc::kInternal;
    return done;
  }
  if (out.size() > max_zones && max_zones > 0) out.resize(max_zones);
  return done;
}

}  // namespace zbl::nvme
