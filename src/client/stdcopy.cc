#include <unistd.h>

#include "base/fs.h"
#include "client/client.h"

namespace berth::client {

void StdDemuxer::feed(std::string_view data) {
  while (!data.empty()) {
    if (remaining_ == 0) {
      size_t take = std::min(data.size(), 8 - header_.size());
      header_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (header_.size() < 8) return;
      auto b = [&](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(header_[i])); };
      stream_ = static_cast<int>(b(0));
      remaining_ = b(4) << 24 | b(5) << 16 | b(6) << 8 | b(7);
      header_.clear();
      continue;
    }
    size_t take = std::min<size_t>(data.size(), remaining_);
    sink_(stream_, data.substr(0, take));
    remaining_ -= static_cast<uint32_t>(take);
    data.remove_prefix(take);
  }
}

StdWriter::StdWriter()
    : demux_([this](int stream, std::string_view d) {
        if (stream == 3) {
          error_.append(d);
        } else {
          write_all(stream == 2 ? STDERR_FILENO : STDOUT_FILENO, d);
        }
      }) {}

}  // namespace berth::client
