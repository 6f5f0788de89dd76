// An error's kind survives every wrap with context: a NotFound deep down is a 404 at the door.
#include "base/error.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Error, KindSurvivesWrappingWithContext) {
  try {
    try {
      try {
        throw NotFound("No such image: x");
      } catch (const std::exception& e) {
        rethrow_with_context(e, "load layer");
      }
    } catch (const std::exception& e) {
      rethrow_with_context(e, "start");
    }
    FAIL() << "nothing thrown";
  } catch (const NotFound& e) {
    EXPECT_STREQ(e.what(), "start: load layer: No such image: x");
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
}

TEST(Error, ErrnoSurvivesAndOtherExceptionsAreInternal) {
  try {
    try {
      throw_errno("open /x", ENOENT);
    } catch (const std::exception& e) {
      rethrow_with_context(e, "read config");
    }
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_EQ(e.kind(), ErrorKind::kInternal);
  }
  EXPECT_EQ(kind_of(std::runtime_error("x")), ErrorKind::kInternal);
  EXPECT_EQ(kind_of(Conflict("x")), ErrorKind::kConflict);
  EXPECT_THROW(throw_error(ErrorKind::kForbidden, "no"), Forbidden);
  EXPECT_THROW(throw_error(ErrorKind::kUnavailable, "later"), Unavailable);
}

}  // namespace
}  // namespace berth
