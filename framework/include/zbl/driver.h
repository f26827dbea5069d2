// The driver interface: for driver authors. Users open devices through zbl/backend.h.
//
// A driver is a DriverSpec (name, description, options it accepts, an open function) listed in
// drivers/registry.cc. An opened driver is a Node: it implements the I/O and zone operations,
// owns its children (the primary child is "file") and reports its limits.
//
// Contracts that hold for every Node method:
//  - Errors are returned as values; no exception leaves a driver.
//  - The backend has already validated the request (alignment to request_alignment, range
//    inside the device, zone alignment of management ranges, zoned model supports the op).
//    Drivers still enforce device semantics (write pointer, capacity, resources, conditions).
//  - A failed request changes neither data nor zone state, unless the device itself cannot
//    promise that (a real device); such drivers say so in their documentation.
//  - Thread safety: every method may be called from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zbl/limits.h"
#include "zbl/options.h"
#include "zbl/queue.h"
#include "zbl/status.h"
#include "zbl/types.h"

namespace zbl {

class Node;
class OpenContext;

struct OptionSpec {
  std::string_view name;
  std::string_view default_value;  // "" = none / required / derived
  std::string_view help;
};

struct DriverSpec {
  std::string_view name;
  std::string_view description;
  std::span<const OptionSpec> options;
  // Opens the node for ctx.options(); opens children through ctx.
  Result<std::unique_ptr<Node>> (*open)(OpenContext& ctx) = nullptr;
};

// What `info` shows about a node: key/value lines, in order.
struct NodeInfo {
  std::vector<std::pair<std::string, std::string>> items;
  void Add(std::string key, std::string value) { items.emplace_back(std::move(key), std::move(value)); }
};

class Node {
 public:
  explicit Node(const DriverSpec& spec) : spec_(&spec) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const DriverSpec& spec() const { return *spec_; }
  std::string_view driver_name() const { return spec_->name; }

  // Computes this node's limits. Called by the framework after open (children first, so
  // children's limits() are current). Pass-through nodes use MergeLimits(kPassThrough).
  virtual Result<Limits> ComputeLimits() = 0;

  virtual Status Read(uint64_t offset, void* buf, size_t len) = 0;
  virtual Status Write(uint64_t offset, const void* buf, size_t len) = 0;
  virtual Status Flush();

  // Fills up to zones.size() descriptors starting with the zone containing `offset`; returns
  // how many were filled (fewer at the end of the device). Default: ENOTSUP.
  virtual Result<size_t> ReportZones(uint64_t offset, std::span<Zone> zones);
  // Applies `op` to every zone in [offset, offset+len) (whole zones). Default: ENOTSUP.
  virtual Status ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len);
  // Resets every sequential zone. Default: ENOTSUP.
  virtual Status ZoneResetAll();
  // Writes `len` bytes at the write pointer of the zone starting at `zone_offset`; returns the
  // byte offset written. Default: ENOTSUP.
  virtual Result<uint64_t> ZoneAppend(uint64_t zone_offset, const void* buf, size_t len);

  // A queue for asynchronous I/O. Default: a queue that runs each request synchronously in
  // Submit and completes it in Reap (the contract holds, without overlap).
  virtual Result<std::unique_ptr<IoQueue>> CreateQueue(unsigned depth);

  // This node's own `info` lines (not its children's).
  virtual void Describe(NodeInfo& info) const { (void)info; }

  // Children, in the order they were added; the primary child is named "file".
  void AddChild(std::string name, std::unique_ptr<Node> child) {
    children_.emplace_back(std::move(name), std::move(child));
  }
  Node* child(std::string_view name) const;
  Node* file() const { return child("file"); }
  const std::vector<std::pair<std::string, std::unique_ptr<Node>>>& children() const {
    return children_;
  }

  // Limits as last computed by the framework.
  const Limits& limits() const { return limits_; }
  void set_limits(const Limits& l) { limits_ = l; }
  // The option string this node was opened with (its subtree).
  const std::string& options_string() const { return options_string_; }
  void set_options_string(std::string s) { options_string_ = std::move(s); }

 private:
  const DriverSpec* spec_;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> children_;
  Limits limits_;
  std::string options_string_;
};

// Handed to DriverSpec::open.
class OpenContext {
 public:
  explicit OpenContext(Options& options) : options_(options) {}
  Options& options() { return options_; }
  // Opens the child subtree `name` (e.g. "file") with its own "driver" key, limits computed.
  // Returns a null pointer when the subtree is absent and !required.
  Result<std::unique_ptr<Node>> OpenChild(std::string_view name, bool required);

 private:
  Options& options_;
};

// The explicit list of built-in drivers (drivers/registry.cc).
std::span<const DriverSpec* const> BuiltinDrivers();
const DriverSpec* FindDriver(std::string_view name);

// Opens a whole tree: the driver named by options' "driver" key, children first (leaf first),
// refuses unknown keys, and computes limits bottom-up.
Result<std::unique_ptr<Node>> OpenNode(Options& options);
// Recomputes limits of `node` and its subtree, children first (after a reconfiguration).
Status RefreshLimits(Node& node);

}  // namespace zbl
