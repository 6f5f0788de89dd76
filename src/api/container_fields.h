// Every field of Docker's container Config and HostConfig, and what berthd does with it:
// applied, refused with Docker's error, or accepted with a warning in the create response. A
// field is never silently dropped; a unit test holds this table against the Engine API spec.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::api {

enum class FieldPolicy { kApplied, kRefused, kWarned };

// The JSON type Go's decoder expects; a value of another type is Docker's 400.
// kStrings is Go's []string; kStrSlice is Docker's strslice, which also takes one string.
enum class FieldType {
  kString,
  kInt,
  kBool,
  kStrings,
  kStrSlice,
  kStringMap,
  kObject,
  kArray,
  kAny
};

struct FieldRule {
  std::string_view section;  // "Config", "HostConfig" or "NetworkingConfig"
  std::string_view name;     // Docker's canonical spelling
  FieldType type;
  FieldPolicy policy;
  // Refused: the error; warned: the warning. Said only when the field is set (not zero).
  std::string_view message;
};

const std::vector<FieldRule>& container_field_rules();

// Whether a field holds more than Go's zero value (null, false, 0, "", [], {}): a field left
// at its zero value was not asked for.
bool is_set(const nlohmann::json& value);

// A JSON number as Go decodes it into an int64: nullopt for a fraction and for a number out of
// int64's range (Go's 400), which must not be converted (that is undefined behaviour).
std::optional<int64_t> as_int64(const nlohmann::json& value);

// Checks one section of a create (or update) body against the table: renames keys matched
// case-insensitively to Docker's spelling (as Go's decoder matches them), refuses wrong types
// and refused fields in Docker's words, and appends the warnings of warned fields to
// `warnings`. Unknown keys that are set are warned about, never dropped without a word.
void check_fields(std::string_view section, nlohmann::json& body,
                  std::vector<std::string>& warnings);

}  // namespace berth::api
