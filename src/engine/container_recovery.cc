#include "engine/container_recovery.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/lock_file.h"
#include "base/log.h"
#include "engine/shim_client.h"
#include "shim/protocol.h"

namespace berth::engine {

bool stop_unrecorded_shim(const std::string& bundle_dir, int patience_s,
                          const std::function<void()>& force_delete) {
  std::string lock = path_join(bundle_dir, shim::kLockFile);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(patience_s);
  bool found = false;
  while (auto pid = lock_holder(lock)) {
    found = true;
    try {
      auto conn = ShimConnection::connect(path_join(bundle_dir, "shim.sock"));
      timeval patience{patience_s, 0};
      ::setsockopt(conn.fd(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
      try {
        conn.kill(SIGKILL, true);
      } catch (const std::exception&) {
        // It has exited meanwhile: the wait answers at once.
      }
      // Answered once the runtime has deleted the container, and the lock is let go.
      conn.wait();
      return true;
    } catch (const std::exception& e) {
      if (std::chrono::steady_clock::now() > deadline) {
        log::error("the shim (pid " + std::to_string(*pid) + ") left by an unrecorded start in " +
                   bundle_dir + " does not answer: killed; " + e.what());
        ::kill(*pid, SIGKILL);
        force_delete();
        return true;
      }
    }
    // Still creating the container: its socket comes when that is done.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return found;
}

void sweep_unowned(
    const std::string& dir, const std::set<std::string>& ids,
    const std::function<void(const std::string& path, const std::string& id)>& remove) {
  struct stat st;
  if (::stat(dir.c_str(), &st) < 0) return;
  for (auto& name : list_dir(dir)) {
    // Only what is named as a container: a build's snapshots live beside them.
    bool id_like =
        name.size() == 64 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!id_like || ids.count(name)) continue;
    std::string path = path_join(dir, name);
    try {
      log::info("removing " + path + ", which no container owns (left by a crash)");
      remove(path, name);
    } catch (const std::exception& e) {
      log::warn("remove " + path + ": " + e.what());
    }
  }
}

}  // namespace berth::engine
