// Errors with context: what failed, on which path or id, and the errno text; and a kind that
// says how a caller answers it, which survives every wrap with more context.
#pragma once

#include <stdexcept>
#include <string>

namespace berth {

// What the API answers: 404, 409, 400, 403, 503, 500.
enum class ErrorKind {
  kInternal,
  kNotFound,
  kConflict,
  kInvalidArgument,
  kForbidden,
  kUnavailable
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, int err = 0) : Error(ErrorKind::kInternal, what, err) {}
  // The errno that caused this error, or 0 when it did not come from a system call.
  int code() const { return errno_; }
  ErrorKind kind() const { return kind_; }

 protected:
  Error(ErrorKind kind, const std::string& what, int err)
      : std::runtime_error(what), errno_(err), kind_(kind) {}

 private:
  int errno_;
  ErrorKind kind_;
};

template <ErrorKind K>
class KindedError : public Error {
 public:
  explicit KindedError(const std::string& what, int err = 0) : Error(K, what, err) {}
};

using NotFound = KindedError<ErrorKind::kNotFound>;
using Conflict = KindedError<ErrorKind::kConflict>;
using InvalidArgument = KindedError<ErrorKind::kInvalidArgument>;
// The request is understood but not allowed (Docker's 403: removing a network in use).
using Forbidden = KindedError<ErrorKind::kForbidden>;
// Something the request needs is not there now (a runtime, a controller): Docker's 503.
using Unavailable = KindedError<ErrorKind::kUnavailable>;

// The kind of any exception: an Error's own, kInternal for everything else.
ErrorKind kind_of(const std::exception& e);

// Throws the error of `kind` with `what`: the one place a kind becomes a C++ type again.
[[noreturn]] void throw_error(ErrorKind kind, const std::string& what, int err = 0);

// Throws Error("<what>: <strerror(errno)>") with the current errno.
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int err);

// Wraps the message of a caught error with outer context, "<context>: <inner>", keeping its
// kind and errno, so a NotFound deep down is still a 404 at the door.
[[noreturn]] void rethrow_with_context(const std::exception& inner, const std::string& context);

}  // namespace berth
