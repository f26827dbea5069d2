// Asynchronous I/O: a queue of requests with a strict contract (as SPDK's bdev): Submit either
// fails at once and never completes, or succeeds and completes exactly once, from Reap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "zbl/status.h"

namespace zbl {

struct IoRequest {
  enum class Op : uint8_t { kRead, kWrite, kAppend, kFlush };
  Op op = Op::kRead;
  // Byte offset; for kAppend the start of the target zone.
  uint64_t offset = 0;
  void* buf = nullptr;  // read destination or write source; owned by the caller until completion
  size_t len = 0;

  // Filled in before `done` runs.
  int error = 0;             // 0 or a positive errno
  uint64_t result_offset = 0;  // kAppend: where the data was written

  void (*done)(IoRequest* req) = nullptr;  // may be null
  void* user = nullptr;
};

// Not thread-safe: one queue belongs to one thread. Different queues of one device may be used
// from different threads at once.
class IoQueue {
 public:
  virtual ~IoQueue() = default;
  // Queues `req`. OK: it completes exactly once, from a later Reap. Error: it never completes.
  virtual Status Submit(IoRequest* req) = 0;
  // Waits for at least `min` completions (0 = do not wait), runs their `done` callbacks in this
  // thread and returns how many completed.
  virtual Result<unsigned> Reap(unsigned min) = 0;
  // Requests submitted and not yet completed.
  virtual unsigned inflight() const = 0;
  virtual unsigned depth() const = 0;
};

}  // namespace zbl
