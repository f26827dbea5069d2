// The ublk user-space ABI (Linux include/uapi/linux/ublk_cmd.h, as of Linux 6.12), written here
// because Debian 12's linux-libc-dev (6.1) lacks the zoned parts. Layouts are facts of the
// kernel's ABI; the static_asserts pin every size and field offset we rely on.
//
// Control commands travel in the 80-byte command area of an SQE128 IORING_OP_URING_CMD on
// /dev/ublk-control; I/O commands in the 16-byte area of an ordinary SQE on /dev/ublkcN.
// Opcodes are ioctl-encoded ('u', nr, size of the command struct), which every kernel with ublk
// accepts (the legacy plain numbers can be compiled out).
#pragma once

#include <linux/blkzoned.h>
#include <linux/ioctl.h>

#include <cstddef>
#include <cstdint>

namespace zbl::ublk {

// --- control: /dev/ublk-control ------------------------------------------------------------
struct CtrlCmd {
  uint32_t dev_id;        // target device; kAnyDevId with ADD_DEV lets the kernel choose
  uint16_t queue_id;      // 0xffff unless the command is for one queue (ADD_DEV requires 0xffff)
  uint16_t len;           // length of the buffer at addr
  uint64_t addr;          // command buffer (dev info, params), in or out
  uint64_t data[1];       // inline argument (START_DEV: the server's pid)
  uint16_t dev_path_len;  // unprivileged devices and GET_DEV_INFO2 only
  uint16_t pad;
  uint32_t reserved;
};
static_assert(sizeof(CtrlCmd) == 32);
static_assert(offsetof(CtrlCmd, addr) == 8 && offsetof(CtrlCmd, data) == 16);

struct DevInfo {
  uint16_t nr_hw_queues;
  uint16_t queue_depth;
  uint16_t state;  // kStateDead / kStateLive / ...
  uint16_t pad0;
  uint32_t max_io_buf_bytes;
  uint32_t dev_id;
  int32_t ublksrv_pid;
  uint32_t pad1;
  uint64_t flags;          // UBLK_F_*; the kernel answers ADD_DEV with what it granted
  uint64_t ublksrv_flags;  // the server's own, stored and returned untouched by the kernel
  uint32_t owner_uid;
  uint32_t owner_gid;
  uint64_t reserved1;
  uint64_t reserved2;
};
static_assert(sizeof(DevInfo) == 64);
static_assert(offsetof(DevInfo, max_io_buf_bytes) == 8 && offsetof(DevInfo, ublksrv_pid) == 16);
static_assert(offsetof(DevInfo, flags) == 24 && offsetof(DevInfo, ublksrv_flags) == 32);

inline constexpr uint32_t kAnyDevId = 0xffffffffu;
inline constexpr uint16_t kNoQueue = 0xffff;

inline constexpr uint32_t kCmdGetDevInfo = _IOR('u', 0x02, CtrlCmd);
inline constexpr uint32_t kCmdAddDev = _IOWR('u', 0x04, CtrlCmd);
inline constexpr uint32_t kCmdDelDev = _IOWR('u', 0x05, CtrlCmd);
inline constexpr uint32_t kCmdStartDev = _IOWR('u', 0x06, CtrlCmd);
inline constexpr uint32_t kCmdStopDev = _IOWR('u', 0x07, CtrlCmd);
inline constexpr uint32_t kCmdSetParams = _IOWR('u', 0x08, CtrlCmd);
inline constexpr uint32_t kCmdGetParams = _IOR('u', 0x09, CtrlCmd);

// Device feature flags (DevInfo::flags).
inline constexpr uint64_t kFlagUringCmdCompInTask = 1ull << 1;
inline constexpr uint64_t kFlagUserRecovery = 1ull << 3;
inline constexpr uint64_t kFlagCmdIoctlEncode = 1ull << 6;
inline constexpr uint64_t kFlagUserCopy = 1ull << 7;  // data by pread/pwrite on /dev/ublkcN
inline constexpr uint64_t kFlagZoned = 1ull << 8;     // needs kFlagUserCopy

// DevInfo::state.
inline constexpr uint16_t kStateDead = 0;
inline constexpr uint16_t kStateLive = 1;
inline constexpr uint16_t kStateQuiesced = 2;

// --- parameters (SET_PARAMS) ---------------------------------------------------------------
struct ParamBasic {
  uint32_t attrs;  // kAttr*
  uint8_t logical_bs_shift;
  uint8_t physical_bs_shift;
  uint8_t io_opt_shift;
  uint8_t io_min_shift;
  uint32_t max_sectors;    // largest request, 512-byte sectors (<= max_io_buf_bytes / 512)
  uint32_t chunk_sectors;  // the zone size of a zoned device
  uint64_t dev_sectors;
  uint64_t virt_boundary_mask;
};
static_assert(sizeof(ParamBasic) == 32);
inline constexpr uint32_t kAttrReadOnly = 1u << 0;
inline constexpr uint32_t kAttrRotational = 1u << 1;
inline constexpr uint32_t kAttrVolatileCache = 1u << 2;  // the kernel then sends FLUSH
inline constexpr uint32_t kAttrFua = 1u << 3;

struct ParamDiscard {
  uint32_t discard_alignment;
  uint32_t discard_granularity;
  uint32_t max_discard_sectors;
  uint32_t max_write_zeroes_sectors;
  uint16_t max_discard_segments;
  uint16_t reserved0;
};
static_assert(sizeof(ParamDiscard) == 20);

struct ParamDevt {  // read-only (GET_PARAMS)
  uint32_t char_major, char_minor, disk_major, disk_minor;
};
static_assert(sizeof(ParamDevt) == 16);

struct ParamZoned {
  uint32_t max_open_zones;           // 0 = no limit; must not exceed the number of zones
  uint32_t max_active_zones;         // likewise
  uint32_t max_zone_append_sectors;  // must be > 0
  uint8_t reserved[20];
};
static_assert(sizeof(ParamZoned) == 32);

// The parameter block as 6.12 knows it (later kernels append more types; `len` says how much
// we send, and a kernel takes at most what it knows).
struct Params {
  uint32_t len;
  uint32_t types;  // kParam*
  ParamBasic basic;
  ParamDiscard discard;
  ParamDevt devt;
  ParamZoned zoned;
};
static_assert(offsetof(Params, basic) == 8 && offsetof(Params, discard) == 40);
static_assert(offsetof(Params, devt) == 60 && offsetof(Params, zoned) == 76);
static_assert(sizeof(Params) == 112);
inline constexpr uint32_t kParamBasic = 1u << 0;
inline constexpr uint32_t kParamDiscard = 1u << 1;
inline constexpr uint32_t kParamDevt = 1u << 2;
inline constexpr uint32_t kParamZoned = 1u << 3;

// --- I/O: /dev/ublkcN ----------------------------------------------------------------------
// One descriptor per tag, in the read-only array the server mmaps per queue.
struct IoDesc {
  uint32_t op_flags;  // op in bits 0-7, kIoF* flags above
  uint32_t nr;        // nr_sectors, or nr_zones for kOpReportZones
  uint64_t start_sector;
  uint64_t addr;  // unused with kFlagUserCopy
};
static_assert(sizeof(IoDesc) == 24);

struct IoCmd {
  uint16_t q_id;
  uint16_t tag;
  int32_t result;  // COMMIT: bytes done, or -errno
  uint64_t addr;   // FETCH buffer (0 with user copy); COMMIT of a zone append: the sector written
};
static_assert(sizeof(IoCmd) == 16);

inline constexpr uint32_t kIoFetchReq = _IOWR('u', 0x20, IoCmd);
inline constexpr uint32_t kIoCommitAndFetchReq = _IOWR('u', 0x21, IoCmd);

// IoDesc op codes.
inline constexpr uint8_t kOpRead = 0;
inline constexpr uint8_t kOpWrite = 1;
inline constexpr uint8_t kOpFlush = 2;
inline constexpr uint8_t kOpDiscard = 3;
inline constexpr uint8_t kOpWriteSame = 4;
inline constexpr uint8_t kOpWriteZeroes = 5;
inline constexpr uint8_t kOpZoneOpen = 10;
inline constexpr uint8_t kOpZoneClose = 11;
inline constexpr uint8_t kOpZoneFinish = 12;
inline constexpr uint8_t kOpZoneAppend = 13;
inline constexpr uint8_t kOpZoneResetAll = 14;
inline constexpr uint8_t kOpZoneReset = 15;
inline constexpr uint8_t kOpReportZones =
    18;  // buffer: nr struct blk_zone, zero-filled after the last
inline constexpr uint32_t kIoFFua = 1u << 13;

// Results of FETCH / COMMIT_AND_FETCH completions (cqe->res).
inline constexpr int kIoResOk = 0;
// kIoResAbort is -ENODEV: the command is cancelled and never comes back (device stopping).

// mmap offsets of the descriptor arrays and pread/pwrite offsets of request buffers.
inline constexpr uint64_t kCmdBufOffset = 0;
inline constexpr uint64_t kIoBufOffset = 0x80000000ull;
inline constexpr unsigned kMaxQueueDepth = 4096;
inline constexpr unsigned kIoBufBits = 25;  // one request buffer is at most 32 MiB
inline constexpr unsigned kTagOff = kIoBufBits;
inline constexpr unsigned kTagBits = 16;
inline constexpr unsigned kQidOff = kTagOff + kTagBits;
inline constexpr unsigned kQidBits = 12;
inline constexpr uint64_t kMaxIoBytes = 1ull << kIoBufBits;

// The byte offset on /dev/ublkcN that addresses byte 0 of the request buffer of (queue, tag).
constexpr uint64_t BufferOffset(uint16_t q_id, uint16_t tag) {
  return kIoBufOffset + (uint64_t{q_id} << kQidOff) + (uint64_t{tag} << kTagOff);
}
// The mmap offset of a queue's descriptor array: every queue gets room for kMaxQueueDepth.
constexpr uint64_t DescOffset(uint16_t q_id, uint64_t page_size) {
  const uint64_t per_queue =
      (kMaxQueueDepth * sizeof(IoDesc) + page_size - 1) / page_size * page_size;
  return kCmdBufOffset + q_id * per_queue;
}

static_assert(sizeof(blk_zone) == 64, "struct blk_zone is the zone report's wire format");

}  // namespace zbl::ublk
