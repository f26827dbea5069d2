// The queue of the persistent emulated device (driver=emulated over a file child): requests to
// different zones run in parallel through the child's own queue (the file driver's io_uring
// ring), while writes and appends to one zone stay ordered at its write pointer.
//
// Ordering: Engine::BeginWrite accepts a write or append at submission, under its zone's lock:
// it is checked against the write pointer every earlier accepted request left, and an append
// takes its offset there and then; the zone's write pointer moves on at once, so the next
// request of the zone (from this queue, another queue or a synchronous call) is checked
// behind it. The data then goes to the child's queue at the image offset; when the child
// completes it, Engine::EndWrite moves the zone's data_end over the completed prefix, and only
// that prefix is what reads return and what the backing persists.
//
// Crash safety, with any number of requests in flight: the backing persists a zone's record
// (lazily, at Flush) from data_end, never from the write pointer accepted ahead of the data, so
// no persisted write pointer stands past data that completed; a flush request runs the
// device's Flush (sync the data, write the records of the zones changed, sync again), which
// covers every write completed before it was submitted, as a disk's flush covers completed
// writes only. A reset of a zone with writes in flight is refused (EBUSY): their data could
// land after the reset. A failed data write fails the zone's later writes in flight too and
// the zone resumes at the completed prefix (see Engine::BeginWrite).
//
// Reads, flushes and requests that cannot be queued (a write across zones, host-aware zones)
// run synchronously through the node in Submit and complete from the next Reap.
#pragma once

#include <memory>

#include "engine.h"
#include "zbl/driver.h"

namespace zbl::emulated {

// `device` serves the synchronous requests; data of device offset x is at data_offset + x in
// `child`, whose CreateQueue(depth) supplies the queue underneath (the framework's synchronous
// queue where the child has none of its own).
Result<std::unique_ptr<IoQueue>> CreatePersistQueue(Node& device, Engine& engine, Node& child,
                                                    uint64_t data_offset, unsigned depth);

}  // namespace zbl::emulated
