#include "registry/server_error.h"

namespace berth::registry {

namespace {

struct CodeInfo {
  const char* name;
  int status;
  ErrorKind kind;
};

CodeInfo info(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBlobUnknown:
      return {"BLOB_UNKNOWN", 404, ErrorKind::kNotFound};
    case ErrorCode::kBlobUploadInvalid:
      return {"BLOB_UPLOAD_INVALID", 400, ErrorKind::kInvalidArgument};
    case ErrorCode::kBlobUploadUnknown:
      return {"BLOB_UPLOAD_UNKNOWN", 404, ErrorKind::kNotFound};
    case ErrorCode::kDigestInvalid:
      return {"DIGEST_INVALID", 400, ErrorKind::kInvalidArgument};
    case ErrorCode::kManifestBlobUnknown:
      return {"MANIFEST_BLOB_UNKNOWN", 400, ErrorKind::kInvalidArgument};
    case ErrorCode::kManifestInvalid:
      return {"MANIFEST_INVALID", 400, ErrorKind::kInvalidArgument};
    case ErrorCode::kManifestUnknown:
      return {"MANIFEST_UNKNOWN", 404, ErrorKind::kNotFound};
    case ErrorCode::kNameInvalid:
      return {"NAME_INVALID", 400, ErrorKind::kInvalidArgument};
    case ErrorCode::kNameUnknown:
      return {"NAME_UNKNOWN", 404, ErrorKind::kNotFound};
    case ErrorCode::kSizeInvalid:
      return {"SIZE_INVALID", 400, ErrorKind::kInvalidArgument};
    case ErrorCode::kUnauthorized:
      return {"UNAUTHORIZED", 401, ErrorKind::kForbidden};
    case ErrorCode::kDenied:
      return {"DENIED", 403, ErrorKind::kForbidden};
    case ErrorCode::kUnsupported:
      return {"UNSUPPORTED", 405, ErrorKind::kInvalidArgument};
    case ErrorCode::kRangeInvalid:
      return {"BLOB_UPLOAD_INVALID", 416, ErrorKind::kInvalidArgument};
    case ErrorCode::kPaginationNumberInvalid:
      return {"PAGINATION_NUMBER_INVALID", 400, ErrorKind::kInvalidArgument};
    case ErrorCode::kTagInvalid:
      return {"TAG_INVALID", 400, ErrorKind::kInvalidArgument};
    case ErrorCode::kTooLarge:
      return {"SIZE_INVALID", 413, ErrorKind::kInvalidArgument};
  }
  return {"UNKNOWN", 500, ErrorKind::kInternal};
}

}  // namespace

const char* code_name(ErrorCode code) {
  return info(code).name;
}

int code_status(ErrorCode code) {
  return info(code).status;
}

RegistryError::RegistryError(ErrorCode code, const std::string& message, nlohmann::json detail)
    : Error(info(code).kind, message, 0), code_(code), detail_(std::move(detail)) {}

std::string error_body(ErrorCode code, const std::string& message, const nlohmann::json& detail) {
  nlohmann::json e = {{"code", code_name(code)}, {"message", message}};
  if (!detail.is_null()) e["detail"] = detail;
  return nlohmann::json{{"errors", nlohmann::json::array({e})}}.dump();
}

}  // namespace berth::registry
