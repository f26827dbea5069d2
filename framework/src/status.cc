#include "zbl/status.h"

#include <cstring>

namespace zbl {

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->msg : kEmpty;
}

std::string Status::ErrnoText() const {
  if (ok()) return "Success";
  char buf[128];
  // GNU strerror_r returns the text (possibly not in buf).
  return std::string(strerror_r(rep_->err, buf, sizeof buf));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  if (rep_->msg.empty()) return ErrnoText();
  return ErrnoText() + ": " + rep_->msg;
}

Status Status::Annotate(std::string_view context) const {
  if (!rep_) return {};
  return Status(rep_->err, std::string(context) + (rep_->msg.empty() ? "" : ": ") + rep_->msg);
}

Status ErrnoStatus(int err, std::string_view what) {
  if (err == ENOTTY || err == EOPNOTSUPP) err = ENOTSUP;
  return Status(err, std::string(what));
}

}  // namespace zbl
