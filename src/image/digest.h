// Content digests ("sha256:<64 hex>"), computed with OpenSSL.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace berth::image {

// Throws Error naming the string when it is not "sha256:" followed by 64 lowercase hex.
void check_digest(const std::string& digest);
bool is_digest(const std::string& digest);

// Incremental sha256; digest() may be called once, at the end.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string digest();  // "sha256:<hex>"

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_digest(std::string_view data);

}  // namespace berth::image
