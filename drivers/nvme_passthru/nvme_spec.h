// NVMe and Zoned Namespace (ZNS) command-set facts, as the NVMe Base 2.0 and ZNS 1.1
// specifications and Linux's passthrough ABI (<linux/nvme_ioctl.h>) define them. Written here
// from the specifications' layouts (Debian 12's linux-libc-dev knows the ioctl structs but none
// of the ZNS data structures); every size is checked below. Only this driver sees these types.
//
// Units: the device counts in logical blocks (LBAs); 0's-based counts (NLB, NUMD) are marked.
#pragma once

#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace zbl::nvme {

// ---- Linux passthrough ABI (include/uapi/linux/nvme_ioctl.h) ----

// struct nvme_uring_cmd: PassthruCmd64 without `result` (carried in the 32-byte CQE's
// big_cqe[0] instead); it lives in the 80-byte command area of a 128-byte SQE.
struct UringCmd {
  uint8_t opcode;
  uint8_t flags;
  uint16_t rsvd1;
  uint32_t nsid;
  uint32_t cdw2;
  uint32_t cdw3;
  uint64_t metadata;
  uint64_t addr;
  uint32_t metadata_len;
  uint32_t data_len;
  uint32_t cdw10;
  uint32_t cdw11;
  uint32_t cdw12;
  uint32_t cdw13;
  uint32_t cdw14;
  uint32_t cdw15;
  uint32_t timeout_ms;
  uint32_t rsvd2;
};
static_assert(sizeof(UringCmd) == 72);

// struct nvme_passthru_cmd64, the synchronous ioctl form: the same command followed by
// `result` (completion DW0..DW1).
struct PassthruCmd64 {
  UringCmd cmd;
  uint64_t result;
};
static_assert(sizeof(PassthruCmd64) == 80);
static_assert(offsetof(PassthruCmd64, result) == 72);

inline constexpr unsigned long kIoctlId = _IO('N', 0x40);
inline constexpr unsigned long kIoctlAdmin64 = _IOWR('N', 0x47, PassthruCmd64);
inline constexpr unsigned long kIoctlIo64 = _IOWR('N', 0x48, PassthruCmd64);
inline constexpr uint32_t kUringCmdIo = _IOWR('N', 0x80, UringCmd);
inline constexpr uint32_t kUringCmdAdmin = _IOWR('N', 0x82, UringCmd);
static_assert(kIoctlIo64 == 0xC0504E48u && kUringCmdIo == 0xC0484E80u);

// ---- Opcodes ----
enum class AdminOp : uint8_t { kIdentify = 0x06 };
enum class IoOp : uint8_t {
  kFlush = 0x00,
  kWrite = 0x01,
  kRead = 0x02,
  kZoneMgmtSend = 0x79,
  kZoneMgmtRecv = 0x7a,
  kZoneAppend = 0x7d,
};

// A read, write or zone append of `len` bytes at `slba` (LBAs of `lba_bytes`): NLB is 0's based.
inline UringCmd DataCommand(IoOp op, uint64_t slba, const void* buf, size_t len,
                            uint32_t lba_bytes) {
  UringCmd c{};
  c.opcode = static_cast<uint8_t>(op);
  c.addr = reinterpret_cast<uintptr_t>(buf);
  c.data_len = static_cast<uint32_t>(len);
  c.cdw10 = static_cast<uint32_t>(slba);
  c.cdw11 = static_cast<uint32_t>(slba >> 32);
  c.cdw12 = static_cast<uint32_t>(len / lba_bytes - 1);
  return c;
}

// Identify CNS values and the ZNS command set identifier.
inline constexpr uint8_t kCnsNamespace = 0x00;
inline constexpr uint8_t kCnsController = 0x01;
inline constexpr uint8_t kCnsCsiNamespace = 0x05;
inline constexpr uint8_t kCnsCsiController = 0x06;
inline constexpr uint8_t kCsiZns = 0x02;
inline constexpr size_t kIdentifySize = 4096;

// Zone Send Action (Zone Management Send CDW13 bits 7:0); bit 8 Select All; bit 9 ZRWAA
// (allocate a zone random write area, with kOpen).
enum class SendAction : uint8_t {
  kClose = 0x01,
  kFinish = 0x02,
  kOpen = 0x03,
  kReset = 0x04,
  kOffline = 0x05,
  kSetDescriptorExtension = 0x10,
  kZrwaFlush = 0x11,
};
inline constexpr uint32_t kSendSelectAll = 1u << 8;
inline constexpr uint32_t kSendZrwaAllocate = 1u << 9;

// Zone Receive Action (Zone Management Receive CDW13 bits 7:0); bit 16 Partial Report.
inline constexpr uint32_t kRecvReport = 0x00;
inline constexpr uint32_t kRecvExtendedReport = 0x01;
inline constexpr uint32_t kRecvPartial = 1u << 16;

// ---- Completion status (the 15-bit Status Field, as Linux hands it to user space) ----
struct NvmeStatus {
  uint16_t raw = 0;  // SC 7:0, SCT 10:8, CRD 12:11, More 13, DNR 14
  uint8_t sc() const { return raw & 0xff; }
  uint8_t sct() const { return (raw >> 8) & 0x7; }
  bool dnr() const { return (raw & 0x4000) != 0; }
  bool ok() const { return (raw & 0x7ff) == 0; }
  // SCT and SC as one value, e.g. 0x1bc (Zone Invalid Write).
  uint16_t code() const { return raw & 0x7ff; }
};
namespace sc {
inline constexpr uint16_t kInvalidOpcode = 0x001;
inline constexpr uint16_t kInvalidField = 0x002;
inline constexpr uint16_t kDataTransferError = 0x004;
inline constexpr uint16_t kInternal = 0x006;
inline constexpr uint16_t kInvalidNamespace = 0x00b;
inline constexpr uint16_t kLbaRange = 0x080;
inline constexpr uint16_t kCapacityExceeded = 0x081;
inline constexpr uint16_t kNamespaceNotReady = 0x082;
inline constexpr uint16_t kZoneBoundaryError = 0x1b8;
inline constexpr uint16_t kZoneFull = 0x1b9;
inline constexpr uint16_t kZoneReadOnly = 0x1ba;
inline constexpr uint16_t kZoneOffline = 0x1bb;
inline constexpr uint16_t kZoneInvalidWrite = 0x1bc;
inline constexpr uint16_t kZoneTooManyActive = 0x1bd;
inline constexpr uint16_t kZoneTooManyOpen = 0x1be;
inline constexpr uint16_t kZoneInvalidTransition = 0x1bf;
inline constexpr uint16_t kWriteFault = 0x280;
inline constexpr uint16_t kUnrecoveredReadError = 0x281;
inline constexpr uint16_t kAccessDenied = 0x286;
}  // namespace sc

// The status's name as the specifications spell it ("Zone Invalid Write"), or "" when unknown.
std::string StatusName(uint16_t code);
// "SCT 0x1 SC 0xbc (Zone Invalid Write)".
std::string DescribeStatus(NvmeStatus s);
// The errno Linux's block layer gives the same status (drivers/nvme/host/core.c's
// nvme_error_status, then blk_status_to_errno), so a refusal reads the same through the block
// device and through passthrough: ETOOMANYREFS / EOVERFLOW for open / active resources, EIO for
// write-pointer and boundary violations, EOPNOTSUPP for invalid opcode or field, ...
int StatusErrno(NvmeStatus s);

// ---- Data structures, read from little-endian byte buffers ----
inline uint64_t Le(std::span<const uint8_t> b, size_t off, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= uint64_t{b[off + i]} << (8 * i);
  return v;
}

// Identify Namespace (NVM command set), the fields zbl needs.
struct IdNamespace {
  uint64_t nsze = 0;       // size in LBAs
  uint8_t lbaf_index = 0;  // FLBAS: the format in use
  uint32_t lba_bytes = 0;  // 1 << LBADS of that format
  uint16_t metadata_bytes = 0;
};
// False (and `why`) when the buffer is short or the format in use is not valid.
bool ParseIdNamespace(std::span<const uint8_t> b, IdNamespace& out, std::string& why);

// Identify Controller, the fields zbl shows and uses.
struct IdController {
  std::string serial, model, firmware;
  uint8_t mdts = 0;  // max data transfer, 2^mdts units of the minimum page size; 0 = no limit
};
bool ParseIdController(std::span<const uint8_t> b, IdController& out, std::string& why);

// ZNS Identify Namespace (CNS 05h, CSI 02h).
struct IdZnsNamespace {
  uint16_t zoc = 0;    // bit 0 variable zone capacity, bit 1 zone active excursions
  uint16_t ozcs = 0;   // bit 0 read across zone boundaries, bit 1 ZRWA supported
  uint32_t mar = 0;    // max active resources, 0's based; 0xffffffff = no limit
  uint32_t mor = 0;    // max open resources, 0's based; 0xffffffff = no limit
  uint32_t rrl = 0, frl = 0;  // reset / finish recommended limits, seconds
  uint32_t numzrwa = 0;  // ZRWA resources, 0's based
  uint16_t zrwafg = 0;   // ZRWA flush granularity, LBAs
  uint16_t zrwasz = 0;   // ZRWA size, LBAs
  uint8_t zrwacap = 0;   // bit 0 explicit ZRWA flush supported
  uint64_t zsze = 0;     // zone size, LBAs (of the LBA format in use)
  uint32_t zdes_bytes = 0;  // zone descriptor extension size, bytes (ZDES x 64)

  bool zrwa_supported() const { return (ozcs & 0x2) != 0; }
  // Limits as counts, 0 = no limit.
  uint32_t max_active() const { return mar == 0xffffffffu ? 0 : mar + 1; }
  uint32_t max_open() const { return mor == 0xffffffffu ? 0 : mor + 1; }
};
bool ParseIdZnsNamespace(std::span<const uint8_t> b, uint8_t lbaf_index, IdZnsNamespace& out,
                         std::string& why);

// ZNS Identify Controller (CNS 06h, CSI 02h): ZASL, 2^zasl units of the minimum page size;
// 0 = the MDTS.
inline uint8_t ParseZasl(std::span<const uint8_t> b) { return b.empty() ? 0 : b[0]; }

// One zone descriptor (64 bytes) of a zone management receive report.
struct ZoneDescriptor {
  uint8_t type = 0;   // 2 = sequential write required
  uint8_t state = 0;  // ZS: 1 empty, 2 implicitly open, 3 explicitly open, 4 closed,
                      // 0xd read only, 0xe full, 0xf offline
  uint8_t attrs = 0;  // ZA: bit 0 ZFC, 1 FZR, 2 RZR, 3 ZRWAV, 7 ZDEV
  uint8_t attrs_info = 0;
  uint64_t capacity = 0;  // LBAs
  uint64_t start = 0;     // LBA
  uint64_t wp = 0;        // LBA
  std::vector<uint8_t> extension;  // the descriptor extension (extended reports)
};
inline constexpr size_t kReportHeaderSize = 64;
inline constexpr size_t kDescriptorSize = 64;
namespace za {
inline constexpr uint8_t kFinishedByController = 0x01;
inline constexpr uint8_t kFinishRecommended = 0x02;
inline constexpr uint8_t kResetRecommended = 0x04;
inline constexpr uint8_t kZrwaValid = 0x08;
inline constexpr uint8_t kExtensionValid = 0x80;
}  // namespace za

// Parses a report of `ext_bytes`-byte extensions (0 for a plain report): the header's zone count
// (partial report: the zones in this buffer), then each descriptor. False (and `why`) on a count
// the buffer cannot hold.
bool ParseZoneReport(std::span<const uint8_t> b, size_t ext_bytes,
                     std::vector<ZoneDescriptor>& out, std::string& why);

}  // namespace zbl::nvme
