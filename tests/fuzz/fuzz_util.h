// What every target shares: the bytes as a string, and the one rule about exceptions. A
// decoder may refuse its input with berth::Error (Docker's 4xx) or, for JSON the library could
// not read or convert, nlohmann::json::exception (the router's 400 "invalid JSON"); anything
// else escaping a decoder would be a 500 or worse for a client's mistake, so it aborts the run
// and the fuzzer keeps the input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <typeinfo>

#include "base/error.h"

namespace berth::fuzz {

inline std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

template <class Fn>
void expect_refusal_or_success(Fn&& fn) {
  try {
    fn();
  } catch (const berth::Error&) {
  } catch (const nlohmann::json::exception&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected %s: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
}

// Stops the run when an invariant of the code under test does not hold.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace berth::fuzz
