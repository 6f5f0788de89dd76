// The distribution spec's errors: a code clients switch on, its HTTP status, and the body
// {"errors":[{"code","message","detail"}]} every registry answers with.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"

namespace berth::registry {

enum class ErrorCode {
  kBlobUnknown,
  kBlobUploadInvalid,
  kBlobUploadUnknown,
  kDigestInvalid,
  kManifestBlobUnknown,
  kManifestInvalid,
  kManifestUnknown,
  kNameInvalid,
  kNameUnknown,
  kSizeInvalid,
  kUnauthorized,
  kDenied,
  kUnsupported,
  kRangeInvalid,
  kPaginationNumberInvalid,
  kTagInvalid,
  kTooLarge,
};

// The spec's name of the code ("BLOB_UNKNOWN") and the status a registry answers it with.
const char* code_name(ErrorCode code);
int code_status(ErrorCode code);

// What a route throws to answer with one of the spec's errors. Its kind follows the code
// (unknown: not found, invalid: invalid argument, ...), so it wraps like any other Error.
class RegistryError : public Error {
 public:
  RegistryError(ErrorCode code, const std::string& message,
                nlohmann::json detail = nlohmann::json());
  ErrorCode code() const { return code_; }
  const nlohmann::json& detail() const { return detail_; }

 private:
  ErrorCode code_;
  nlohmann::json detail_;
};

std::string error_body(ErrorCode code, const std::string& message,
                       const nlohmann::json& detail = nlohmann::json());

}  // namespace berth::registry
