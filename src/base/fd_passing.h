// A file descriptor passed over a unix socket (SCM_RIGHTS): the OCI console socket's
// terminal, and the hijacked connection berthd hands to a shim with an attach request.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/fd.h"

namespace berth {

// Sends `data` with `fd` attached (nothing attached when `fd` is negative), retrying on
// EINTR; returns how many bytes of `data` went (a stream socket may take fewer). `what`
// names the transfer in errors.
size_t send_fd(int sock, std::string_view data, int fd, int flags, std::string_view what);
// Receives one message and the descriptor it carries, close-on-exec; the message's bytes
// are dropped. Throws when the message carries none.
UniqueFd receive_fd(int sock, int flags, std::string_view what);

}  // namespace berth
