#include "base/error.h"

#include <cerrno>
#include <cstring>

namespace berth {

void throw_errno(const std::string& what) {
  throw_errno(what, errno);
}

void throw_errno(const std::string& what, int err) {
  throw Error(what + ": " + std::strerror(err), err);
}

void rethrow_with_context(const std::exception& inner, const std::string& context) {
  int code = 0;
  if (auto* e = dynamic_cast<const Error*>(&inner)) code = e->code();
  throw Error(context + ": " + inner.what(), code);
}

}  // namespace berth
