// Byte-granular reads and writes over a Backend, as QEMU's block layer gives qemu-io
// (block/io.c pads a request to the node's request alignment). The Backend itself keeps
// refusing unaligned requests: its callers (suites, benchmarks) test the device's rules, while
// qemu-io's command language lets a user read or write any byte range.
//
//   Reads: the covering aligned range is read into a bounce buffer and the asked bytes copied.
//   Writes: read-modify-write of the edge blocks, as QEMU does, on non-zoned devices and in
//   conventional zones. In a sequential zone an unaligned write is refused with EINVAL: the
//   device takes whole logical blocks at its write pointer, and padding would read beyond the
//   write pointer (undefined data, or an error on ZBC disks without URSWRZ) and advance the
//   write pointer over bytes nobody wrote. QEMU 10 does pad there; zbl does what the device
//   requires (ci/vm/qemu-io-parity.sh expects that difference).
//
// Thread safety: any number of threads; unaligned writes are serialised among themselves so
// that two of them sharing an edge block cannot lose each other's bytes (aligned writes to the
// same bytes race as they would on the device).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "zbl/backend.h"

namespace zbl::io {

// Range and size checks of a byte-granular request: EIO beyond the end of the device, as
// QEMU's block layer answers.
Status CheckPaddedIo(const Backend& dev, uint64_t offset, size_t len, std::string_view what);

Status PaddedRead(Backend& dev, uint64_t offset, void* buf, size_t len);
Status PaddedWrite(Backend& dev, uint64_t offset, const void* buf, size_t len);

}  // namespace zbl::io
