#include "logfile/writer.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "logfile/files.h"

namespace berth::logfile {
namespace {

// Docker's copier reads 16 KiB at a time and logs a line that does not fit as partial
// messages of that size.
constexpr size_t kMaxPartial = 16 * 1024;

int64_t now_nano() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void rename_if_exists(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) < 0 && errno != ENOENT)
    throw_errno("rotate " + from + " to " + to);
}

void unlink_if_exists(const std::string& path) {
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw_errno("remove " + path);
}

// Every rotated file that is still plain gets compressed; a plain one that already has its
// .gz (a kill came between the rename and the removal) is removed; a partial .gz is
// dropped and redone.
void compress_rotated(const std::string& path) {
  for (auto& f : rotated_files(path)) {
    if (!f.plain) continue;
    std::string gz = f.path + ".gz";
    ::unlink(partial_name(gz).c_str());
    if (!f.gz) compress_file(f.path, gz);
    unlink_if_exists(f.path);
  }
}

}  // namespace

Writer::Writer(std::string path, Config config)
    : path_(std::move(path)), config_(std::move(config)), codec_(codec_for(config_.driver)) {
  mkdir_p(path_.substr(0, path_.rfind('/')), 0710);
  fd_ = open_or_throw(path_, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  struct stat st;
  if (::fstat(fd_.get(), &st) < 0) throw_errno("stat " + path_);
  size_ = st.st_size;
}

Writer::~Writer() {
  finish_compressing();
}

void Writer::write(Source source, std::string_view data) {
  std::string& partial = partial_[source == Source::kStdout ? 0 : 1];
  partial.append(data);
  size_t start = 0;
  for (;;) {
    size_t nl = partial.find('\n', start);
    if (nl != std::string::npos && nl - start < kMaxPartial) {
      emit(source, std::string_view(partial).substr(start, nl + 1 - start));
      start = nl + 1;
    } else if (partial.size() - start >= kMaxPartial) {
      emit(source, std::string_view(partial).substr(start, kMaxPartial));
      start += kMaxPartial;
    } else {
      break;
    }
  }
  partial.erase(0, start);
}

void Writer::flush() {
  for (Source s : {Source::kStdout, Source::kStderr}) {
    std::string& partial = partial_[s == Source::kStdout ? 0 : 1];
    if (!partial.empty()) emit(s, partial);
    partial.clear();
  }
}

void Writer::emit(Source source, std::string_view text) {
  if (!tidied_) {
    // What an earlier shim of this container left half done.
    tidied_ = true;
    if (config_.compress) start_compressing();
  }
  record_.clear();
  codec_.encode(source, text, now_nano(), record_);
  try {
    // As dockerd: rotate once the file has reached max-size, before the next entry.
    if (config_.max_size > 0 && size_ >= config_.max_size) rotate();
    write_all(fd_.get(), record_);
    size_ += static_cast<int64_t>(record_.size());
  } catch (const std::exception& e) {
    // A full disk loses log lines, never the container: dockerd drops them the same way.
    log::error(config_.driver + " log: " + e.what());
  }
}

void Writer::rotate() {
  finish_compressing();
  if (config_.max_file <= 1) {
    // Starting over in a new file rather than truncating this one lets a follower finish
    // reading what it holds.
    unlink_if_exists(path_);
  } else {
    // What falls off the end goes, then log.(n-1) -> log.n, ..., log -> log.1, each in
    // whichever form it is.
    std::string top = path_ + "." + std::to_string(config_.max_file - 1);
    unlink_if_exists(top);
    unlink_if_exists(top + ".gz");
    for (int i = config_.max_file - 2; i >= 1; i--) {
      std::string from = path_ + "." + std::to_string(i);
      std::string to = path_ + "." + std::to_string(i + 1);
      rename_if_exists(from, to);
      rename_if_exists(from + ".gz", to + ".gz");
    }
    if (::rename(path_.c_str(), (path_ + ".1").c_str()) < 0) throw_errno("rotate " + path_);
  }
  fd_ = open_or_throw(path_, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  size_ = 0;
  if (config_.compress) start_compressing();
}

void Writer::start_compressing() {
  compressor_ = std::thread([path = path_] {
    try {
      compress_rotated(path);
    } catch (const std::exception& e) {
      // Left plain: readers take plain rotated files as well, and the next rotation retries.
      log::error(std::string("compress rotated log: ") + e.what());
    }
  });
}

void Writer::finish_compressing() {
  if (compressor_.joinable()) compressor_.join();
}

}  // namespace berth::logfile
