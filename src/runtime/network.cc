// Network: what the runtime itself does in a container's network namespace.
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "base/error.h"
#include "base/fd.h"
#include "runtime/internal.h"

namespace berth::runtime {

// A new network namespace's loopback starts down: without this a container with no other
// interface (Docker's --network none) cannot even reach 127.0.0.1. One ioctl, as crun does,
// instead of a netlink round trip.
void bring_up_loopback() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("loopback: socket");
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, "lo", sizeof "lo");
  ifr.ifr_flags = IFF_UP | IFF_RUNNING;
  if (::ioctl(fd.get(), SIOCSIFFLAGS, &ifr) < 0) throw_errno("loopback: bring lo up");
}

}  // namespace berth::runtime
