// A fresh directory under /tmp for one test, removed with everything in it when the test is
// done, even when it failed halfway.
#pragma once

#include <string>
#include <string_view>

namespace berth::test {

class TempDir {
 public:
  // Creates /tmp/berth-<name>-XXXXXX; throws std::runtime_error when it cannot.
  explicit TempDir(std::string_view name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + rel
  std::string operator/(std::string_view rel) const;

 private:
  std::string path_;
};

}  // namespace berth::test
