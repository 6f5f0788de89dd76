// RUN --mount's option list, in BuildKit's words: type=bind (the default), cache and tmpfs
// are applied; secret and ssh need a channel from the client that the classic build API does
// not have, so they are refused rather than run without what they name.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/path.h"
#include "build/copy.h"
#include "build/instructions.h"
#include "image/digest.h"

namespace berth::build {
namespace {

[[noreturn]] void fail(const Instruction& ins, const std::string& what) {
  throw InvalidArgument("Dockerfile parse error on line " + std::to_string(ins.line) + ": " + what);
}

bool truth(const Instruction& ins, const std::string& key, const std::string& v) {
  if (v.empty() || v == "true") return true;
  if (v == "false") return false;
  fail(ins, "invalid value for " + key + ": " + v);
}

uint32_t number(const Instruction& ins, const std::string& key, const std::string& v, int base) {
  if (v.empty()) fail(ins, "invalid value for " + key + ": " + v);
  try {
    size_t used = 0;
    unsigned long n = std::stoul(v, &used, base);
    if (used != v.size() || n > 0xffffffffUL) throw std::out_of_range(v);
    return static_cast<uint32_t>(n);
  } catch (const std::logic_error&) {
    fail(ins, "invalid value for " + key + ": " + v);
  }
}

// 64m, 1g, 4096: bytes.
int64_t bytes(const Instruction& ins, const std::string& v) {
  std::string digits = v;
  int64_t mul = 1;
  if (!digits.empty() && std::isalpha(static_cast<unsigned char>(digits.back()))) {
    char u = static_cast<char>(std::tolower(static_cast<unsigned char>(digits.back())));
    mul = u == 'k' ? 1LL << 10 : u == 'm' ? 1LL << 20 : u == 'g' ? 1LL << 30 : 0;
    if (mul == 0) fail(ins, "invalid size for tmpfs: " + v);
    digits.pop_back();
  }
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
    fail(ins, "invalid size for tmpfs: " + v);
  return static_cast<int64_t>(std::stoll(digits)) * mul;
}

}  // namespace

MountPlan parse_mount(const Instruction& ins, const std::string& value,
                      const std::string& workdir) {
  MountPlan m;
  m.text = value;
  std::string type = "bind";
  std::vector<std::pair<std::string, std::string>> opts;
  for (auto& field : split(value, ',')) {
    std::string f = trim(field);
    if (f.empty()) continue;
    auto eq = f.find('=');
    std::string key = f.substr(0, eq), v = eq == std::string::npos ? "" : f.substr(eq + 1);
    for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (key == "type")
      type = v;
    else
      opts.emplace_back(key, v);
  }
  if (type == "secret" || type == "ssh")
    fail(ins, "RUN --mount=type=" + type + " needs the " + type +
                  " sent by the client (BuildKit's --" + type +
                  "), which the classic build API that berthd serves cannot carry: "
                  "not supported by berth's builder");
  if (type == "bind")
    m.type = MountPlan::Type::kBind;
  else if (type == "cache")
    m.type = MountPlan::Type::kCache;
  else if (type == "tmpfs")
    m.type = MountPlan::Type::kTmpfs;
  else
    fail(ins, "unsupported mount type \"" + type + "\"");
  bool readonly_given = false;
  for (auto& [key, v] : opts) {
    bool bind = m.type == MountPlan::Type::kBind, cache = m.type == MountPlan::Type::kCache;
    if (key == "target" || key == "dst" || key == "destination") {
      m.target = v;
    } else if ((key == "source" || key == "src") && bind) {
      m.source = v;
    } else if (key == "from" && bind) {
      m.from = v;
    } else if ((key == "rw" || key == "readwrite") && (bind || cache)) {
      m.read_write = truth(ins, key, v);
    } else if ((key == "ro" || key == "readonly") && (bind || cache)) {
      m.read_write = !truth(ins, key, v);
      readonly_given = true;
    } else if (key == "id" && cache) {
      m.id = v;
    } else if (key == "sharing" && cache) {
      if (v != "shared" && v != "private" && v != "locked")
        fail(ins, "unrecognized sharing for cache mount: " + v);
      m.locked = v == "locked";
    } else if (key == "mode" && cache) {
      m.mode = number(ins, key, v, 8);
    } else if (key == "uid" && cache) {
      m.uid = number(ins, key, v, 10);
    } else if (key == "gid" && cache) {
      m.gid = number(ins, key, v, 10);
    } else if (key == "size" && m.type == MountPlan::Type::kTmpfs) {
      m.size = bytes(ins, v);
    } else if (key == "from" || key == "source" || key == "src") {
      fail(ins, "--mount=type=" + type + ": " + key +
                    "= is not supported by berth's builder for this mount type");
    } else {
      fail(ins, "unexpected key '" + key + "' in '" + value + "'");
    }
  }
  if (m.type == MountPlan::Type::kCache && !readonly_given) m.read_write = true;
  if (m.target.empty()) fail(ins, "mount destination (target) is required in '" + value + "'");
  if (m.target[0] != '/') m.target = workdir + "/" + m.target;
  m.target = clean_path(m.target);
  if (m.target == "/") fail(ins, "a RUN --mount cannot be mounted on /");
  if (m.id.empty()) m.id = m.target;
  return m;
}

std::string cache_mount_path(const std::string& root, const MountPlan& m) {
  image::Sha256 h;
  h.update(m.id);
  std::string dir = path_join(root, h.digest().substr(7, 32));
  if (path_exists(dir)) return dir;
  mkdir_p(root, 0700);
  std::string tmp = dir + ".new";
  remove_all(tmp);
  if (::mkdir(tmp.c_str(), 0755) < 0) throw_errno("mkdir " + tmp);
  if (::chown(tmp.c_str(), m.uid, m.gid) < 0 || ::chmod(tmp.c_str(), m.mode) < 0)
    throw_errno("set up the cache mount " + m.id);
  if (::rename(tmp.c_str(), dir.c_str()) < 0 && errno != ENOTEMPTY && errno != EEXIST)
    throw_errno("rename " + tmp);
  return dir;
}

std::string mount_source(int root, const std::string& rel, const std::string& what) {
  UniqueFd fd(open_in_root(root, rel, O_PATH));
  if (!fd)
    throw NotFound("failed to compute cache key: failed to calculate checksum of ref: \"" + rel +
                   "\": not found in " + what);
  char buf[4096];
  std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
  ssize_t n = ::readlink(proc.c_str(), buf, sizeof buf);
  if (n <= 0) throw_errno("readlink " + proc);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace berth::build
