// The logging drivers' options, checked as dockerd checks them and refused in its words.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace berth::logfile {

struct Config {
  std::string driver = "json-file";  // json-file, local or none
  int64_t max_size = -1;             // bytes; -1: never rotate
  int max_file = 1;                  // the live file and max_file - 1 rotated ones
  bool compress = false;             // rotated files as .gz
};

// From a container's LogConfig (Type and Config); throws InvalidArgument for an unknown driver
// or a bad option, so that a create fails with 400 rather than the start.
Config parse_config(const std::string& driver, const std::map<std::string, std::string>& opts);
// Docker's RAMInBytes: "10m", "1.5g", "512k", "100", with an optional "b" or "ib".
int64_t parse_size(const std::string& s);
// Where the driver keeps the log in the container's directory, as dockerd does; "" for none.
std::string log_path(const std::string& driver, const std::string& container_dir,
                     const std::string& id);

}  // namespace berth::logfile
