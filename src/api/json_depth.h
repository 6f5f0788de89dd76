// How deeply a JSON text nests, found without parsing it: the decoder and everything that
// walks a document afterwards (dump, copies, field checks) recurse once per level, so a
// body nested 100,000 deep must be refused before any of them sees it.
#pragma once

#include <cstddef>
#include <string_view>

namespace berth::api {

// Go's encoding/json refuses documents nested deeper than this, so dockerd does too.
inline constexpr size_t kMaxJsonDepth = 10000;

// The deepest nesting of arrays and objects in `text` (brackets inside strings do not
// count). Malformed text is measured as far as it goes; the decoder reports its error.
size_t json_nesting_depth(std::string_view text);

}  // namespace berth::api
