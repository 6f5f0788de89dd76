// Unpacks a layer on a second thread while its bytes are still arriving, so that a load
// costs one pass instead of a receive followed by an unpack. The result is only a guess
// until the blob's digest has been checked against an image config.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace berth::image {

class SpeculativeUnpack {
 public:
  // Unpacks into `dir`/diff; `dir` exists and belongs to this object until finish().
  explicit SpeculativeUnpack(std::string dir);
  ~SpeculativeUnpack();
  SpeculativeUnpack(const SpeculativeUnpack&) = delete;
  SpeculativeUnpack& operator=(const SpeculativeUnpack&) = delete;

  // Hands over the next bytes (copied). Once the unpacker has stopped, they are dropped.
  void feed(std::string_view data);
  // Waits for the unpacker; returns the bytes of file content it wrote, or nullopt when the
  // stream was not a layer it could unpack (its directory is then removed).
  std::optional<int64_t> finish();
  const std::string& dir() const { return dir_; }

 private:
  // The next block for the unpacker; empty at the end.
  std::string_view next();
  void stop(bool abort);

  std::string dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  size_t queued_ = 0;
  bool eof_ = false, aborted_ = false, stopped_ = false;
  std::string current_;  // the block the unpacker is reading
  std::optional<int64_t> result_;
  std::thread thread_;
};

// True when the bytes start a tar archive (the ustar magic of the first header).
bool looks_like_tar(std::string_view head);

}  // namespace berth::image
