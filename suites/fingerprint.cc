#include "fingerprint.h"

#include <algorithm>
#include <map>
#include <set>

#include "families.h"

namespace zbl::suites {
namespace {

using ZC = ZoneCondition;

// What every probe needs to know about the device.
struct Ctx {
  Backend& d;
  Limits l;
  uint64_t wb = 0;
  std::vector<uint32_t> seq;  // usable full-length sequential zones in the first window
  std::vector<uint8_t> buf;

  uint64_t Start(uint32_t z) const { return uint64_t{z} * l.zone_size; }
  Zone Get(uint32_t z) {
    auto r = d.ReportZones(Start(z), 1);
    return r.ok() && !r->empty() ? (*r)[0] : Zone{};
  }
  Status Write(uint64_t at, uint64_t len) {
    if (buf.size() < len) buf.assign(len, 0xa7);
    return d.Write(at, buf.data(), len);
  }
  Status Op(ZoneOp op, uint32_t z) { return d.ZoneMgmt(op, Start(z), l.zone_size); }
};

ProbeResult Skip(std::string why) { return {"", std::move(why), ""}; }
ProbeResult Fail(std::string step, const Status& st) { return {"", "", step + ": " + st.ToString()}; }
ProbeResult Got(std::string v) { return {std::move(v), "", ""}; }

// Runs `body` on a fresh state, with the device's usable sequential zones found.
template <typename F>
ProbeResult WithCtx(Backend& d, uint32_t need_zones, F body) {
  Ctx c{d, d.limits()};
  if (!c.l.zoned()) return Skip("the device is not zoned");
  if (c.l.model != ZoneModel::kHostManaged) return Skip("the device is not host-managed");
  c.wb = std::max<uint64_t>(c.l.logical_block_size, c.l.write_granularity);
  if (Status st = d.ZoneResetAll(); !st.ok()) return Fail("reset-all", st);
  auto zones = d.ReportZones(0, std::min<uint32_t>(c.l.nr_zones, 128));
  if (!zones.ok()) return Fail("report", zones.status());
  for (const Zone& z : *zones)
    if (z.type == ZoneType::kSequentialWriteRequired && z.condition == ZC::kEmpty &&
        z.length == c.l.zone_size)
      c.seq.push_back(static_cast<uint32_t>(z.start / c.l.zone_size));
  if (c.seq.size() < need_zones)
    return Skip("needs " + std::to_string(need_zones) + " sequential zones");
  ProbeResult r = body(c);
  Status st = d.ZoneResetAll();
  if (!st.ok() && r.error.empty()) r = Fail("reset-all after the probe", st);
  return r;
}

ProbeResult CloseAtStart(Backend& d) {
  return WithCtx(d, 1, [](Ctx& c) {
    uint32_t z = c.seq[0];
    if (Status st = c.Op(ZoneOp::kOpen, z); !st.ok()) return Fail("open", st);
    if (Status st = c.Op(ZoneOp::kClose, z); !st.ok()) return Fail("close", st);
    ZC cond = c.Get(z).condition;
    if (cond == ZC::kEmpty) return Got("empty");
    if (cond == ZC::kClosed) return Got("closed");
    return Got(std::string("condition_") + std::string(ToString(cond)));
  });
}

ProbeResult Inapplicable(Backend& d, ZoneOp op, bool full) {
  return WithCtx(d, 1, [op, full](Ctx& c) {
    uint32_t z = c.seq[0];
    if (full)
      if (Status st = c.Op(ZoneOp::kFinish, z); !st.ok()) return Fail("finish", st);
    Zone before = c.Get(z);
    Status st = c.Op(op, z);
    Zone after = c.Get(z);
    if (after != before) return Got("changed_to_" + std::string(ToString(after.condition)));
    return Got(st.ok() ? "noop" : "error");
  });
}
ProbeResult OpenFull(Backend& d) { return Inapplicable(d, ZoneOp::kOpen, true); }
ProbeResult CloseEmpty(Backend& d) { return Inapplicable(d, ZoneOp::kClose, false); }
ProbeResult CloseFull(Backend& d) { return Inapplicable(d, ZoneOp::kClose, true); }

std::string WpVariant(const Zone& z) {
  uint64_t rel = z.write_pointer - z.start;
  if (z.condition != ZC::kFull) return "not_full";
  if (rel == z.length) return "zone_end";
  if (rel == z.capacity) return "capacity_end";
  return "other";
}

ProbeResult FullWpFinished(Backend& d) {
  return WithCtx(d, 1, [](Ctx& c) {
    if (Status st = c.Op(ZoneOp::kFinish, c.seq[0]); !st.ok()) return Fail("finish", st);
    return Got(WpVariant(c.Get(c.seq[0])));
  });
}

ProbeResult FullWpWritten(Backend& d) {
  return WithCtx(d, 1, [](Ctx& c) {
    Zone z = c.Get(c.seq[0]);
    if (z.capacity == z.length) return Skip("zone capacity equals zone size: both variants agree");
    if (z.capacity > (uint64_t{64} << 20)) return Skip("zones too large to fill in a probe");
    for (uint64_t at = 0; at < z.capacity;) {
      uint64_t n = std::min<uint64_t>(z.capacity - at, 1 << 20);
      if (Status st = c.Write(z.start + at, n); !st.ok()) return Fail("fill", st);
      at += n;
    }
    return Got(WpVariant(c.Get(c.seq[0])));
  });
}

ProbeResult FinishWithoutResources(Backend& d) {
  const uint32_t m = d.limits().max_open_zones;
  if (m == 0) return Skip("the device has no open zone limit");
  return WithCtx(d, m + 1, [m](Ctx& c) {
    for (uint32_t i = 0; i < m; ++i)
      if (Status st = c.Op(ZoneOp::kOpen, c.seq[i]); !st.ok()) return Fail("explicit open", st);
    Status st = c.Op(ZoneOp::kFinish, c.seq[m]);
    ZC cond = c.Get(c.seq[m]).condition;
    if (st.ok() && cond == ZC::kFull) return Got("succeeds");
    if (!st.ok() && cond == ZC::kEmpty) return Got("fails");
    return Got("inconsistent");
  });
}

// Which zone each policy closes, simulated here for the same sequence of implicit opens.
// Round robin resumes after the zone it closed last, a cursor the device keeps across resets
// (null_blk's imp_close_zone_no): `start` is where it stands when the probe begins.
std::vector<uint32_t> Simulate(std::string_view policy, uint32_t m, const std::vector<uint32_t>& seq,
                               uint32_t start = 0) {
  std::set<uint32_t> open;
  std::vector<uint32_t> order, evicted;
  uint32_t next = start;
  for (uint32_t z : seq) {
    if (open.size() == m) {
      uint32_t v;
      if (policy == "oldest") {
        v = order.front();
      } else if (policy == "lowest") {
        v = *open.begin();
      } else {
        auto it = open.lower_bound(next);
        v = it == open.end() ? *open.begin() : *it;
        next = v + 1;
      }
      open.erase(v);
      order.erase(std::find(order.begin(), order.end(), v));
      evicted.push_back(v);
    }
    open.insert(z);
    order.push_back(z);
  }
  return evicted;
}

ProbeResult EvictPolicy(Backend& d) {
  const Limits& l = d.limits();
  const uint32_t m = l.max_open_zones;
  if (m == 0) return Skip("the device has no open zone limit");
  if (l.max_active_zones && l.max_active_zones < m + 4)
    return Skip("the active limit leaves no room for the probe's closed zones");
  return WithCtx(d, m + 4, [m](Ctx& c) {
    // Opens in descending order, then below and above them: the policies part ways.
    std::vector<uint32_t> rel;
    for (uint32_t i = m + 1; i >= 2; --i) rel.push_back(i);
    for (uint32_t i : {m + 2, 0u, 1u, m + 3}) rel.push_back(i);
    std::vector<uint32_t> zones, seen;
    std::set<uint32_t> open;
    for (uint32_t r : rel) {
      uint32_t z = c.seq[r];
      if (Status st = c.Write(c.Start(z), c.wb); !st.ok()) return Fail("implicit open", st);
      zones.push_back(r);
      for (auto it = open.begin(); it != open.end();) {
        if (c.Get(c.seq[*it]).condition == ZC::kClosed) {
          seen.push_back(*it);
          it = open.erase(it);
        } else {
          ++it;
        }
      }
      open.insert(r);
    }
    for (std::string_view p : {"oldest", "lowest"})
      if (Simulate(p, m, zones) == seen) return Got(std::string(p));
    for (uint32_t start = 0; start < m + 4; ++start)
      if (Simulate("round_robin", m, zones, start) == seen) return Got("round_robin");
    return Got("other");
  });
}

ProbeResult ReadUnwritten(Backend& d) {
  return WithCtx(d, 1, [](Ctx& c) {
    uint64_t at = c.Start(c.seq[0]);
    if (Status st = c.Write(at, c.wb); !st.ok()) return Fail("write", st);
    std::vector<uint8_t> got(c.wb, 0xee);
    Status st = c.d.Read(at + c.wb, got.data(), got.size());
    return Got(ReadVariant(st.ok(), got, 0xee));
  });
}

ProbeResult CrossZoneWrite(Backend& d) {
  return WithCtx(d, 2, [](Ctx& c) {
    uint32_t a = 0;
    while (a + 1 < c.seq.size() && c.seq[a + 1] != c.seq[a] + 1) ++a;
    if (a + 1 >= c.seq.size()) return Skip("needs two adjacent sequential zones");
    Zone za = c.Get(c.seq[a]);
    if (za.capacity != za.length) return Skip("zone capacity < size: the boundary is not writable");
    if (za.length > (uint64_t{64} << 20)) return Skip("zones too large to fill in a probe");
    for (uint64_t at = 0; at < za.length - c.wb;) {
      uint64_t n = std::min<uint64_t>(za.length - c.wb - at, 1 << 20);
      if (Status st = c.Write(za.start + at, n); !st.ok()) return Fail("fill", st);
      at += n;
    }
    Status st = c.Write(za.start + za.length - c.wb, 2 * c.wb);
    Zone a2 = c.Get(c.seq[a]), b2 = c.Get(c.seq[a + 1]);
    bool a_full = a2.condition == ZC::kFull, b_written = b2.write_pointer == b2.start + c.wb;
    if (st.ok() && a_full && b_written) return Got("split");
    if (!st.ok() && !a_full && b2.condition == ZC::kEmpty) return Got("reject");
    return Got("partial");
  });
}

ProbeResult AppendNotZoneStart(Backend& d) {
  if (d.limits().max_append_bytes == 0) return Skip("the device has no zone append");
  return WithCtx(d, 1, [](Ctx& c) {
    std::vector<uint8_t> b(c.wb, 1);
    auto r = c.d.ZoneAppend(c.Start(c.seq[0]) + c.wb, b.data(), b.size());
    return Got(r.ok() ? "accepted" : ErrnoVariant(r.status().code()));
  });
}

ProbeResult WriteViolationErrno(Backend& d) {
  return WithCtx(d, 1, [](Ctx& c) {
    Status st = c.Write(c.Start(c.seq[0]) + c.wb, c.wb);
    return Got(st.ok() ? "accepted" : ErrnoVariant(st.code()));
  });
}

ProbeResult WritePlugErrno(Backend& d) {
  return WithCtx(d, 1, [](Ctx& c) {
    if (Status st = c.Write(c.Start(c.seq[0]), c.wb); !st.ok()) return Fail("write", st);
    Status st = c.Write(c.Start(c.seq[0]) + 2 * c.wb, c.wb);
    return Got(st.ok() ? "accepted" : ErrnoVariant(st.code()));
  });
}

ProbeResult TransitionErrno(Backend& d) {
  return WithCtx(d, 1, [](Ctx& c) {
    // Open and close of FULL and close of EMPTY are the family-dependent ones; the first that
    // fails shows the errno. Finish of an offline zone would be universal but needs faults.
    if (Status st = c.Op(ZoneOp::kClose, c.seq[0]); !st.ok()) return Got(ErrnoVariant(st.code()));
    if (Status st = c.Op(ZoneOp::kFinish, c.seq[0]); !st.ok()) return Fail("finish", st);
    if (Status st = c.Op(ZoneOp::kOpen, c.seq[0]); !st.ok()) return Got(ErrnoVariant(st.code()));
    return Skip("no inapplicable transition fails on this device");
  });
}

ProbeResult ActiveLimit(Backend& d) {
  if (!d.limits().zoned()) return Skip("the device is not zoned");
  return Got(d.limits().max_active_zones ? "present" : "absent");
}

}  // namespace

const std::vector<Probe>& Probes() {
  static const std::vector<Probe> p = {
      {"close_at_start", CloseAtStart},
      {"full_wp_written", FullWpWritten},
      {"full_wp_finished", FullWpFinished},
      {"open_full", OpenFull},
      {"close_empty", CloseEmpty},
      {"close_full", CloseFull},
      {"finish_without_resources", FinishWithoutResources},
      {"evict_policy", EvictPolicy},
      {"read_unwritten", ReadUnwritten},
      {"cross_zone_write", CrossZoneWrite},
      {"append_not_zone_start", AppendNotZoneStart},
      {"write_violation_errno", WriteViolationErrno},
      {"write_plug_errno", WritePlugErrno},
      {"transition_errno", TransitionErrno},
      {"active_limit", ActiveLimit},
  };
  return p;
}

ProbeResult RunProbe(Backend& dev, std::string_view cell) {
  for (const Probe& p : Probes())
    if (p.cell == cell) return p.run(dev);
  return {"", "", "no probe for cell '" + std::string(cell) + "'"};
}

std::map<std::string, std::string> Fingerprint(Backend& dev, bool destructive) {
  std::map<std::string, std::string> out;
  for (const Probe& p : Probes()) {
    if (!destructive && p.cell != "active_limit") continue;
    ProbeResult r = p.run(dev);
    if (!r.variant.empty()) out[std::string(p.cell)] = r.variant;
  }
  return out;
}

}  // namespace zbl::suites
