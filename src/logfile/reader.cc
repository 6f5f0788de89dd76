#include "logfile/reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "base/fd.h"
#include "base/fs.h"
#include "logfile/files.h"

namespace berth::logfile {
namespace {

using Sink = std::function<bool(const Entry&)>;  // false: no more

// Entries out of bytes that come in pieces.
class Decoder {
 public:
  explicit Decoder(const Codec& codec) : codec_(codec) {}

  // Passes on each whole entry received so far; false once `sink` wants no more.
  bool feed(std::string_view data, const Sink& sink) {
    pending_.append(data);
    size_t pos = 0;
    bool more = true;
    while (more) {
      Entry e;
      bool ok = false;
      size_t used = codec_.decode(std::string_view(pending_).substr(pos), e, ok);
      if (used == 0) break;
      pos += used;
      if (ok) more = sink(e);
    }
    pending_.erase(0, pos);
    return more;
  }
  // An entry cut at the end of a file that ended is dropped.
  void reset() { pending_.clear(); }

 private:
  const Codec& codec_;
  std::string pending_;
};

bool same_file(int fd, const struct stat& b) {
  struct stat a;
  return ::fstat(fd, &a) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

bool same_file(int fd, const std::string& path) {
  struct stat b;
  return ::stat(path.c_str(), &b) == 0 && same_file(fd, b);
}

std::string name_of(const RotatedFile& f) {
  return f.plain ? f.path : f.path + ".gz";
}

struct Snapshot {
  std::vector<UniqueFd> rotated;  // oldest first
  UniqueFd live;
};

// All the files, opened. The shim may rotate while they are opened: the set is taken again
// until a listing made after the opening names the same files.
Snapshot open_files(const std::string& path) {
  Snapshot s;
  for (int attempt = 0; attempt < 20; attempt++) {
    s = Snapshot{};
    std::vector<std::string> names;
    bool vanished = false;
    for (auto& f : rotated_files(path)) {
      UniqueFd fd(::open(name_of(f).c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) {
        vanished = true;
        break;
      }
      names.push_back(name_of(f));
      s.rotated.push_back(std::move(fd));
    }
    s.live.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (vanished) continue;
    auto again = rotated_files(path);
    bool same = again.size() == names.size();
    for (size_t i = 0; same && i < again.size(); i++)
      same = name_of(again[i]) == names[i] && same_file(s.rotated[i].get(), names[i]);
    if (same && (s.live ? same_file(s.live.get(), path) : !path_exists(path))) break;
  }
  return s;
}

// A rotated file, plain or gzip (zlib reads a plain one as it is).
bool read_rotated(int fd, const Codec& codec, const Sink& sink) {
  // From the start, whatever an earlier read of the same file left the shared offset at.
  int copy = ::dup(fd);
  if (copy < 0) return true;
  if (::lseek(copy, 0, SEEK_SET) < 0) {
    ::close(copy);
    return true;
  }
  gzFile gz = ::gzdopen(copy, "rb");
  if (!gz) {
    ::close(copy);
    return true;
  }
  ::gzbuffer(gz, 65536);
  Decoder d(codec);
  char buf[65536];
  int n;
  bool more = true;
  while (more && (n = ::gzread(gz, buf, sizeof buf)) > 0)
    more = d.feed(std::string_view(buf, static_cast<size_t>(n)), sink);
  ::gzclose(gz);
  return more;
}

// The live file, read from where the last read ended.
struct Live {
  UniqueFd fd;
  off_t offset = 0;
  Decoder decoder;

  bool drain(const Sink& sink) {
    char buf[65536];
    ssize_t n;
    while ((n = ::pread(fd.get(), buf, sizeof buf, offset)) > 0) {
      offset += n;
      if (!decoder.feed(std::string_view(buf, static_cast<size_t>(n)), sink)) return false;
    }
    return true;
  }
};

}  // namespace

void read_log(const std::string& path, const Codec& codec, const Query& q,
              const std::function<bool(const Entry&)>& emit,
              const std::function<bool()>& keep_following) {
  auto wanted = [&](const Entry& e) {
    if (e.source == Source::kStdout && !q.stdout) return false;
    if (e.source == Source::kStderr && !q.stderr) return false;
    return !q.since_nano || e.time_nano >= q.since_nano;
  };
  // The time of the newest entry read so far, wanted or not: where a follower that fell
  // behind by more than one rotation picks up again.
  int64_t seen = 0;
  Sink pass = [&](const Entry& e) {
    seen = std::max(seen, e.time_nano);
    if (!wanted(e)) return true;
    if (q.until_nano && e.time_nano > q.until_nano) return false;
    return emit(e);
  };

  Snapshot files = open_files(path);
  Live live{std::move(files.live), 0, Decoder(codec)};
  if (q.tail < 0) {
    for (auto& fd : files.rotated)
      if (!read_rotated(fd.get(), codec, pass)) return;
    if (live.fd && !live.drain(pass)) return;
  } else {
    // Newest file first, each giving only as many of its last entries as are still missing:
    // a short tail does not decompress old files.
    std::deque<Entry> kept;
    bool past_until = false;
    auto take = [&](const std::function<void(const Sink&)>& read) {
      size_t need = static_cast<size_t>(q.tail) - kept.size();
      std::deque<Entry> part;
      read([&](const Entry& e) {
        seen = std::max(seen, e.time_nano);
        if (!wanted(e)) return true;
        if (q.until_nano && e.time_nano > q.until_nano) {
          past_until = true;
        } else {
          part.push_back(e);
          if (part.size() > need) part.pop_front();
        }
        return true;
      });
      kept.insert(kept.begin(), part.begin(), part.end());
    };
    // The live file is read whole even for --tail 0: --follow goes on from its end.
    if (live.fd) take([&](const Sink& s) { live.drain(s); });
    for (auto it = files.rotated.rbegin();
         it != files.rotated.rend() && kept.size() < static_cast<size_t>(q.tail); ++it)
      take([&](const Sink& s) { read_rotated(it->get(), codec, s); });
    for (auto& e : kept)
      if (!emit(e)) return;
    if (past_until) return;
  }
  if (!q.follow) return;

  UniqueFd ino(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  // The directory tells of a new live file (a rotation), the file of what is appended.
  if (ino) ::inotify_add_watch(ino.get(), path.substr(0, path.rfind('/')).c_str(), IN_CREATE);
  int file_watch = -1;
  auto watch_live = [&] {
    if (!ino) return;
    if (file_watch >= 0) ::inotify_rm_watch(ino.get(), file_watch);
    file_watch = ::inotify_add_watch(ino.get(), path.c_str(), IN_MODIFY);
  };
  watch_live();
  bool last = false;
  for (;;) {
    if (live.fd && !live.drain(pass)) return;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && (!live.fd || !same_file(live.fd.get(), st))) {
      // Rotated: the shim writes no more to the old file once it is renamed, so reading it
      // to its end now loses nothing; then the new file from its start.
      if (live.fd && !live.drain(pass)) return;
      // Rotated more than once since the last look (a slow client held the reader back):
      // the rotated files that begin after the newest entry seen came meanwhile.
      Snapshot now = open_files(path);
      size_t missed = now.rotated.size();
      for (; missed > 0; missed--) {
        int64_t first = -1;
        read_rotated(now.rotated[missed - 1].get(), codec, [&](const Entry& e) {
          first = e.time_nano;
          return false;
        });
        if (first >= 0 && first <= seen) break;
      }
      int64_t after = seen;
      Sink newer = [&](const Entry& e) { return e.time_nano <= after || pass(e); };
      for (size_t i = missed; i < now.rotated.size(); i++)
        if (!read_rotated(now.rotated[i].get(), codec, newer)) return;
      live.fd = std::move(now.live);
      live.offset = 0;
      live.decoder.reset();
      watch_live();
      if (live.fd) continue;
    }
    // One more round after the container stopped: what it wrote last, in whichever file.
    if (last) return;
    if (!keep_following()) {
      last = true;
      continue;
    }
    pollfd p{ino.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) > 0) {
      char ev[4096];
      while (::read(ino.get(), ev, sizeof ev) > 0) {
      }
    }
  }
}

}  // namespace berth::logfile
