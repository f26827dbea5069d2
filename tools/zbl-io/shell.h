// The zbl-io command interpreter: runs qemu-io command lines against one zbl device.
//
// Output goes to two streams, as qemu-io's does: results and most errors to `out` (stdout),
// usage errors (unknown command, bad argument count, bad option) to `err` (stderr). Before
// writing to `err` the shell flushes `out`, so that both keep their order in a shared file.
// A command never touches the device before its arguments are all valid.
#pragma once

#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "command_line.h"
#include "zbl/backend.h"

namespace zbl::io {

class Shell {
 public:
  // `device` may be null (no image given): only global commands (help, quit) then run.
  Shell(Backend* device, std::ostream& out, std::ostream& err, std::string progname = "zbl-io")
      : device_(device), out_(out), err_(err), progname_(std::move(progname)) {}

  // Runs one command line. Returns 0, or a negative errno when the command failed (qemu-io
  // then exits with status 1).
  int Execute(std::string_view line);
  bool quit_requested() const { return quit_; }
  void RequestQuit() { quit_ = true; }

  Backend* device() { return device_; }
  const std::string& progname() const { return progname_; }
  std::ostream& out() { return out_; }
  // The error stream, after flushing `out`.
  std::ostream& err() {
    out_.flush();
    return err_;
  }
  // Prints zbl's description of a failed request on the error stream ("zbl-io: write at 0x0
  // is not at the write pointer 0x1000"); qemu-io's own one-line verdict follows on `out`.
  void ReportDetail(const Status& st);
  // qemu-io's "name args -- oneline" usage line, on `out`.
  void PrintUsage(const CommandSpec& spec);

 private:
  Backend* device_;
  std::ostream& out_;
  std::ostream& err_;
  std::string progname_;
  bool quit_ = false;
};

}  // namespace zbl::io
