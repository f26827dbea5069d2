// zbl-ublk's kernel half: a ublk device served from a Backend.
//
// Control: ADD_DEV (kFlagZoned | kFlagUserCopy for host-managed devices), SET_PARAMS, then one
// thread per queue fetches every tag, START_DEV (the kernel reads the zone list from those
// threads before the disk appears), and at the end STOP_DEV and DEL_DEV.
// Data: each queue thread owns its io_uring (the kernel requires fetch and commit commands from
// the thread that fetched); requests go to a pool of worker threads so that different tags run
// concurrently, and their replies come back to the queue thread through an eventfd.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "serve.h"
#include "zbl/backend.h"
#include "zbl/status.h"

namespace zbl::ublk {

struct ServerOptions {
  ServeOptions serve;
  int dev_id = -1;       // -1: the kernel chooses
  unsigned workers = 4;  // per queue; 0 = serve each request in its queue thread
};

class Server {
 public:
  // Checks root and /dev/ublk-control, cleans stale zbl-ublk devices whose server is gone, adds
  // and starts the device. On error nothing is left behind.
  static Result<std::unique_ptr<Server>> Start(Backend& dev, const Plan& plan,
                                               const ServerOptions& o);
  ~Server();  // Stop() if not done

  int dev_id() const;
  std::string block_device() const;  // "/dev/ublkbN"
  // True when a queue thread stopped on its own (an error, or the kernel aborted the device).
  bool failed() const;
  std::string failure() const;
  // STOP_DEV, join the queue threads, DEL_DEV, flush the backend.
  Status Stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Deletes every ublk device that a zbl-ublk server added and whose server process is gone
// (after a SIGKILL). Returns how many were removed.
Result<int> CleanStaleDevices();

}  // namespace zbl::ublk
