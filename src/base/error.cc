#include "base/error.h"

#include <cerrno>
#include <cstring>

namespace berth {

ErrorKind kind_of(const std::exception& e) {
  if (auto* err = dynamic_cast<const Error*>(&e)) return err->kind();
  return ErrorKind::kInternal;
}

void throw_error(ErrorKind kind, const std::string& what, int err) {
  switch (kind) {
    case ErrorKind::kNotFound:
      throw NotFound(what, err);
    case ErrorKind::kConflict:
      throw Conflict(what, err);
    case ErrorKind::kInvalidArgument:
      throw InvalidArgument(what, err);
    case ErrorKind::kForbidden:
      throw Forbidden(what, err);
    case ErrorKind::kUnavailable:
      throw Unavailable(what, err);
    case ErrorKind::kInternal:
      break;
  }
  throw Error(what, err);
}

void throw_errno(const std::string& what) {
  throw_errno(what, errno);
}

void throw_errno(const std::string& what, int err) {
  throw Error(what + ": " + std::strerror(err), err);
}

void rethrow_with_context(const std::exception& inner, const std::string& context) {
  int code = 0;
  if (auto* e = dynamic_cast<const Error*>(&inner)) code = e->code();
  throw_error(kind_of(inner), context + ": " + inner.what(), code);
}

}  // namespace berth
