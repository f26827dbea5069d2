#include "nvme_passthru.h"

#include <liburing.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "nvme_device.h"

namespace zbl::nvme {
namespace {

using T = OptionType;
constexpr OptionSpec kFilename{"filename", T::kString, "",
                               "the namespace's generic character device, /dev/ngXnY (root)",
                               {}, 0, UINT64_MAX, {}, true};
constexpr OptionSpec kNsid{"nsid", T::kNumber, "0", "namespace id (0 = the device node's own)",
                           {}, 0, 0xfffffffeu};
constexpr OptionSpec kOptions[] = {kFilename, kNsid};

ZoneCondition ConditionOf(const ZoneDescriptor& d) {
  switch (d.state) {
    case 0x1: return ZoneCondition::kEmpty;
    case 0x2: return ZoneCondition::kImplicitOpen;
    case 0x3: return ZoneCondition::kExplicitOpen;
    case 0x4: return ZoneCondition::kClosed;
    case 0xd: return ZoneCondition::kReadOnly;
    case 0xe: return ZoneCondition::kFull;
    case 0xf: return ZoneCondition::kOffline;
    default: return ZoneCondition::kNotWritePointer;
  }
}

// Passthrough commands on an io_uring set up with 128-byte SQEs and 32-byte CQEs: the NVMe
// command rides in the SQE, the status in cqe->res and the result dwords in big_cqe[0].
class PassthruQueue final : public IoQueue {
 public:
  static Result<std::unique_ptr<IoQueue>> Create(const Device& dev, unsigned depth) {
    auto q = std::unique_ptr<PassthruQueue>(new PassthruQueue(dev, depth));
    int rc = io_uring_queue_init(depth, &q->ring_, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
    if (rc < 0) return ErrnoStatus(-rc, "io_uring with SQE128/CQE32 (NVMe passthrough)");
    q->ring_ok_ = true;
    return std::unique_ptr<IoQueue>(std::move(q));
  }
  ~PassthruQueue() override {
    while (inflight_ > 0) {
      if (!Reap(1).ok()) break;
    }
    if (ring_ok_) io_uring_queue_exit(&ring_);
  }

  Status Submit(IoRequest* req) override {
    if (inflight_ >= depth_) return Error(EAGAIN, "queue full ({} requests)", depth_);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return Error(EAGAIN, "no submission entry free");
    const Identity& id = dev_.id();
    IoOp op = IoOp::kFlush;
    switch (req->op) {
      case IoRequest::Op::kRead: op = IoOp::kRead; break;
      case IoRequest::Op::kWrite: op = IoOp::kWrite; break;
      case IoRequest::Op::kAppend: op = IoOp::kZoneAppend; break;
      case IoRequest::Op::kFlush: op = IoOp::kFlush; break;
    }
    UringCmd c{};
    c.opcode = static_cast<uint8_t>(op);
    if (op != IoOp::kFlush) {
      if (req->len == 0 || req->len % id.lba_bytes != 0) {
        return Error(EINVAL, "length {} is not a positive multiple of the LBA size {}", req->len,
                     id.lba_bytes);
      }
      if (id.max_transfer_bytes && req->len > id.max_transfer_bytes) {
        return Error(EINVAL, "length {} is larger than the transfer limit {}", req->len,
                     id.max_transfer_bytes);
      }
      c = DataCommand(op, req->offset / id.lba_bytes, req->buf, req->len, id.lba_bytes);
    }
    c.nsid = id.nsid;
    std::memset(sqe, 0, 2 * sizeof(io_uring_sqe));
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = dev_.fd();
    sqe->cmd_op = kUringCmdIo;
    sqe->user_data = reinterpret_cast<uintptr_t>(req);
    static_assert(sizeof(UringCmd) <= 80, "the command must fit the SQE128 command area");
    std::memcpy(sqe->cmd, &c, sizeof(c));
    ++inflight_;
    ++unsubmitted_;
    return Status::Ok();
  }

  Result<unsigned> Reap(unsigned min) override {
    min = std::min(min, inflight_);
    if (unsubmitted_ > 0 || min > 0) {
      int rc = min > 0 ? io_uring_submit_and_wait(&ring_, min) : io_uring_submit(&ring_);
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
        return ErrnoStatus(-rc, "io_uring_submit (NVMe passthrough)");
      }
      if (rc >= 0) unsubmitted_ = 0;
    }
    unsigned done = 0;
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0 && cqe != nullptr) {
      auto* req = reinterpret_cast<IoRequest*>(static_cast<uintptr_t>(cqe->user_data));
      const int res = cqe->res;
      const uint64_t result = cqe->big_cqe[0];
      io_uring_cqe_seen(&ring_, cqe);
      --inflight_;
      ++done;
      if (res < 0) {
        req->error = -res;
      } else {
        Completion c;
        c.status.raw = static_cast<uint16_t>(res);
        req->error = c.err();
      }
      if (req->error == 0 && req->op == IoRequest::Op::kAppend) {
        req->result_offset = result * dev_.id().lba_bytes;
      }
      if (req->done) req->done(req);
    }
    return done;
  }
  unsigned inflight() const override { return inflight_; }
  unsigned depth() const override { return depth_; }

 private:
  PassthruQueue(const Device& dev, unsigned depth) : dev_(dev), depth_(depth) {}
  const Device& dev_;
  unsigned depth_;
  unsigned inflight_ = 0;
  unsigned unsubmitted_ = 0;
  io_uring ring_{};
  bool ring_ok_ = false;
};

class PassthruNode final : public Node {
 public:
  PassthruNode(std::unique_ptr<Device> dev) : Node(kNvmePassthruDriver), dev_(std::move(dev)) {}

  Result<Limits> ComputeLimits() override {
    const Identity& id = dev_->id();
    Limits l;
    l.size = id.nr_lbas * id.lba_bytes;
    l.logical_block_size = id.lba_bytes;
    l.request_alignment = id.lba_bytes;
    l.max_transfer = id.max_transfer_bytes;
    l.model = ZoneModel::kHostManaged;
    l.zone_size = id.zone_lbas * id.lba_bytes;
    l.nr_zones = id.nr_zones;
    l.max_open_zones = id.zns.max_open();
    l.max_active_zones = id.zns.max_active();
    l.max_append_bytes = id.max_append_bytes;
    return l;
  }

  Status Read(uint64_t offset, void* buf, size_t len) override {
    return Chunked(offset, len, [&](uint64_t off, size_t n) {
      return dev_->Read(off / lba(), static_cast<uint8_t*>(buf) + (off - offset), n)
          .ToStatus(fmt::format("read {} bytes at {:#x}", n, off));
    });
  }
  Status Write(uint64_t offset, const void* buf, size_t len) override {
    return Chunked(offset, len, [&](uint64_t off, size_t n) {
      return dev_->Write(off / lba(), static_cast<const uint8_t*>(buf) + (off - offset), n)
          .ToStatus(fmt::format("write {} bytes at {:#x}", n, off));
    });
  }
  Status Flush() override { return dev_->Flush().ToStatus("flush"); }

  Result<size_t> ReportZones(uint64_t offset, std::span<Zone> zones) override {
    size_t filled = 0;
    uint64_t slba = offset / lba();
    std::vector<ZoneDescriptor> got;
    while (filled < zones.size()) {
      Completion c = dev_->Report(slba, zones.size() - filled, false, got);
      if (!c.ok()) return c.ToStatus(fmt::format("zone report at {:#x}", slba * lba()));
      if (got.empty()) break;
      for (const ZoneDescriptor& d : got) {
        if (filled == zones.size()) break;
        Zone& z = zones[filled++];
        z.start = d.start * lba();
        z.length = dev_->id().zone_lbas * lba();
        z.capacity = d.capacity * lba();
        z.type = d.type == 0x2 ? ZoneType::kSequentialWriteRequired : ZoneType::kConventional;
        z.condition = ConditionOf(d);
        // A FULL zone's write pointer is not valid in NVMe (QEMU reports all ones): the zone
        // end, as Linux's nvme_zone_parse_entry() gives it; nvme_device.h has the raw value.
        if (z.condition == ZoneCondition::kReadOnly || z.condition == ZoneCondition::kOffline) {
          z.write_pointer = kInvalidWritePointer;
        } else if (z.condition == ZoneCondition::kFull) {
          z.write_pointer = z.start + z.length;
        } else {
          z.write_pointer = d.wp * lba();
        }
      }
      slba = got.back().start + dev_->id().zone_lbas;
      if (slba >= dev_->id().nr_lbas) break;
    }
    return filled;
  }

  Status ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) override {
    const uint64_t zs = dev_->id().zone_lbas * lba();
    for (uint64_t off = offset; off < offset + len; off += zs) {
      ZBL_RETURN_IF_ERROR(dev_->Send(ActionOf(op), off / lba())
                              .ToStatus(fmt::format("zone {} at {:#x}", ToString(op), off)));
    }
    return Status::Ok();
  }
  Status ZoneResetAll() override {
    return dev_->Send(SendAction::kReset, 0, /*select_all=*/true).ToStatus("zone reset-all");
  }
  Result<uint64_t> ZoneAppend(uint64_t zone_offset, const void* buf, size_t len) override {
    Completion c = dev_->Append(zone_offset / lba(), buf, len);
    if (!c.ok()) {
      return c.ToStatus(fmt::format("zone append of {} bytes to zone {:#x}", len, zone_offset));
    }
    return c.result * lba();
  }

  Result<std::unique_ptr<IoQueue>> CreateQueue(unsigned depth) override {
    auto q = PassthruQueue::Create(*dev_, std::max(depth, 1u));
    if (q.ok()) return q;
    return Node::CreateQueue(depth);  // the ioctl, one request at a time
  }

  std::string filename() const override { return dev_->path(); }
  // Data stays; zone append is the device's own command; queues are io_uring passthrough.
  Capabilities capabilities() const override {
    return {Cap::kKeepsData, Cap::kZoneAppend, Cap::kNativeQueue, Cap::kPersistent};
  }

  void Describe(NodeInfo& info) const override {
    const Identity& id = dev_->id();
    info.Add("device", fmt::format("{} (namespace {}{})", dev_->path(), id.nsid,
                                   id.block_device.empty() ? "" : ", block device " + id.block_device));
    info.Add("controller", fmt::format("{} serial {} firmware {}", id.ctrl.model, id.ctrl.serial,
                                       id.ctrl.firmware));
    info.Add("lba format", fmt::format("{} ({} bytes, {} metadata bytes)", id.ns.lbaf_index,
                                       id.lba_bytes, id.ns.metadata_bytes));
    info.Add("zone size", fmt::format("{} LBAs", id.zone_lbas));
    info.Add("max open / active", fmt::format("{} / {} (0 = no limit; MOR {:#x} MAR {:#x})",
                                              id.zns.max_open(), id.zns.max_active(), id.zns.mor,
                                              id.zns.mar));
    info.Add("zasl", fmt::format("{} ({} bytes; MDTS {})", id.zasl, id.max_append_bytes,
                                 id.ctrl.mdts));
    info.Add("zoc / ozcs", fmt::format("{:#x} / {:#x}", id.zns.zoc, id.zns.ozcs));
    info.Add("zrwa", id.zns.zrwa_supported()
                         ? fmt::format("{} resources, size {} LBAs, flush granularity {} LBAs, "
                                       "explicit flush {}",
                                       id.zns.numzrwa + 1, id.zns.zrwasz, id.zns.zrwafg,
                                       (id.zns.zrwacap & 1) ? "yes" : "no")
                         : std::string("not supported"));
    info.Add("descriptor extension", fmt::format("{} bytes", id.zns.zdes_bytes));
    info.Add("reset / finish recommended limits", fmt::format("{} s / {} s", id.zns.rrl, id.zns.frl));
  }

 private:
  uint64_t lba() const { return dev_->id().lba_bytes; }

  // Reads and writes are split at zone boundaries and at the transfer limit, as Linux's block
  // layer splits them (chunk_sectors, max_hw_sectors): a ZNS device refuses one command that
  // crosses a zone (Zone Boundary Error), the block device never sends one.
  template <typename F>
  Status Chunked(uint64_t offset, size_t len, F&& one) {
    const uint64_t max = dev_->id().max_transfer_bytes ? dev_->id().max_transfer_bytes : len;
    const uint64_t zone = dev_->id().zone_lbas * lba();
    for (uint64_t done = 0; done < len;) {
      const uint64_t at = offset + done;
      size_t n = static_cast<size_t>(std::min<uint64_t>({max, len - done, zone - at % zone}));
      ZBL_RETURN_IF_ERROR(one(offset + done, n));
      done += n;
    }
    return Status::Ok();
  }

  static SendAction ActionOf(ZoneOp op) {
    switch (op) {
      case ZoneOp::kOpen: return SendAction::kOpen;
      case ZoneOp::kClose: return SendAction::kClose;
      case ZoneOp::kFinish: return SendAction::kFinish;
      case ZoneOp::kReset: return SendAction::kReset;
    }
    return SendAction::kReset;
  }

  std::unique_ptr<Device> dev_;
};

Result<std::unique_ptr<Node>> OpenPassthru(OpenContext& ctx) {
  Options& o = ctx.options();
  auto filename = o.GetText(kFilename);
  if (!filename.ok()) return filename.status();
  auto nsid = o.Get(kNsid);
  if (!nsid.ok()) return nsid.status();
  auto dev = Device::Open(*filename, static_cast<uint32_t>(*nsid), false);
  if (!dev.ok()) return dev.status().Annotate(o.context());
  return std::unique_ptr<Node>(std::make_unique<PassthruNode>(std::move(*dev)));
}

}  // namespace

const DriverSpec kNvmePassthruDriver{
    .name = "nvme_passthru",
    .description = "NVMe zoned namespace through /dev/ngXnY passthrough: native zone append, "
                   "the device's own status codes",
    .options = kOptions,
    .open = OpenPassthru,
};

}  // namespace zbl::nvme
