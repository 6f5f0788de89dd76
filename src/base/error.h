// Errors with context: what failed, on which path or id, and the errno text.
#pragma once

#include <stdexcept>
#include <string>

namespace berth {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, int err = 0) : std::runtime_error(what), errno_(err) {}
  // The errno that caused this error, or 0 when it did not come from a system call.
  int code() const { return errno_; }

 private:
  int errno_;
};

// Kinds of failure a caller answers differently (the API maps them to 404, 409, 400, 403).
class NotFound : public Error {
 public:
  using Error::Error;
};
class Conflict : public Error {
 public:
  using Error::Error;
};
class InvalidArgument : public Error {
 public:
  using Error::Error;
};
// The request is understood but not allowed (Docker's 403: removing a network in use).
class Forbidden : public Error {
 public:
  using Error::Error;
};

// Throws Error("<what>: <strerror(errno)>") with the current errno.
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int err);

// Wraps the message of a caught error with outer context: "<context>: <inner>".
[[noreturn]] void rethrow_with_context(const std::exception& inner, const std::string& context);

}  // namespace berth
