// From zbl-io's command line (IMAGE, --image-opts, -f, -n) to a zbl option string.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "zbl/backend.h"
#include "zbl/status.h"

namespace zbl::io {

struct ImageArgs {
  std::string image;        // a path, or an option string with image_opts
  bool image_opts = false;  // --image-opts
  // -f: "" (probed, as qemu-io: raw over the file, or over host_device for a block device),
  // "file", "host_device" or "raw"
  std::string format;
  bool nocache = false;     // -n, -t none|directsync: cache.direct=on on file/host_device nodes
  bool read_only = false;   // -r: read-only=on on file/host_device nodes
  std::string aio;          // -i / -k: "", "threads", "native" or "io_uring"
  bool force_share = false; // -U: only with -r, as in qemu-io
  std::string options;      // `open -o`: options for the root node ("driver=raw")
};

// qemu's cache modes (bdrv_parse_cache_mode): none, writeback, directsync, writethrough,
// unsafe ("off" is "none"). zbl has one knob, cache.direct; the flush modes are accepted.
struct CacheMode {
  bool direct = false;
};
std::optional<CacheMode> ParseCacheMode(std::string_view mode);
// qemu's aio modes (threads, native, io_uring) and discard modes (ignore, off, unmap, on).
bool IsAioMode(std::string_view mode);
bool IsDiscardMode(std::string_view mode);

// The request alignment QEMU's file-posix finds for an O_DIRECT regular file: the smallest of
// 1, 512, 1024, 2048, 4096 bytes that a direct read at offset 0 accepts, where 1 (the file
// system takes any size) counts as max(4096, the page size).
uint64_t DirectIoAlignment(const std::string& path);

// qemu-io's warning when no format was given and probing guessed raw (on stderr).
void WarnProbedRaw(std::ostream& err, const std::string& path);

// The option string to open, or EINVAL naming what is wrong (a format zbl cannot open,
// --image-opts together with -f, an option string that does not parse).
Result<std::string> BuildOptionString(const ImageArgs& args);

// QEMU's write-permission check of an O_DIRECT image: refused (EINVAL, in QEMU's words) when a
// writable file node with cache.direct=on (with `as_direct`, an alignment, any file node, as if
// O_DIRECT with that alignment and writable: after a reopen that turned O_DIRECT on, QEMU
// keeps the alignment it probed then) has a size that is not a whole number of its request alignment.
// QEMU checks it when a user takes the write permission: a read-write open, the first command
// that writes after `reopen -w` of a read-only image, a reopen that turns O_DIRECT on.
Status CheckDirectWrite(const std::string& options, uint64_t as_direct);

// Builds the option string and opens it. The error's message is the whole diagnostic
// ("can't open device PATH: <why>", or "can't open: <why>" with --image-opts), as qemu-io words
// it after its program name. `check_write`: CheckDirectWrite at open (a read-write open takes
// the write permission; reopen -w does not, its first write does).
Result<std::unique_ptr<Backend>> OpenImage(const ImageArgs& args, bool check_write = true);

}  // namespace zbl::io
