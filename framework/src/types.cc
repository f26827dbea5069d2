#include "zbl/types.h"

namespace zbl {

std::string_view ToString(ZoneModel m) {
  switch (m) {
    case ZoneModel::kNone: return "NONE";
    case ZoneModel::kHostManaged: return "HM";
    case ZoneModel::kHostAware: return "HA";
  }
  return "?";
}

std::string_view ToString(ZoneType t) {
  switch (t) {
    case ZoneType::kConventional: return "CONVENTIONAL";
    case ZoneType::kSequentialWriteRequired: return "SEQ_WRITE_REQUIRED";
    case ZoneType::kSequentialWritePreferred: return "SEQ_WRITE_PREFERRED";
  }
  return "?";
}

std::string_view ToString(ZoneCondition c) {
  switch (c) {
    case ZoneCondition::kNotWritePointer: return "NOT_WP";
    case ZoneCondition::kEmpty: return "EMPTY";
    case ZoneCondition::kImplicitOpen: return "IMP_OPEN";
    case ZoneCondition::kExplicitOpen: return "EXP_OPEN";
    case ZoneCondition::kClosed: return "CLOSED";
    case ZoneCondition::kReadOnly: return "READONLY";
    case ZoneCondition::kFull: return "FULL";
    case ZoneCondition::kOffline: return "OFFLINE";
  }
  return "?";
}

std::string_view ToString(ZoneOp op) {
  switch (op) {
    case ZoneOp::kOpen: return "open";
    case ZoneOp::kClose: return "close";
    case ZoneOp::kFinish: return "finish";
    case ZoneOp::kReset: return "reset";
  }
  return "?";
}

}  // namespace zbl
