#include "engine/seccomp_profile.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <limits>

#include "base/error.h"

namespace berth::engine {

// Generated at build time from seccomp_default.json (src/engine/CMakeLists.txt).
extern const char kSeccompDefaultJson[];

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw InvalidArgument("Decoding seccomp profile failed: " + field + ": " + why);
}

// Typed reads of the profile's members; a null member is an absent one, as in Go's decoder.
const json* member(const json& o, const char* name) {
  auto it = o.find(name);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

void expect_object(const json& o, const std::string& field) {
  if (!o.is_object()) bad(field, "expected an object");
}

std::string str(const json& o, const char* name, const std::string& field) {
  auto* v = member(o, name);
  if (!v) return "";
  if (!v->is_string()) bad(field + name, "expected a string");
  return v->get<std::string>();
}

std::vector<std::string> strings(const json& o, const char* name, const std::string& field) {
  std::vector<std::string> out;
  auto* v = member(o, name);
  if (!v) return out;
  if (!v->is_array()) bad(field + name, "expected a list of strings");
  for (auto& e : *v) {
    if (!e.is_string()) bad(field + name, "expected a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

template <class T>
std::optional<T> unsigned_num(const json& o, const char* name, const std::string& field) {
  auto* v = member(o, name);
  if (!v) return std::nullopt;
  if (!v->is_number_unsigned() || v->get<uint64_t>() > std::numeric_limits<T>::max())
    bad(field + name, "expected a non-negative integer of at most " +
                          std::to_string(std::numeric_limits<T>::max()));
  return v->get<T>();
}

// "<kernel>.<major>", as moby reads minKernel: "4.8".
std::pair<unsigned, unsigned> kernel_version(const std::string& text, const std::string& field) {
  unsigned k = 0, m = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%3u.%3u%n", &k, &m, &used) != 2 ||
      static_cast<size_t>(used) != text.size() || text[0] == '+' || (k == 0 && m == 0))
    bad(field, "invalid kernel version \"" + text + "\", expected \"<kernel>.<major>\"");
  return {k, m};
}

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// The host's architecture as moby names it (Go's names for the "arches" of a rule, libseccomp's
// for archMap), fixed when berthd is built as moby's is.
std::pair<std::string, std::string> native_arch() {
#if defined(__x86_64__)
  return {"amd64", "SCMP_ARCH_X86_64"};
#elif defined(__i386__)
  return {"x86", "SCMP_ARCH_X86"};
#elif defined(__aarch64__)
  return {"arm64", "SCMP_ARCH_AARCH64"};
#elif defined(__arm__)
  return {"arm", "SCMP_ARCH_ARM"};
#elif defined(__riscv) && __riscv_xlen == 64
  return {"riscv64", "SCMP_ARCH_RISCV64"};
#elif defined(__s390x__)
  return {"s390x", "SCMP_ARCH_S390X"};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return {"ppc64le", "SCMP_ARCH_PPC64LE"};
#elif defined(__loongarch64)
  return {"loong64", "SCMP_ARCH_LOONGARCH64"};
#else
  return {"", ""};
#endif
}

}  // namespace

const SeccompHost& SeccompHost::current() {
  static const SeccompHost host = [] {
    SeccompHost h;
    std::tie(h.arch, h.seccomp_arch) = native_arch();
    utsname u{};
    // Minor revisions and distribution suffixes do not count: "6.1.0-13-amd64" is 6.1.
    if (::uname(&u) == 0) std::sscanf(u.release, "%u.%u", &h.kernel.first, &h.kernel.second);
    return h;
  }();
  return host;
}

SeccompProfile SeccompProfile::parse(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) bad("(top level)", "not valid JSON");
  expect_object(j, "(top level)");
  SeccompProfile p;
  oci::Seccomp& b = p.base_;
  b.default_action = str(j, "defaultAction", "");
  b.default_errno_ret = unsigned_num<unsigned>(j, "defaultErrnoRet", "");
  b.architectures = strings(j, "architectures", "");
  b.flags = strings(j, "flags", "");
  b.listener_path = str(j, "listenerPath", "");
  if (auto* am = member(j, "archMap")) {
    if (!am->is_array()) bad("archMap", "expected a list");
    for (size_t i = 0; i < am->size(); i++) {
      std::string f = "archMap[" + std::to_string(i) + "].";
      expect_object((*am)[i], f);
      p.arch_map_.push_back(
          {str((*am)[i], "architecture", f), strings((*am)[i], "subArchitectures", f)});
    }
  }
  if (!b.architectures.empty() && !p.arch_map_.empty())
    bad("(top level)",
        "both 'architectures' and 'archMap' are specified, use either 'architectures' or "
        "'archMap'");
  auto filter = [](const json& sc, const char* name, const std::string& f) {
    std::optional<Filter> out;
    auto* v = member(sc, name);
    if (!v) return out;
    std::string field = f + name + ".";
    expect_object(*v, field);
    out = Filter{strings(*v, "caps", field), strings(*v, "arches", field), std::nullopt};
    if (auto mk = str(*v, "minKernel", field); !mk.empty())
      out->min_kernel = kernel_version(mk, field + "minKernel");
    return out;
  };
  auto* scs = member(j, "syscalls");
  if (scs && !scs->is_array()) bad("syscalls", "expected a list");
  for (size_t i = 0; scs && i < scs->size(); i++) {
    const json& sc = (*scs)[i];
    std::string f = "syscalls[" + std::to_string(i) + "].";
    expect_object(sc, f);
    Rule r;
    r.syscall.names = strings(sc, "names", f);
    // "name" is the old, single-name form.
    if (auto name = str(sc, "name", f); !name.empty()) {
      if (!r.syscall.names.empty())
        bad(f, "both 'name' and 'names' are specified, use either 'name' or 'names'");
      r.syscall.names = {name};
    }
    if (r.syscall.names.empty()) bad(f + "names", "required");
    r.syscall.action = str(sc, "action", f);
    if (r.syscall.action.empty()) bad(f + "action", "required");
    r.syscall.errno_ret = unsigned_num<unsigned>(sc, "errnoRet", f);
    if (auto* args = member(sc, "args")) {
      if (!args->is_array()) bad(f + "args", "expected a list");
      for (size_t k = 0; k < args->size(); k++) {
        std::string af = f + "args[" + std::to_string(k) + "].";
        const json& a = (*args)[k];
        expect_object(a, af);
        r.syscall.args.push_back({unsigned_num<unsigned>(a, "index", af).value_or(0),
                                  unsigned_num<uint64_t>(a, "value", af).value_or(0),
                                  unsigned_num<uint64_t>(a, "valueTwo", af).value_or(0),
                                  str(a, "op", af)});
      }
    }
    r.includes = filter(sc, "includes", f);
    r.excludes = filter(sc, "excludes", f);
    p.rules_.push_back(std::move(r));
  }
  if (b.default_action.empty() && !p.rules_.empty()) bad("defaultAction", "required");
  return p;
}

const SeccompProfile& SeccompProfile::builtin() {
  static const SeccompProfile profile = parse(kSeccompDefaultJson);
  return profile;
}

std::optional<oci::Seccomp> SeccompProfile::for_container(const std::vector<std::string>& caps,
                                                          const SeccompHost& host) const {
  if (base_.default_action.empty() && rules_.empty()) return std::nullopt;
  // An include holds when every one of its conditions does; an exclude when any one does.
  auto included = [&](const Filter& f) {
    if (!f.arches.empty() && !contains(f.arches, host.arch)) return false;
    for (auto& c : f.caps)
      if (!contains(caps, c)) return false;
    return !f.min_kernel || host.kernel >= *f.min_kernel;
  };
  auto excluded = [&](const Filter& f) {
    if (contains(f.arches, host.arch)) return true;
    for (auto& c : f.caps)
      if (contains(caps, c)) return true;
    return f.min_kernel && host.kernel >= *f.min_kernel;
  };
  oci::Seccomp out = base_;
  for (auto& a : arch_map_) {
    if (a.arch != host.seccomp_arch) continue;
    out.architectures.push_back(a.arch);
    out.architectures.insert(out.architectures.end(), a.sub_arches.begin(), a.sub_arches.end());
    break;
  }
  for (auto& r : rules_) {
    if (r.excludes && excluded(*r.excludes)) continue;
    if (r.includes && !included(*r.includes)) continue;
    out.syscalls.push_back(r.syscall);
  }
  return out;
}

}  // namespace berth::engine
