#include "support/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace berth::test {

TempDir::TempDir(std::string_view name) {
  std::string tmpl = "/tmp/berth-" + std::string(name) + "-XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  path_ = std::move(tmpl);
}

TempDir::~TempDir() {
  // A destructor must not throw; what cannot be removed stays for the person to see.
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::operator/(std::string_view rel) const {
  return path_ + "/" + std::string(rel);
}

}  // namespace berth::test
