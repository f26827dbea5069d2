// driver=emulated: a userspace zoned device (HM, HA or NONE) with the state machine of a
// chosen family (profile=null_blk|zns|zbc). Data lives in memory, sparsely; with a "file"
// child (file.driver=file,file.filename=...) it persists in that image.
#pragma once

#include <memory>

#include "engine.h"
#include "zbl/driver.h"

namespace zbl::emulated {

extern const DriverSpec kEmulatedDriver;

// Reads the emulated driver's options (model, size, zone-size, ...) into an engine config.
Result<EngineConfig> ParseEngineConfig(const Options& opts);

// A node that serves every request from an Engine (also used by null_blk's user twin).
class EngineNode : public Node {
 public:
  EngineNode(const DriverSpec& spec, std::unique_ptr<Engine> engine)
      : Node(spec), engine_(std::move(engine)) {}

  Engine& engine() { return *engine_; }
  Result<Limits> ComputeLimits() override;
  Status Read(uint64_t offset, void* buf, size_t len) override;
  Status Write(uint64_t offset, const void* buf, size_t len) override;
  Status Flush() override;
  Result<size_t> ReportZones(uint64_t offset, std::span<Zone> zones) override;
  Status ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) override;
  Status ZoneResetAll() override;
  Result<uint64_t> ZoneAppend(uint64_t zone_offset, const void* buf, size_t len) override;
  // keeps-data unless the engine discards data; zone-append on a zoned device.
  Capabilities capabilities() const override;
  void Describe(NodeInfo& info) const override;

 protected:
  // The engine's profile, model and zone geometry lines (shared by the devices built on it).
  void DescribeZones(NodeInfo& info) const;

  std::unique_ptr<Engine> engine_;
};

}  // namespace zbl::emulated
