// Status and Result<T>: errors as values, carrying a positive errno and a context message.
//
// An OK Status costs one null pointer; only failures allocate. Errors never cross the driver
// boundary as exceptions: every driver and backend call returns a Status or a Result<T>.
// errno values follow Linux: EIO for a write that violates the write pointer or capacity,
// ETOOMANYREFS for open-zone exhaustion, EOVERFLOW for active-zone exhaustion, EINVAL for
// misaligned or out-of-range arguments, ENOTSUP for zone commands on a non-zoned device.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace zbl {

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(int err, std::string message) : rep_(std::make_unique<Rep>(Rep{err, std::move(message)})) {}
  Status(const Status& o) : rep_(o.rep_ ? std::make_unique<Rep>(*o.rep_) : nullptr) {}
  Status& operator=(const Status& o) {
    if (this != &o) rep_ = o.rep_ ? std::make_unique<Rep>(*o.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return {}; }

  bool ok() const { return rep_ == nullptr; }
  explicit operator bool() const { return ok(); }
  // Positive errno; 0 when OK.
  int code() const { return rep_ ? rep_->err : 0; }
  // The context message without the strerror text ("" when OK).
  const std::string& message() const;
  // "Input/output error: write at 0x1000 is not at the write pointer 0x0" (or "OK").
  std::string ToString() const;
  // strerror(code()) as Linux prints it.
  std::string ErrnoText() const;
  // A copy with the message prefixed by `context: ` (OK stays OK).
  Status Annotate(std::string_view context) const;

 private:
  struct Rep {
    int err;
    std::string msg;
  };
  std::unique_ptr<Rep> rep_;
};

// Builds an error Status with a fmt-style message.
template <typename... Args>
Status Error(int err, fmt::format_string<Args...> f, Args&&... args) {
  return Status(err, fmt::format(f, std::forward<Args>(args)...));
}
// The one place errno from a system call becomes a Status (ENOTTY / EOPNOTSUPP become ENOTSUP).
Status ErrnoStatus(int err, std::string_view what);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Status(EINVAL, "internal: Result built from an OK status");
  }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace zbl

// Returns early with the error of a Status-returning expression.
#define ZBL_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::zbl::Status zbl_status_ = (expr);      \
    if (!zbl_status_.ok()) return zbl_status_; \
  } while (0)
