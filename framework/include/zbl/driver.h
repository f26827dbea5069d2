// The driver interface: for driver authors. Users open devices through zbl/backend.h.
//
// A driver is a DriverSpec (name, description, options it accepts, an open function) listed in
// drivers/registry.cc. An opened driver is a Node: a complete table of entry points (I/O, zone
// operations, discard, truncate, queues), a declared capability set, its children (the primary
// child is "file") and its limits. A filter (a node over one child that passes requests on,
// changing only some) derives from FilterNode, which forwards every entry point to its child.
//
// Contracts that hold for every Node method:
//  - Errors are returned as values; no exception leaves a driver.
//  - The backend has already validated the request (alignment to request_alignment, range
//    inside the device, zone alignment of management ranges, zoned model supports the op).
//    Drivers still enforce device semantics (write pointer, capacity, resources, conditions).
//  - A failed request changes neither data nor zone state, unless the device itself cannot
//    promise that (a real device); such drivers say so in their documentation.
//  - Thread safety: every method may be called from many threads at once.
//  - No driver downcasts another: what a child can do is its capabilities().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zbl/capabilities.h"
#include "zbl/limits.h"
#include "zbl/options.h"
#include "zbl/queue.h"
#include "zbl/status.h"
#include "zbl/types.h"

namespace zbl {

class Node;
class OpenContext;


struct DriverSpec {
  std::string_view name;
  std::string_view description;
  // Every option the driver takes (OptionSpec, zbl/options.h). Before the driver opens, the
  // framework refuses a key not declared here and checks each given value's type and range.
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

  // Frees [offset, offset+len) (block aligned, inside the device): it reads back as zeros.
  // Default: ENOTSUP. Declared by Cap::kDiscard.
  virtual Status Discard(uint64_t offset, uint64_t len);
  // Sets the device's size to `size` (rounded down to the logical block size); on success this
  // node's limits are current. Default: ENOTSUP. Declared by Cap::kResize.
  virtual Status Truncate(uint64_t size);

  // A queue for asynchronous I/O. Default: a queue that runs each request synchronously in
  // Submit and completes it in Reap (the contract holds, without overlap).
  virtual Result<std::unique_ptr<IoQueue>> CreateQueue(unsigned depth);

  // The file or device this node's data lives in, for messages ("" when none). Filters give
  // their child's.
  virtual std::string filename() const { return ""; }

  // What this node can do (see Cap). Default: keeps data, nothing else.
  virtual Capabilities capabilities() const { return {Cap::kKeepsData}; }
  bool Supports(Cap c) const { return capabilities().Has(c); }

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

  // Limits as last computed by the framework (and by Truncate).
  const Limits& limits() const { return limits_; }
  void set_limits(const Limits& l) { limits_ = l; }
  // The option string this node was opened with (its subtree).
  const std::string& options_string() const { return options_string_; }
  void set_options_string(std::string s) { options_string_ = std::move(s); }

 protected:
  // Closes the children now, for a node whose own teardown must follow theirs (a kernel device
  // is removed only after its disk is closed). Call it from the destructor only.
  void CloseChildren() { children_.clear(); }
  // Recomputes this node's own limits from its children's current ones.
  Status RecomputeLimits();

 private:
  const DriverSpec* spec_;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> children_;
  Limits limits_;
  std::string options_string_;
};

// What a filter sees of each request before it goes to the child, in its synchronous entry
// points and in its queues alike.
enum class FilterOp : uint8_t {
  kRead, kWrite, kAppend, kFlush, kReport,
  kZoneOpen, kZoneClose, kZoneFinish, kZoneReset,  // in ZoneOp order
  kZoneResetAll, kDiscard, kTruncate,
};
std::string_view ToString(FilterOp op);

// A node over one child ("file") that forwards every entry point to it: I/O, zone operations,
// discard, truncate, queues (the child's, so a filter over io_uring keeps io_uring), limits
// (pass-through) and capabilities. A filter overrides only what it changes:
//  - Admit() to refuse requests before they reach the child (error injection); it runs for
//    the synchronous calls and at queue submission (a refused queued request completes with
//    the error from Reap, as a device's error would);
//  - an entry point to change what a request does (a cache); such a filter also overrides
//    CreateQueue (Node::CreateQueue runs requests through its own entry points) and
//    capabilities() (dropping kNativeQueue).
class FilterNode : public Node {
 public:
  using Node::Node;

  Result<Limits> ComputeLimits() override;
  Status Read(uint64_t offset, void* buf, size_t len) override;
  Status Write(uint64_t offset, const void* buf, size_t len) override;
  Status Flush() override;
  Result<size_t> ReportZones(uint64_t offset, std::span<Zone> zones) override;
  Status ZoneMgmt(ZoneOp op, uint64_t offset, uint64_t len) override;
  Status ZoneResetAll() override;
  Result<uint64_t> ZoneAppend(uint64_t zone_offset, const void* buf, size_t len) override;
  Status Discard(uint64_t offset, uint64_t len) override;
  Status Truncate(uint64_t size) override;
  Result<std::unique_ptr<IoQueue>> CreateQueue(unsigned depth) override;
  Capabilities capabilities() const override;
  std::string filename() const override { return child().filename(); }

 protected:
  // OK lets the request through to the child. `len` is the request's range (a zone for an
  // append, the device from `offset` for a report, the device for flush and reset-all).
  virtual Status Admit(FilterOp op, uint64_t offset, uint64_t len) {
    (void)op, (void)offset, (void)len;
    return Status::Ok();
  }
  // The child (a filter is opened with one, as "file").
  Node& child() const { return *file(); }

 private:
  friend class FilterQueue;
};

// What a parent asks of the subtree it opens (passed down through filters).
struct OpenFlags {
  // A missing image file is created empty (the emulated device's image); drivers that cannot
  // create (host_device) ignore it.
  bool create = false;
};

// Handed to DriverSpec::open.
class OpenContext {
 public:
  explicit OpenContext(Options& options, OpenFlags flags = {}) : options_(options), flags_(flags) {}
  Options& options() { return options_; }
  const OpenFlags& flags() const { return flags_; }
  // Opens the child subtree `name` (e.g. "file") with its own "driver" key, limits computed,
  // with this node's flags plus `add`. Returns a null pointer when the subtree is absent and
  // !required.
  Result<std::unique_ptr<Node>> OpenChild(std::string_view name, bool required,
                                          OpenFlags add = {});

 private:
  Options& options_;
  OpenFlags flags_;
};

// The explicit list of built-in drivers (drivers/registry.cc).
std::span<const DriverSpec* const> BuiltinDrivers();
const DriverSpec* FindDriver(std::string_view name);
// Every built-in driver with its description and declared options (`--list-drivers`).
std::string FormatDriverList();
// The declaration of `key` (an own key, or a group's key "cache.direct") in `spec`, or null.
const OptionSpec* FindOption(const DriverSpec& spec, std::string_view key);

// Opens a whole tree: the driver named by options' "driver" key, children first (leaf first),
// refuses unknown keys, and computes limits bottom-up.
Result<std::unique_ptr<Node>> OpenNode(Options& options, OpenFlags flags = {});
// Recomputes limits of `node` and its subtree, children first (after a reconfiguration).
Status RefreshLimits(Node& node);

}  // namespace zbl
