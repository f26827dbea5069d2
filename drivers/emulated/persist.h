// The emulated device over a file child (driver=emulated,file.driver=file,file.filename=...):
// zone data in the child, zone metadata persisted beside it, so that reopening the image gives
// the same zone report (open zones come back CLOSED, or EMPTY when nothing was written).
//
// Image layout, all integers little-endian, through the child's Node Read/Write (any child):
//   [0, 4096)            header: magic "ZBLEMU01", version, geometry (model, size, zone size and
//                        capacity, conventional zones, open/active limits, max append, block
//                        size), profile name, layout offsets, CRC-32C of the header.
//   [4096, data_offset)  metadata: two copies (A then B) of an array of 32-byte zone records
//                        {seq u64, wp u64, data_end u64, cond u8, 3 pad, crc u32}; a zone's
//                        record with sequence number s lives in copy s & 1, so the previous
//                        record survives a torn write of the newest. Each copy is 4 KiB aligned.
//   [data_offset, +size) data: device offset x is image offset data_offset + x; data_offset is
//                        rounded up to 1 MiB.
//
// Creating vs reopening: the child is opened with OpenFlags::create, so a missing image file
// is created (by a `file` leaf, also under filters); a child whose first 4 KiB are zeros (an
// empty file) is initialised, grown to the image's size when the child declares Cap::kResize
// (else it must be large enough: ENOSPC); a valid header is reopened; anything else is refused (EINVAL: not an image, nothing
// overwritten). Reopening takes the image's geometry for every geometry option not given; a given
// option that differs is an EINVAL naming it ("image was created with zone-size 64M, options say
// 32M"). Fault injection (read-only-zones, offline-zones) is per open, not persisted.
//
// Durability (the promise: every write acknowledged before a successful Flush() survives a
// crash, and no write pointer is ever past written data):
//  - data is written to the child before the metadata that covers it;
//  - write pointers are persisted lazily: a write only updates memory; Flush() snapshots the
//    changed zones, syncs the data (child Flush), writes their records, and syncs again;
//  - a reset writes the zone's EMPTY record and syncs it before discarding the zone's data in
//    the child (when the child declares Cap::kDiscard: a hole in a `file`, BLKDISCARD on a
//    `host_device`, through any filter) and before new data; `info` says which;
//  - other unflushed state (writes, open/close/finish) may be lost in a crash: the zone comes
//    back as of the last flush, which its data covers.
// Torn metadata sectors on power loss fall back to the record's other copy (the previous flush).
// Queued I/O (CreateQueue, persist_queue.h) keeps all of this with requests in flight: a record
// is made from the zone's completed data (data_end), never from a write pointer accepted ahead
// of its data, and a flush covers the writes completed before it.
#pragma once

#include <memory>

#include "engine.h"
#include "zbl/driver.h"

namespace zbl::emulated {

// Opens (or creates) the persistent image on ctx's "file" child for the emulated driver `spec`.
// Reads the engine options itself (ParseEngineConfig), after filling the ones not given from
// an existing image's header.
Result<std::unique_ptr<Node>> OpenPersistent(OpenContext& ctx, const DriverSpec& spec);

}  // namespace zbl::emulated
