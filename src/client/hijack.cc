#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"
#include "client/client.h"
#include "client/internal.h"

namespace berth::client {
namespace {

UniqueFd connect_unix(const std::string& path, const std::string& host) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw cannot_connect(host);
  return fd;
}

ssize_t read_retry(int fd, char* buf, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd, buf, n);
    if (r >= 0 || errno != EINTR) return r;
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

HijackedConn hijack(ApiClient& api, const std::string& path, const Query& q,
                    const nlohmann::json* body) {
  std::string target = "/v" + api.version() + path + q.encode();
  UniqueFd fd = connect_unix(socket_path_of(api.host()), api.host());
  std::string payload = body ? body->dump() : "";
  std::string req = "POST " + target + " HTTP/1.1\r\nHost: berth\r\nUser-Agent: " + kUserAgent +
                    "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n";
  if (body) req += "Content-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(payload.size()) + "\r\n\r\n" + payload;
  write_all(fd.get(), req);

  // The head is read by hand: after it, the socket is no longer HTTP and every byte that
  // followed the blank line belongs to the container's output.
  std::string buf;
  size_t end;
  char chunk[16384];
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = read_retry(fd.get(), chunk, sizeof chunk);
    if (n < 0) throw_errno("read attach response");
    if (n == 0) throw Error("the daemon closed the connection before answering " + path);
    buf.append(chunk, static_cast<size_t>(n));
  }
  std::vector<std::string> lines = split(buf.substr(0, end), '\n');
  int status = 0;
  if (lines.empty() || std::sscanf(lines[0].c_str(), "HTTP/%*d.%*d %d", &status) != 1)
    throw Error("malformed response from the daemon for " + path);
  HijackedConn conn;
  conn.early = buf.substr(end + 4);
  size_t content_length = std::string::npos;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    std::string name = lower(trim(lines[i].substr(0, colon)));
    std::string value = trim(lines[i].substr(colon + 1));
    if (name == "content-length") content_length = std::stoul(value);
  }
  if (status >= 400) {
    // Error bodies are small; they end at Content-Length or when the daemon hangs up.
    std::string body_text = conn.early;
    while (body_text.size() < content_length) {
      ssize_t n = read_retry(fd.get(), chunk, sizeof chunk);
      if (n <= 0) break;
      body_text.append(chunk, static_cast<size_t>(n));
    }
    throw ApiError(status, daemon_message(status, body_text));
  }
  conn.fd = std::move(fd);
  return conn;
}

}  // namespace berth::client
