// `berth volume ls` and `volume inspect`: the rows of docker's volume formatter and the shape
// docker gives an inspected volume.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace berth::cli {

struct VolumeListOptions {
  std::string format;  // --format, or the config file's volumesFormat
  bool quiet = false;
};

// The output for a GET /volumes answer ({"Volumes": [...], "Warnings": [...]}), sorted by
// name as docker sorts them.
std::string render_volumes(const nlohmann::json& answer, const VolumeListOptions& o);

// A volume as docker's inspect prints it: the daemon's answer decoded into the API's Volume
// type and encoded again, so only that type's fields, empty optional ones left out.
nlohmann::json volume_inspect_view(const nlohmann::json& volume);

}  // namespace berth::cli
