// zbl-ublk: serves a zbl device to the Linux kernel as a (zoned) block device through ublk.
//
//   zbl-ublk [--image-opts] DEVICE [--queues N] [--depth D] [--max-io BYTES] [--dev-id N]
//
// Prints the block device path (/dev/ublkbN) on stdout once the kernel has accepted the disk,
// serves until SIGINT or SIGTERM, then stops and deletes the ublk device and exits 0.
// Exit status: 0 clean stop, 1 the device failed while serving, 2 usage, open or setup error.
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "serve.h"
#include "ublk.h"
#include "zbl/backend.h"

namespace {

// A path as an option value: commas are doubled (the option syntax's escape).
std::string EscapeValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

std::string PathOptionString(const std::string& path) {
  struct stat st {};
  const bool block = stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
  return fmt::format("driver={},filename={}", block ? "host_device" : "file", EscapeValue(path));
}

}  // namespace

int main(int argc, char** argv) {
  std::string device;
  bool image_opts = false;
  bool clean_only = false;
  zbl::ublk::ServerOptions o;
  CLI::App app{"zbl-ublk: serves a zbl device to Linux as a (zoned) block device through ublk",
               "zbl-ublk"};
  app.add_flag("--image-opts", image_opts, "DEVICE is a zbl option string (driver=emulated,...)");
  app.add_option("DEVICE", device, "a file or block device, or an option string with --image-opts");
  app.add_option("--queues", o.serve.queues, "hardware queues (one server thread each)")
      ->default_val(1);
  app.add_option("--depth", o.serve.depth, "tags per queue")->default_val(64);
  app.add_option("--max-io", o.serve.max_io, "largest request in bytes (multiple of 4096)")
      ->default_val(512 * 1024);
  app.add_option("--dev-id", o.dev_id, "ublk device number (default: the kernel picks)");
  app.add_option("--workers", o.workers,
                 "worker threads per queue serving tags concurrently (0 = in the queue thread)")
      ->default_val(4);
  app.add_flag("--clean-stale", clean_only,
               "only remove ublk devices left by a killed zbl-ublk, then exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (clean_only) {
    auto n = zbl::ublk::CleanStaleDevices();
    if (!n.ok()) {
      fmt::print(stderr, "zbl-ublk: {}\n", n.status().ToString());
      return 2;
    }
    fmt::print(stderr, "zbl-ublk: {} stale device(s) removed\n", *n);
    return 0;
  }
  if (device.empty()) {
    fmt::print(stderr, "zbl-ublk: DEVICE is required (see --help)\n");
    return 2;
  }
  if (o.dev_id < -1) {
    fmt::print(stderr, "zbl-ublk: --dev-id must be >= 0\n");
    return 2;
  }
  // Signals are taken synchronously by the main thread; every thread started later inherits
  // the mask, so SIGINT/SIGTERM never interrupt a queue thread.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  const std::string opts = image_opts ? device : PathOptionString(device);
  auto dev = zbl::Backend::Open(opts);
  if (!dev.ok()) {
    fmt::print(stderr, "zbl-ublk: can't open {}: {}\n", device, dev.status().ToString());
    return 2;
  }
  auto plan = zbl::ublk::MakePlan(**dev, o.serve);
  if (!plan.ok()) {
    fmt::print(stderr, "zbl-ublk: {}: {}\n", device, plan.status().ToString());
    return 2;
  }
  for (const auto& n : plan->notes) fmt::print(stderr, "zbl-ublk: note: {}\n", n);
  auto server = zbl::ublk::Server::Start(**dev, *plan, o);
  if (!server.ok()) {
    fmt::print(stderr, "zbl-ublk: {}\n", server.status().ToString());
    return 2;
  }
  fmt::print(stderr, "zbl-ublk: serving {} as {}: {}\n", (*dev)->GraphString(),
             (*server)->block_device(), zbl::ublk::Describe(*plan, **dev));
  fmt::print("{}\n", (*server)->block_device());
  std::fflush(stdout);

  int rc = 0;
  for (;;) {
    timespec t{0, 200 * 1000 * 1000};
    int s = sigtimedwait(&sigs, nullptr, &t);
    if (s > 0) break;
    if ((*server)->failed()) {
      fmt::print(stderr, "zbl-ublk: serving failed: {}\n", (*server)->failure());
      rc = 1;
      break;
    }
  }
  zbl::Status st = (*server)->Stop();
  if (!st.ok()) {
    fmt::print(stderr, "zbl-ublk: stopping: {}\n", st.ToString());
    return rc == 0 ? 1 : rc;
  }
  fmt::print(stderr, "zbl-ublk: {} stopped and deleted\n", (*server)->block_device());
  return rc;
}
