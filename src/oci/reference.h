// Image references ("busybox", "localhost:5000/app:1.0", "repo@sha256:...") parsed and
// normalised the way Docker does (github.com/distribution/reference, ParseNormalizedNamed),
// so that names, canonical strings and error messages match what Docker clients expect.
#pragma once

#include <string>

namespace berth::oci {

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000", "[::1]:5000"
  std::string path;    // "library/busybox", "user/app"
  std::string tag;     // "" when none
  std::string digest;  // "sha256:<64 hex>" or ""

  // "docker.io/library/busybox". Just the path when there is no domain, which Docker allows
  // when the first component looked like a domain but was not one (e.g. "foo_bar.com/x").
  std::string name() const;
  // Without "docker.io/" and, for official images, "library/": "busybox", "user/app".
  std::string familiar_name() const;
  // name() with ":tag" and "@digest" when present.
  std::string string() const;
  std::string familiar_string() const;
};

// Parses and normalises: "busybox" -> docker.io/library/busybox, "index.docker.io" ->
// "docker.io". Adds no tag. Throws Error with Docker's wording ("invalid reference format",
// "invalid reference format: repository name (library/UPPER) must be lowercase", ...).
Reference parse_reference(const std::string& s);

// parse_reference, then tag "latest" when there is neither tag nor digest (TagNameOnly).
Reference parse_reference_with_default_tag(const std::string& s);

// True for a 64-hex image ID, bare or as "sha256:<64 hex>": these name images by ID, and
// Docker refuses a bare 64-hex string as a repository name.
bool looks_like_full_id(const std::string& s);

// Throws Error("invalid tag format") unless tag matches [\w][\w.-]{0,127}.
void check_tag(const std::string& tag);

}  // namespace berth::oci
