#include "padded_io.h"

#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <new>

namespace zbl::io {
namespace {

struct Span {
  uint64_t start;  // aligned
  uint64_t end;    // aligned
};

uint64_t Align(const Backend& dev) { return dev.limits().request_alignment; }

Span Cover(const Backend& dev, uint64_t offset, size_t len) {
  const uint64_t a = Align(dev);
  return {offset / a * a, (offset + len + a - 1) / a * a};
}

bool Aligned(const Backend& dev, uint64_t offset, size_t len) {
  return offset % Align(dev) == 0 && len % Align(dev) == 0;
}

// The aligned cover of a request. The file driver aligns memory for O_DIRECT itself, so a plain
// buffer will do; a failed allocation is an ENOMEM value, not an exception.
Result<std::unique_ptr<uint8_t[]>> CoverBuffer(size_t len) {
  std::unique_ptr<uint8_t[]> b(new (std::nothrow) uint8_t[len]);
  if (!b) {
    return Error(ENOMEM, "no memory for a {}-byte padding buffer", len);
  }
  return b;
}

// EINVAL when the block at `block` lies in a sequential zone.
Status RefuseInSequentialZone(Backend& dev, uint64_t block, uint64_t offset, size_t len) {
  auto z = dev.ReportZones(block, 1);
  if (!z.ok()) {
    return z.status();
  }
  if (z->empty() || (*z)[0].type == ZoneType::kConventional) {
    return Status::Ok();
  }
  return Error(EINVAL,
               "write of {} bytes at {:#x} is not aligned to the {}-byte block size, and "
               "zone {} is sequential: it takes whole blocks at its write pointer, so the "
               "write cannot be padded",
               len, offset, Align(dev), dev.ZoneIndex(block));
}

std::mutex& RmwMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

Status CheckPaddedIo(const Backend& dev, uint64_t offset, size_t len, std::string_view what) {
  const uint64_t size = dev.size();
  if (offset > size || len > size - offset) {
    // QEMU's block layer answers EIO (blk_check_byte_request), before any driver sees it.
    return Error(EIO, "{} of {} bytes at {:#x} is beyond the end of the device ({:#x})", what,
                 len, offset, size);
  }
  return Status::Ok();
}

Status PaddedRead(Backend& dev, uint64_t offset, void* buf, size_t len) {
  if (Aligned(dev, offset, len)) {
    return dev.Read(offset, buf, len);
  }
  ZBL_RETURN_IF_ERROR(CheckPaddedIo(dev, offset, len, "read"));
  if (len == 0) {
    return Status::Ok();
  }
  const Span s = Cover(dev, offset, len);
  auto whole = CoverBuffer(s.end - s.start);
  if (!whole.ok()) {
    return whole.status();
  }
  ZBL_RETURN_IF_ERROR(dev.Read(s.start, whole->get(), s.end - s.start));
  std::memcpy(buf, whole->get() + (offset - s.start), len);
  return Status::Ok();
}

Status PaddedWrite(Backend& dev, uint64_t offset, const void* buf, size_t len) {
  if (Aligned(dev, offset, len)) {
    return dev.Write(offset, buf, len);
  }
  ZBL_RETURN_IF_ERROR(CheckPaddedIo(dev, offset, len, "write"));
  if (len == 0) {  // nothing to pad, as in QEMU: not even in a sequential zone
    return Status::Ok();
  }
  const Span s = Cover(dev, offset, len);
  const uint64_t a = Align(dev);
  if (dev.limits().zoned()) {
    ZBL_RETURN_IF_ERROR(RefuseInSequentialZone(dev, s.start, offset, len));
    ZBL_RETURN_IF_ERROR(RefuseInSequentialZone(dev, s.end - a, offset, len));
  }
  auto whole = CoverBuffer(s.end - s.start);
  if (!whole.ok()) {
    return whole.status();
  }
  uint8_t* b = whole->get();
  std::lock_guard<std::mutex> lk(RmwMutex());
  const bool head_read = offset != s.start;
  if (head_read) {
    ZBL_RETURN_IF_ERROR(dev.Read(s.start, b, a));
  }
  const uint64_t tail = s.end - a;
  if (offset + len != s.end && !(head_read && tail == s.start)) {
    ZBL_RETURN_IF_ERROR(dev.Read(tail, b + (tail - s.start), a));
  }
  std::memcpy(b + (offset - s.start), buf, len);
  return dev.Write(s.start, b, s.end - s.start);
}

}  // namespace zbl::io
