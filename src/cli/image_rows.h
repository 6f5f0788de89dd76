// The rows of docker's image formatter, shared by `images` and `system df -v`.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

namespace berth::cli {

// Appends one row per repository:tag (or digest) of an /images/json entry.
void add_image_rows(const nlohmann::json& image, bool trunc, bool show_digests,
                    std::vector<nlohmann::json>& rows);
nlohmann::json image_headers();

}  // namespace berth::cli
