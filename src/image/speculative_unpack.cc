#include "image/speculative_unpack.h"

#include <exception>

#include "base/fs.h"
#include "image/layer.h"

namespace berth::image {
namespace {

// Enough to keep the unpacker busy without holding much of a large layer in memory.
constexpr size_t kMaxQueued = 16u << 20;

struct Aborted : std::exception {
  const char* what() const noexcept override { return "unpack aborted"; }
};

}  // namespace

bool looks_like_tar(std::string_view head) {
  return head.size() >= 512 && head.substr(257, 5) == "ustar";
}

SpeculativeUnpack::SpeculativeUnpack(std::string dir) : dir_(std::move(dir)) {
  thread_ = std::thread([this] {
    std::optional<int64_t> result;
    try {
      auto stats = apply_layer_blocks([this] { return next(); }, path_join(dir_, "diff"));
      result = static_cast<int64_t>(stats.bytes);
    } catch (...) {
      // apply_layer_blocks has removed what it wrote; the ordinary unpack will report why.
    }
    std::lock_guard lk(mu_);
    result_ = result;
    stopped_ = true;
    queue_.clear();
    queued_ = 0;
    cv_.notify_all();
  });
}

SpeculativeUnpack::~SpeculativeUnpack() {
  if (thread_.joinable()) {
    stop(true);
    remove_all(dir_);
  }
}

void SpeculativeUnpack::feed(std::string_view data) {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return stopped_ || queued_ < kMaxQueued; });
  if (stopped_) return;
  queue_.emplace_back(data);
  queued_ += data.size();
  cv_.notify_all();
}

std::string_view SpeculativeUnpack::next() {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return aborted_ || eof_ || !queue_.empty(); });
  if (aborted_) throw Aborted{};
  current_.clear();
  if (queue_.empty()) return {};
  current_ = std::move(queue_.front());
  queue_.pop_front();
  queued_ -= current_.size();
  cv_.notify_all();
  return current_;
}

void SpeculativeUnpack::stop(bool abort) {
  {
    std::lock_guard lk(mu_);
    (abort ? aborted_ : eof_) = true;
    cv_.notify_all();
  }
  thread_.join();
}

std::optional<int64_t> SpeculativeUnpack::finish() {
  stop(false);
  if (!result_) remove_all(dir_);
  return result_;
}

}  // namespace berth::image
