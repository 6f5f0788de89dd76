#include "engine/log_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/fd.h"
#include "base/fs.h"
#include "base/time.h"

namespace berth::engine {
namespace {

bool parse_line(const std::string& raw, LogLine& out) {
  try {
    auto j = nlohmann::json::parse(raw);
    out.stream = j.value("stream", "stdout");
    out.text = j.value("log", "");
    out.time = j.value("time", "");
    out.time_nano = parse_rfc3339(out.time).value_or(0);
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;  // a line cut by a crash: skipped
  }
}

bool wanted(const LogQuery& q, const LogLine& l) {
  if (l.stream == "stdout" && !q.stdout) return false;
  if (l.stream == "stderr" && !q.stderr) return false;
  if (q.since_nano && l.time_nano < q.since_nano) return false;
  return true;
}

}  // namespace

void read_json_log(const std::string& path, const LogQuery& q,
                   const std::function<bool(const LogLine&)>& emit,
                   const std::function<bool()>& keep_following) {
  // Rotated files first (oldest is the highest number), then the live one.
  std::vector<std::string> files;
  for (int i = 9; i >= 1; i--)
    if (path_exists(path + "." + std::to_string(i)))
      files.push_back(path + "." + std::to_string(i));
  files.push_back(path);

  std::deque<LogLine> tail;
  bool done = false;
  auto offer = [&](const LogLine& l) {
    if (!wanted(q, l)) return;
    if (q.until_nano && l.time_nano > q.until_nano) {
      done = true;
      return;
    }
    if (q.tail >= 0) {
      tail.push_back(l);
      if (static_cast<long>(tail.size()) > q.tail) tail.pop_front();
    } else if (!emit(l)) {
      done = true;
    }
  };
  std::streamoff live_offset = 0;
  for (auto& f : files) {
    std::ifstream in(f);
    std::string raw;
    LogLine l;
    while (!done && std::getline(in, raw)) {
      if (in.eof()) break;  // a partial last line: the shim is still writing it
      if (parse_line(raw, l)) offer(l);
      if (&f == &files.back()) live_offset = in.tellg();
    }
    if (done) break;
  }
  for (auto& l : tail)
    if (!emit(l)) return;
  if (!q.follow || done) return;

  UniqueFd ino(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (ino) ::inotify_add_watch(ino.get(), path.c_str(), IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string pending;
  off_t offset = static_cast<off_t>(live_offset);
  // Reads what was appended since the last call and emits its whole lines; false when the
  // caller wants no more (emit refused, or --until passed).
  auto drain = [&]() {
    char buf[65536];
    ssize_t n;
    while ((n = ::pread(fd.get(), buf, sizeof buf, offset)) > 0) {
      offset += n;
      pending.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        LogLine l;
        bool ok = parse_line(pending.substr(0, nl), l);
        pending.erase(0, nl + 1);
        if (!ok || !wanted(q, l)) continue;
        if (q.until_nano && l.time_nano > q.until_nano) return false;
        if (!emit(l)) return false;
      }
    }
    return true;
  };
  for (;;) {
    if (fd) {
      if (!drain()) return;
      // Rotated away: continue with the new file from its start.
      struct stat a, b;
      if (::fstat(fd.get(), &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_ino != b.st_ino) {
        fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        offset = 0;
        if (ino) ::inotify_add_watch(ino.get(), path.c_str(), IN_MODIFY | IN_MOVE_SELF);
        continue;
      }
    } else {
      fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    }
    if (!keep_following()) {
      // One last read: what was written just before the container stopped.
      if (fd) drain();
      return;
    }
    pollfd p{ino.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) > 0) {
      char ev[4096];
      while (::read(ino.get(), ev, sizeof ev) > 0) {
      }
    }
  }
}

}  // namespace berth::engine
