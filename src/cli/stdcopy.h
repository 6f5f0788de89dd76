// Docker's multiplexed stream format (logs, attach and exec without a tty): every frame is an
// 8-byte header {stream, 0, 0, 0, big-endian uint32 length} followed by that many bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace berth::cli {

class StdDemuxer {
 public:
  // stream: 0 stdin (echoed), 1 stdout, 2 stderr, 3 a system error from the daemon.
  using Sink = std::function<void(int stream, std::string_view data)>;
  explicit StdDemuxer(Sink sink) : sink_(std::move(sink)) {}
  // Accepts bytes as they arrive, whatever the chunk boundaries; payloads are handed on as
  // soon as they arrive rather than once a frame is whole, so output is never held back.
  void feed(std::string_view data);
  // True when the stream stopped in the middle of a frame.
  bool partial() const { return header_.size() != 0 || remaining_ != 0; }

 private:
  Sink sink_;
  std::string header_;
  int stream_ = 0;
  uint32_t remaining_ = 0;
};

// Writes demultiplexed frames to stdout/stderr; a stream-3 frame is the daemon's error text,
// which is returned by error() after the stream ends.
class StdWriter {
 public:
  StdWriter();
  StdWriter(const StdWriter&) = delete;  // the demuxer's sink points back at this
  StdWriter& operator=(const StdWriter&) = delete;
  void feed(std::string_view data) { demux_.feed(data); }
  const std::string& error() const { return error_; }

 private:
  StdDemuxer demux_;
  std::string error_;
};

}  // namespace berth::cli
