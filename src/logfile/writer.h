// The writing side of a container log (the shim's): entries in the driver's format, rotation
// by size, and compression of rotated files off the write path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "base/fd.h"
#include "logfile/codec.h"
#include "logfile/config.h"

namespace berth::logfile {

class Writer {
 public:
  Writer(std::string path, Config config);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Logs complete lines at once; a partial line waits for its end, or until it is 16 KiB.
  void write(Source source, std::string_view data);
  // Logs what is left of partial lines (at exit).
  void flush();

 private:
  void emit(Source source, std::string_view text);
  void rotate();
  void start_compressing();
  void finish_compressing();

  std::string path_;
  Config config_;
  const Codec& codec_;
  UniqueFd fd_;
  int64_t size_ = 0;
  std::string partial_[2];  // stdout, stderr
  std::string record_;
  // Compresses rotated files while the loop goes on logging; joined before the next rotation
  // renames them. Not started before the first entry: the shim creates the container after
  // making its writer, and a thread must not hold a lock across that clone.
  std::thread compressor_;
  bool tidied_ = false;
};

}  // namespace berth::logfile
