#include "nvme_spec.h"

#include <fmt/format.h>

#include <cerrno>

namespace zbl::nvme {

std::string StatusName(uint16_t code) {
  switch (code) {
    case 0x000: return "Successful Completion";
    case sc::kInvalidOpcode: return "Invalid Command Opcode";
    case sc::kInvalidField: return "Invalid Field in Command";
    case sc::kDataTransferError: return "Data Transfer Error";
    case sc::kInternal: return "Internal Error";
    case sc::kInvalidNamespace: return "Invalid Namespace or Format";
    case sc::kLbaRange: return "LBA Out of Range";
    case sc::kCapacityExceeded: return "Capacity Exceeded";
    case sc::kNamespaceNotReady: return "Namespace Not Ready";
    case 0x1b6: return "Invalid Zone Operation Request";
    case 0x1b7: return "ZRWA Resources Unavailable";
    case sc::kZoneBoundaryError: return "Zone Boundary Error";
    case sc::kZoneFull: return "Zone Is Full";
    case sc::kZoneReadOnly: return "Zone Is Read Only";
    case sc::kZoneOffline: return "Zone Is Offline";
    case sc::kZoneInvalidWrite: return "Zone Invalid Write";
    case sc::kZoneTooManyActive: return "Too Many Active Zones";
    case sc::kZoneTooManyOpen: return "Too Many Open Zones";
    case sc::kZoneInvalidTransition: return "Invalid Zone State Transition";
    case sc::kWriteFault: return "Write Fault";
    case sc::kUnrecoveredReadError: return "Unrecovered Read Error";
    case sc::kAccessDenied: return "Access Denied";
    default: return "";
  }
}

std::string DescribeStatus(NvmeStatus s) {
  std::string name = StatusName(s.code());
  std::string text = fmt::format("NVMe status SCT {:#x} SC {:#04x}", s.sct(), s.sc());
  if (!name.empty()) text += fmt::format(" ({})", name);
  if (s.dnr()) text += ", DNR";
  return text;
}

int StatusErrno(NvmeStatus s) {
  // nvme_error_status() gives a blk_status_t; blk_status_to_errno() the errno.
  switch (s.code()) {
    case 0: return 0;
    case sc::kCapacityExceeded: return ENOSPC;
    case sc::kLbaRange: return EREMOTEIO;  // BLK_STS_TARGET
    case sc::kInvalidOpcode:
    case sc::kInvalidField:
    case sc::kInvalidNamespace:
    case 0x180:  // Conflicting Attributes
    case 0x182:  // Invalid Protection Information / ONCS not supported, as the kernel groups it
      return EOPNOTSUPP;  // BLK_STS_NOTSUPP
    case sc::kWriteFault:
    case sc::kUnrecoveredReadError:
    case 0x285:  // Compare Failure
    case sc::kAccessDenied:
    case 0x287:  // Deallocated or Unwritten Logical Block
      return ENODATA;  // BLK_STS_MEDIUM
    case 0x282: case 0x283: case 0x284: case 0x288:  // end-to-end protection checks
      return EILSEQ;  // BLK_STS_PROTECTION
    case 0x083: return EBADE;  // Reservation Conflict: BLK_STS_RESV_CONFLICT
    case sc::kZoneTooManyActive: return EOVERFLOW;  // BLK_STS_ZONE_ACTIVE_RESOURCE
    case sc::kZoneTooManyOpen: return ETOOMANYREFS;  // BLK_STS_ZONE_OPEN_RESOURCE
    default: break;
  }
  if (s.sct() == 0x3) return ENOLINK;  // path-related status: BLK_STS_TRANSPORT
  return EIO;
}

namespace {
std::string Trimmed(std::span<const uint8_t> b, size_t off, size_t len) {
  std::string s(reinterpret_cast<const char*>(b.data()) + off, len);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}
}  // namespace

bool ParseIdNamespace(std::span<const uint8_t> b, IdNamespace& out, std::string& why) {
  if (b.size() < kIdentifySize) {
    why = fmt::format("identify namespace: {} bytes, need {}", b.size(), kIdentifySize);
    return false;
  }
  out.nsze = Le(b, 0, 8);
  uint8_t nlbaf = b[25];  // 0's based
  uint8_t flbas = b[26];
  out.lbaf_index = static_cast<uint8_t>((flbas & 0x0f) | ((flbas >> 5) & 0x3) << 4);
  if (out.lbaf_index > nlbaf || out.lbaf_index >= 64) {
    why = fmt::format("identify namespace: LBA format {} in use, {} formats", out.lbaf_index,
                      nlbaf + 1);
    return false;
  }
  size_t f = 128 + 4 * size_t{out.lbaf_index};
  out.metadata_bytes = static_cast<uint16_t>(Le(b, f, 2));
  uint8_t lbads = b[f + 2];
  if (lbads < 9 || lbads > 16) {
    why = fmt::format("identify namespace: LBA data size 2^{} is not supported", lbads);
    return false;
  }
  out.lba_bytes = 1u << lbads;
  return true;
}

bool ParseIdController(std::span<const uint8_t> b, IdController& out, std::string& why) {
  if (b.size() < kIdentifySize) {
    why = fmt::format("identify controller: {} bytes, need {}", b.size(), kIdentifySize);
    return false;
  }
  out.serial = Trimmed(b, 4, 20);
  out.model = Trimmed(b, 24, 40);
  out.firmware = Trimmed(b, 64, 8);
  out.mdts = b[77];
  return true;
}

bool ParseIdZnsNamespace(std::span<const uint8_t> b, uint8_t lbaf_index, IdZnsNamespace& out,
                         std::string& why) {
  if (b.size() < kIdentifySize) {
    why = fmt::format("ZNS identify namespace: {} bytes, need {}", b.size(), kIdentifySize);
    return false;
  }
  out.zoc = static_cast<uint16_t>(Le(b, 0, 2));
  out.ozcs = static_cast<uint16_t>(Le(b, 2, 2));
  out.mar = static_cast<uint32_t>(Le(b, 4, 4));
  out.mor = static_cast<uint32_t>(Le(b, 8, 4));
  out.rrl = static_cast<uint32_t>(Le(b, 12, 4));
  out.frl = static_cast<uint32_t>(Le(b, 16, 4));
  out.numzrwa = static_cast<uint32_t>(Le(b, 44, 4));
  out.zrwafg = static_cast<uint16_t>(Le(b, 48, 2));
  out.zrwasz = static_cast<uint16_t>(Le(b, 50, 2));
  out.zrwacap = b[52];
  size_t e = 2816 + 16 * size_t{lbaf_index};
  out.zsze = Le(b, e, 8);
  out.zdes_bytes = uint32_t{b[e + 8]} * 64;
  if (out.zsze == 0) {
    why = fmt::format("ZNS identify namespace: zone size 0 for LBA format {}", lbaf_index);
    return false;
  }
  return true;
}

bool ParseZoneReport(std::span<const uint8_t> b, size_t ext_bytes,
                     std::vector<ZoneDescriptor>& out, std::string& why) {
  out.clear();
  if (b.size() < kReportHeaderSize) {
    why = fmt::format("zone report: {} bytes, shorter than its header", b.size());
    return false;
  }
  uint64_t nrz = Le(b, 0, 8);
  size_t each = kDescriptorSize + ext_bytes;
  size_t room = (b.size() - kReportHeaderSize) / each;
  if (nrz > room) {
    why = fmt::format("zone report: {} zones reported, the buffer holds {}", nrz, room);
    return false;
  }
  out.reserve(nrz);
  for (size_t i = 0; i < nrz; ++i) {
    size_t o = kReportHeaderSize + i * each;
    ZoneDescriptor d;
    d.type = b[o] & 0x0f;
    d.state = static_cast<uint8_t>(b[o + 1] >> 4);
    d.attrs = b[o + 2];
    d.attrs_info = b[o + 3];
    d.capacity = Le(b, o + 8, 8);
    d.start = Le(b, o + 16, 8);
    d.wp = Le(b, o + 24, 8);
    if (ext_bytes > 0) {
      d.extension.assign(b.begin() + static_cast<std::ptrdiff_t>(o + kDescriptorSize),
                         b.begin() + static_cast<std::ptrdiff_t>(o + each));
    }
    out.push_back(std::move(d));
  }
  return true;
}

}  // namespace zbl::nvme
