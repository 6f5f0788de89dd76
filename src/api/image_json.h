// Images in the Engine API's JSON shapes: the list summary, inspect and history.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/engine.h"

namespace berth::api {

// Seconds since the epoch when the image was created (its config's "created").
int64_t image_created(const image::Image& img);
// The same in nanoseconds, for ordering images made within one second.
int64_t image_created_nano(const image::Image& img);
std::map<std::string, std::string> image_labels(const image::Image& img);
nlohmann::json image_summary(const image::Image& img, const std::string& api_version);
nlohmann::json image_inspect(const image::Image& img, const image::ImageStore& store,
                             const std::string& api_version);
nlohmann::json image_history(const image::Image& img, const image::ImageStore& store);

}  // namespace berth::api
