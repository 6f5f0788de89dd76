// Capabilities through libcap: the bounding set first (dropping from it needs CAP_SETPCAP,
// which the next step may take away), then effective/permitted/inheritable, then ambient
// (the kernel only raises an ambient cap that is already permitted and inheritable).
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/security.h"

namespace berth::runtime {
namespace {

// The kernel's highest capability, which may differ from the one libcap was built with.
// Cached on first use: that is at create time, on the host, before the container's /proc
// (which may be missing) replaces it.
int last_cap() {
  static const int last = [] {
    try {
      return std::stoi(read_file("/proc/sys/kernel/cap_last_cap"));
    } catch (const std::exception&) {
      // libcap probes the kernel's bounding set when it is loaded.
      return static_cast<int>(cap_max_bits()) - 1;
    }
  }();
  return last;
}

std::string cap_name(cap_value_t cap) {
  std::unique_ptr<char, decltype(&cap_free)> name(cap_to_name(cap), &cap_free);
  return name ? name.get() : std::to_string(cap);
}

using CapMask = uint64_t;
using CapState = std::unique_ptr<std::remove_pointer_t<cap_t>, decltype(&cap_free)>;

bool has(CapMask mask, int cap) {
  return (mask >> cap) & 1;
}

// The set as a bit mask; names of capabilities newer than the running kernel are left out
// without an error, as runc does.
CapMask to_mask(const std::vector<std::string>& names, const char* set) {
  CapMask mask = 0;
  for (const auto& name : names) {
    cap_value_t cap;
    // cap_from_name also takes numbers and ignores trailing text; only an exact name
    // (which cap_to_name gives back) is a capability.
    if (cap_from_name(name.c_str(), &cap) < 0 || strcasecmp(cap_name(cap).c_str(), name.c_str()))
      throw Error("invalid config: unknown capability \"" + name + "\" in process.capabilities." +
                  set);
    if (cap <= last_cap()) mask |= CapMask{1} << cap;
  }
  return mask;
}

struct CapSets {
  explicit CapSets(const oci::Capabilities& caps)
      : bounding(to_mask(caps.bounding, "bounding")),
        effective(to_mask(caps.effective, "effective")),
        permitted(to_mask(caps.permitted, "permitted")),
        inheritable(to_mask(caps.inheritable, "inheritable")),
        ambient(to_mask(caps.ambient, "ambient")) {}
  CapMask bounding, effective, permitted, inheritable, ambient;
};

void set_flag(cap_t state, cap_flag_t flag, CapMask mask) {
  std::vector<cap_value_t> caps;
  for (int c = 0; c <= last_cap(); c++)
    if (has(mask, c)) caps.push_back(c);
  if (!caps.empty() &&
      cap_set_flag(state, flag, static_cast<int>(caps.size()), caps.data(), CAP_SET) < 0)
    throw_errno("set capability flags");
}

}  // namespace

void check_capabilities(const oci::Capabilities& caps) {
  [[maybe_unused]] const CapSets sets(caps);
}

void apply_capabilities(const oci::Capabilities& caps) {
  const CapSets sets(caps);

  // After the switch to a non-root user the effective set is empty (PR_SET_KEEPCAPS keeps
  // only the permitted one), but dropping from the bounding set needs CAP_SETPCAP in it.
  CapState current(cap_get_proc(), &cap_free);
  if (!current) throw_errno("read the process capabilities");
  if (cap_fill(current.get(), CAP_EFFECTIVE, CAP_PERMITTED) < 0 || cap_set_proc(current.get()) < 0)
    throw_errno("raise the effective capabilities to the permitted ones");

  for (int c = 0; c <= last_cap(); c++) {
    // Skipping caps already gone lets a process without CAP_SETPCAP keep a bounding set that
    // is already small enough.
    if (has(sets.bounding, c) || ::prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0) continue;
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
      throw_errno("drop " + cap_name(c) + " from the bounding set");
  }

  CapState state(cap_init(), &cap_free);
  if (!state) throw_errno("cap_init");
  set_flag(state.get(), CAP_EFFECTIVE, sets.effective);
  set_flag(state.get(), CAP_PERMITTED, sets.permitted);
  set_flag(state.get(), CAP_INHERITABLE, sets.inheritable);
  if (cap_set_proc(state.get()) < 0) {
    int err = errno;
    // The usual cause: a runtime that itself runs with fewer caps than the config asks for.
    std::string missing;
    for (int c = 0; c <= last_cap(); c++) {
      cap_flag_value_t v = CAP_CLEAR;
      cap_get_flag(current.get(), c, CAP_PERMITTED, &v);
      if (has(sets.permitted, c) && v == CAP_CLEAR) missing += " " + cap_name(c);
    }
    throw_errno("set effective, permitted and inheritable capabilities" +
                    (missing.empty() ? "" : " (not permitted to the runtime:" + missing + ")"),
                err);
  }

  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    throw_errno("clear the ambient capabilities");
  for (int c = 0; c <= last_cap(); c++) {
    // runc only warns about an ambient cap that is not both permitted and inheritable.
    if (!has(sets.ambient, c) || !has(sets.permitted & sets.inheritable, c)) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      throw_errno("raise ambient capability " + cap_name(c));
  }
}

}  // namespace berth::runtime
