// Which host speaks for a reference's domain, over which scheme, and which of an index's
// manifests runs here.
#include <arpa/inet.h>
#include <sys/utsname.h>

#include <cstring>

#include "registry/client.h"

namespace berth::registry {
namespace {

// "host:port" -> "host"; "[::1]:5000" -> "::1".
std::string host_only(const std::string& host) {
  if (!host.empty() && host[0] == '[') {
    auto end = host.find(']');
    return end == std::string::npos ? host : host.substr(1, end - 1);
  }
  auto colon = host.find(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

// True when `ip` (v4 or v6 text) lies in `cidr`.
bool in_cidr(const std::string& ip, const std::string& cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string::npos) return false;
  int bits = std::atoi(cidr.c_str() + slash + 1);
  unsigned char a[16], n[16];
  int family = ip.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (inet_pton(family, ip.c_str(), a) != 1) return false;
  if (inet_pton(family, cidr.substr(0, slash).c_str(), n) != 1) return false;
  int len = family == AF_INET ? 32 : 128;
  if (bits < 0 || bits > len) return false;
  for (int i = 0; i < bits; i++) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((a[byte] >> bit) & 1) != ((n[byte] >> bit) & 1)) return false;
  }
  return true;
}

}  // namespace

bool is_insecure(const std::string& host, const Options& opts) {
  std::string h = host_only(host);
  if (h == "localhost" || in_cidr(h, "127.0.0.0/8") || h == "::1") return true;
  for (auto& entry : opts.insecure_registries) {
    if (entry == host || entry == h) return true;
    if (in_cidr(h, entry)) return true;
  }
  return false;
}

Endpoint endpoint_for(const std::string& domain, const Options& opts) {
  std::string host = domain;
  // docker login takes an address with a scheme and a path; as Docker, only the host counts:
  // the scheme follows from insecure-registries.
  for (std::string scheme : {"https://", "http://"})
    if (host.rfind(scheme, 0) == 0) host = host.substr(scheme.size());
  if (auto slash = host.find('/'); slash != std::string::npos) host = host.substr(0, slash);
  if (host.empty() || host == "docker.io" || host == "index.docker.io")
    host = "registry-1.docker.io";
  return Endpoint{host, !is_insecure(host, opts)};
}

image::Platform host_platform() {
  image::Platform p{"linux", image::host_architecture(), ""};
  if (p.architecture == "arm64") p.variant = "v8";
  if (p.architecture == "arm") {
    utsname u{};
    ::uname(&u);
    p.variant = std::strstr(u.machine, "v6") ? "v6" : "v7";
  }
  return p;
}

std::optional<image::Descriptor> select_platform(const image::Index& index,
                                                 const image::Platform& want) {
  const image::Descriptor* loose = nullptr;
  for (auto& m : index.manifests) {
    if (!m.platform) continue;
    if (m.platform->os != want.os || m.platform->architecture != want.architecture) continue;
    if (m.platform->variant == want.variant) return m;
    // arm64's variant is optional: "" and "v8" are the same machine.
    bool compatible =
        m.platform->variant.empty() || want.variant.empty() ||
        (want.architecture == "arm64" && (m.platform->variant == "v8" || want.variant == "v8"));
    if (compatible && !loose) loose = &m;
  }
  if (loose) return *loose;
  return std::nullopt;
}

}  // namespace berth::registry
