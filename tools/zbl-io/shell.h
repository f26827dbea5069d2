// The zbl-io command interpreter: runs qemu-io command lines against one zbl device.
//
// Output goes to two streams, as qemu-io's does: results and most errors to `out` (stdout),
// usage errors (unknown command, bad argument count, bad option) to `err` (stderr). Before
// writing to `err` the shell flushes `out`, so that both keep their order in a shared file.
// A command never touches the device before its arguments are all valid.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "command_line.h"
#include "image.h"
#include "zbl/backend.h"
#include "zbl/queue.h"

namespace zbl::io {

// An aio_read / aio_write in flight: the request, its buffer and what to print when it ends.
struct AioContext {
  IoRequest req;
  std::function<void(AioContext&)> finish;  // prints qemu-io's completion lines
  bool finished = false;
  virtual ~AioContext() = default;
};

class Shell {
 public:
  static constexpr unsigned kAioDepth = 64;
  // `device` may be null (no image given): only global commands (help, quit) then run.
  Shell(Backend* device, std::ostream& out, std::ostream& err, std::string progname = "zbl-io")
      : device_(device), out_(out), err_(err), progname_(std::move(progname)) {}

  // Runs one command line. Returns 0, or a negative errno when the command failed (qemu-io
  // then exits with status 1).
  int Execute(std::string_view line);
  bool quit_requested() const { return quit_; }
  void RequestQuit() { quit_ = true; }

  Backend* device() { return device_; }
  // Takes an opened device (the command line's image, or `open`); `close` drops it.
  // `args` (if given) are what it was opened from: truncate and reopen open it again.
  void Adopt(std::unique_ptr<Backend> device, const ImageArgs* args = nullptr) {
    Drain();
    queue_.reset();
    owned_ = std::move(device);
    device_ = owned_.get();
    have_args_ = args != nullptr;
    args_ = have_args_ ? *args : ImageArgs{};
    read_only_ = args_.read_only;
    write_perm_ = !read_only_;
    reopened_direct_ = 0;
    resize_perm_ = false;
  }
  void Close() {
    Drain();
    queue_.reset();
    device_ = nullptr;
    owned_.reset();
    read_only_ = false;
    have_args_ = false;
  }
  // -r / open -r / reopen -r: commands that write are refused, as qemu's permission check
  // refuses them ("Block node is read-only").
  bool read_only() const { return read_only_; }
  // Whether qemu-io's BlockBackend would hold the write permission: taken at a read-write open,
  // dropped by reopen -r, and after reopen -w taken by the first command that writes (which is
  // refused when QEMU's CheckDirectWrite refuses it).
  bool write_permission() const { return write_perm_; }
  // Whether qemu-io holds the resize permission (taken by the first truncate and kept until the
  // image is closed): QEMU's O_DIRECT size check applies only to writes without it.
  bool resize_permission() const { return resize_perm_; }
  // reopen asked for cache.direct=on (or -c none) since the image was opened (and not for off
  // again): QEMU holds that mode from then on, with the request alignment it probed at that
  // reopen (0: not asked). zbl's open node keeps its own cache mode.
  uint64_t reopened_direct() const { return reopened_direct_; }
  // reopen's -o options left over by a reopen that stopped at "Only one -r/-w option" (qemu-io
  // keeps them in its option list for the next reopen).
  std::string TakePendingReopenOptions() { return std::exchange(pending_reopen_, std::string()); }
  void SetPendingReopenOptions(std::string o) { pending_reopen_ = std::move(o); }
  void set_reopened_direct(uint64_t align) { reopened_direct_ = align; }
  // reopen -r / -w. Back to read-write, a device whose file was opened read-only=on (-r) is
  // opened again without it.
  Status SetReadOnly(bool on);
  // truncate: a plain file image (driver=file, or raw over it without a window) is closed,
  // resized as QEMU's file-posix resizes it (mode off, falloc or full) and opened again.
  // Other devices cannot change size: ENOTSUP naming the driver.
  Status Truncate(uint64_t size, const std::string& mode);
  // The request alignment QEMU's block layer would pad to on this device: a buffered file's is
  // 1 byte, an O_DIRECT file's the one file-posix probes (also after a reopen turned O_DIRECT
  // on, with the alignment probed then), other devices' their own.
  uint64_t QemuAlignment() const;
  // The O_DIRECT request alignment file-posix would probe now for the device's file node (0
  // when it has none).
  uint64_t ProbeDirectAlignment() const;

  // aio_*: submits `ctx` to the device's queue (created on first use). A request the queue
  // cannot take as it is (a byte range off the device's request alignment, which QEMU's block
  // layer pads) runs synchronously through the padded path and completes at the next reap.
  // Returns 0, or the negative errno of a refused submission (after calling ctx's finish).
  int SubmitAio(std::unique_ptr<AioContext> ctx);
  // Runs the completions that are ready (min = 0) or waits for at least `min`.
  void ReapAio(unsigned min);
  // Waits for every request in flight (aio_flush, close, exit).
  void Drain();
  unsigned aio_inflight() const { return static_cast<unsigned>(aio_.size()); }
  // --image-opts: `open`'s argument is an option string, not a path.
  bool image_opts() const { return image_opts_; }
  void set_image_opts(bool on) { image_opts_ = on; }
  const std::string& progname() const { return progname_; }
  std::ostream& out() { return out_; }
  // The error stream, after flushing `out`.
  std::ostream& err() {
    out_.flush();
    return err_;
  }
  // With explain on, prints zbl's description of a failed request on the error stream
  // ("zbl-io: write at 0x0 is not at the write pointer 0x1000"); qemu-io's own one-line verdict
  // follows on `out`. On by default in process (tests, fuzzers); the zbl-io program turns it
  // off unless --explain is given, so that its stderr is qemu-io's.
  void ReportDetail(const Status& st);
  void set_explain(bool on) { explain_ = on; }
  // abort, sigraise and sleep act on the process (a crash, a signal, a wait). Off by default:
  // in process they answer ENOTSUP (sleep returns at once) so that a test or a fuzzer feeding
  // command lines cannot be killed or stalled by one; the zbl-io program turns them on.
  bool process_commands() const { return process_commands_; }
  void set_process_commands(bool on) { process_commands_ = on; }
  // qemu-io's "name args -- oneline" usage line, on `out`.
  void PrintUsage(const CommandSpec& spec);

 private:
  Result<IoQueue*> Queue();

  Backend* device_;
  std::unique_ptr<Backend> owned_;
  bool read_only_ = false;
  bool write_perm_ = false;
  uint64_t reopened_direct_ = 0;
  bool resize_perm_ = false;
  std::string pending_reopen_;
  bool explain_ = true;
  bool process_commands_ = false;
  bool have_args_ = false;
  ImageArgs args_;
  std::unique_ptr<IoQueue> queue_;
  // Requests submitted and not yet finished; and finished synchronous fallbacks not yet reaped.
  std::vector<std::unique_ptr<AioContext>> aio_;
  std::vector<std::unique_ptr<AioContext>> done_;
  bool image_opts_ = false;
  std::ostream& out_;
  std::ostream& err_;
  std::string progname_;
  bool quit_ = false;
};

}  // namespace zbl::io
