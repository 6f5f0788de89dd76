// Image references as docker's CLI handles them: normalized names for the API, familiar names
// ("busybox" rather than "docker.io/library/busybox") for people, short IDs for tables.
#pragma once

#include <string>

namespace berth::cli {

struct Reference {
  std::string name;  // normalized: docker.io/library/busybox
  std::string tag;   // empty when not given
  std::string digest;
};

// Throws berth::Error("invalid reference format...") like docker's reference parser.
Reference parse_reference(const std::string& s);
std::string familiar_name(const std::string& normalized);
// "sha256:0123...cdef" -> "0123456789ab": drops the algorithm and keeps 12 characters.
std::string truncate_id(const std::string& id);
// A reference such as "busybox:latest" or "busybox@sha256:..." split into its familiar name
// and the part after ':' or '@'; nothing is split when the string does not parse.
void split_repo_tag(const std::string& ref, std::string& repo, std::string& tag, char sep);

}  // namespace berth::cli
