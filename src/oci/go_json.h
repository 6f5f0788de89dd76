// Private to oci/: JSON syntax as Go's encoding/json decoder reads it (runc's config.json).
#pragma once

#include <cstddef>
#include <string_view>

namespace berth::oci {

// The length of the first JSON value of `text` (Go's decoder ignores what follows it);
// throws Error in Go's words for bad syntax: "EOF", "unexpected EOF",
// "invalid character 'x' looking for beginning of value", ...
size_t go_json_first_value(std::string_view text);

}  // namespace berth::oci
