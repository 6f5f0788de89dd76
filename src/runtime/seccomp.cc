// seccomp filters through libseccomp, read from the OCI profile the way runc reads it.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/log.h"
#include "runtime/security.h"

namespace berth::runtime {
namespace {

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw Error("invalid config: linux.seccomp." + field + ": " + what);
}

// errnoRet is the errno for SCMP_ACT_ERRNO and the tracer's value for SCMP_ACT_TRACE; EPERM
// when missing, as in runc.
uint32_t parse_action(const std::string& field, const std::string& name,
                      std::optional<unsigned> errno_ret) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  // Allowing instead would silently lift the restriction the profile asks for.
  if (name == "SCMP_ACT_NOTIFY")
    bad(field, "SCMP_ACT_NOTIFY needs a listenerPath, which is not supported");
  bad(field, "unknown action \"" + name + "\"");
}

scmp_compare parse_op(const std::string& field, const std::string& op) {
  static constexpr std::pair<const char*, scmp_compare> kOps[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  for (const auto& [n, v] : kOps)
    if (op == n) return v;
  bad(field, "unknown operator \"" + op + "\"");
}

// OCI names are libseccomp's with a SCMP_ARCH_ prefix, upper case: SCMP_ARCH_X86_64 is
// "x86_64", SCMP_ARCH_AARCH64 is "aarch64".
uint32_t parse_arch(const std::string& name) {
  static constexpr std::string_view kPrefix = "SCMP_ARCH_";
  uint32_t arch = 0;
  if (name.starts_with(kPrefix)) {
    std::string lower = name.substr(kPrefix.size());
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    arch = seccomp_arch_resolve_name(lower.c_str());
  }
  if (arch == 0) bad("architectures", "unknown architecture \"" + name + "\"");
  return arch;
}

// libseccomp's attribute for a flag (so it checks the kernel supports it) and the flag itself,
// for the seccomp() call that loads the program.
std::pair<scmp_filter_attr, unsigned> parse_flag(const std::string& flag) {
  if (flag == "SECCOMP_FILTER_FLAG_TSYNC")
    return {SCMP_FLTATR_CTL_TSYNC, SECCOMP_FILTER_FLAG_TSYNC};
  if (flag == "SECCOMP_FILTER_FLAG_LOG") return {SCMP_FLTATR_CTL_LOG, SECCOMP_FILTER_FLAG_LOG};
  if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
    return {SCMP_FLTATR_CTL_SSB, SECCOMP_FILTER_FLAG_SPEC_ALLOW};
  bad("flags", "unknown or unsupported flag \"" + flag + "\"");
}

void set_attr(scmp_filter_ctx ctx, scmp_filter_attr attr, uint32_t value, const std::string& what) {
  if (int rc = seccomp_attr_set(ctx, attr, value); rc < 0) throw_errno("seccomp: " + what, -rc);
}

// Adds the rules of one syscalls[] entry. Everything in it is checked even when none of its
// names is known here, so a bad profile fails on every machine alike.
void add_rules(scmp_filter_ctx ctx, uint32_t default_action, const oci::SeccompSyscall& sc,
               const std::string& field) {
  uint32_t action = parse_action(field + ".action", sc.action, sc.errno_ret);
  std::vector<scmp_arg_cmp> conds;
  std::array<unsigned, 6> per_index{};
  for (size_t j = 0; j < sc.args.size(); j++) {
    const auto& a = sc.args[j];
    std::string arg_field = field + ".args[" + std::to_string(j) + "]";
    if (a.index >= per_index.size())
      bad(arg_field + ".index", std::to_string(a.index) + " is past the 6 syscall arguments");
    per_index[a.index]++;
    conds.push_back({a.index, parse_op(arg_field + ".op", a.op), a.value, a.value_two});
  }
  // libseccomp refuses a rule whose action is the default one; it would change nothing.
  if (action == default_action) return;
  // libseccomp cannot AND two comparisons of the same argument: as in runc, each condition
  // then becomes a rule of its own, so any one of them matching applies the action.
  bool split = std::any_of(per_index.begin(), per_index.end(), [](unsigned n) { return n > 1; });
  for (const auto& name : sc.names) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    // Names this libseccomp does not know (newer syscalls) are skipped, as runc and crun do.
    if (nr == __NR_SCMP_ERROR) continue;
    auto add = [&](unsigned n, const scmp_arg_cmp* c) {
      if (int rc = seccomp_rule_add_array(ctx, action, nr, n, c); rc < 0)
        throw_errno("seccomp: add rule for syscall \"" + name + "\" (" + field + ")", -rc);
    };
    if (split) {
      for (const auto& c : conds) add(1, &c);
    } else {
      add(static_cast<unsigned>(conds.size()), conds.data());
    }
  }
}

// A syscall newer than the profile answers ENOSYS, not the default action, as with runc: glibc
// falls back from clone3 (and other new calls) on ENOSYS only, and a profile can only deny
// what it was written to know. Per architecture of the filter, the numbers above the highest
// one the profile names get ENOSYS from a stub placed before libseccomp's program. x32 calls
// come with x86_64's audit arch and bit 30 set, and have a highest number of their own.
constexpr uint32_t kX32Bit = 0x40000000;

struct Highest {
  std::optional<uint32_t> native, x32;  // x32: bit 30 included
};

std::map<uint32_t, Highest> highest_syscalls(const oci::Seccomp& p) {
  std::vector<uint32_t> arches = {seccomp_arch_native()};
  for (const auto& a : p.architectures) arches.push_back(parse_arch(a));
  std::map<uint32_t, Highest> out;
  for (uint32_t arch : arches) {
    bool x32 = arch == SCMP_ARCH_X32;
    std::optional<uint32_t> best;
    for (const auto& sc : p.syscalls)
      for (const auto& name : sc.names) {
        int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
        // Negative: unknown here, or a pseudo number libseccomp rewrites (socketcall).
        if (nr < 0) continue;
        best = std::max(best.value_or(0), static_cast<uint32_t>(nr));
      }
    if (!best) continue;
    auto& h = out[x32 ? AUDIT_ARCH_X86_64 : arch];
    (x32 ? h.x32 : h.native) = best;
  }
  return out;
}

std::vector<sock_filter> enosys_stub(const std::map<uint32_t, Highest>& highest) {
  auto stmt = [](uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; };
  constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
  constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
  // Jumps are written as targets (kCont, kEnosys, or an index) and made relative at the end.
  constexpr int kCont = -1, kEnosys = -2;
  struct Insn {
    sock_filter f;
    int jt = 0, jf = 0;  // targets for conditional jumps; 0 = next
    bool cond = false;
  };
  std::vector<Insn> code;
  code.push_back({stmt(BPF_LD | BPF_W | BPF_ABS, kArchOffset)});
  for (const auto& [arch, h] : highest) {
    size_t check = code.size();
    code.push_back({stmt(BPF_JMP | BPF_JEQ | BPF_K, arch), 0, 0, true});  // jf: next arch
    code.push_back({stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset)});
    if (arch == AUDIT_ARCH_X86_64) {
      size_t jset = code.size();
      code.push_back({stmt(BPF_JMP | BPF_JSET | BPF_K, kX32Bit), 0, 0, true});
      code.push_back(h.native
                         ? Insn{stmt(BPF_JMP | BPF_JGT | BPF_K, *h.native), kEnosys, kCont, true}
                         : Insn{stmt(BPF_JMP | BPF_JA, 0), kCont, 0, false});
      code[jset].jt = static_cast<int>(code.size());
      code.push_back(h.x32 ? Insn{stmt(BPF_JMP | BPF_JGT | BPF_K, *h.x32), kEnosys, kCont, true}
                           : Insn{stmt(BPF_JMP | BPF_JA, 0), kCont, 0, false});
    } else {
      code.push_back({stmt(BPF_JMP | BPF_JGT | BPF_K, *h.native), kEnosys, kCont, true});
    }
    // Not this arch: the accumulator still holds it for the next comparison.
    code[check].jf = static_cast<int>(code.size());
  }
  int cont = static_cast<int>(code.size());
  code.push_back({stmt(BPF_JMP | BPF_JA, 1)});  // over the return below, into libseccomp's
  int enosys = static_cast<int>(code.size());
  code.push_back({stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS)});
  std::vector<sock_filter> out;
  for (size_t i = 0; i < code.size(); i++) {
    auto rel = [&](int target) {
      if (target == 0) return 0;
      int abs = target == kCont ? cont : target == kEnosys ? enosys : target;
      return abs - static_cast<int>(i) - 1;
    };
    sock_filter f = code[i].f;
    if (code[i].cond) {
      f.jt = static_cast<uint8_t>(rel(code[i].jt));
      f.jf = static_cast<uint8_t>(rel(code[i].jf));
    } else if (BPF_OP(f.code) == BPF_JA && BPF_CLASS(f.code) == BPF_JMP && code[i].jt != 0) {
      f.k = static_cast<uint32_t>(rel(code[i].jt));
    }
    out.push_back(f);
  }
  return out;
}

bool permissive(uint32_t action) {
  return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG;
}

// Everything the generated program depends on, unambiguously: the profile (each field
// length-prefixed), the native architecture and libseccomp's version.
std::string cache_key(const oci::Seccomp& p) {
  std::string key;
  auto put = [&key](std::string_view v) {
    key += std::to_string(v.size()) + ":";
    key += v;
  };
  auto put_opt = [&put](const std::optional<unsigned>& v) {
    put(v ? std::to_string(*v) : std::string("-"));
  };
  const scmp_version* v = seccomp_version();
  put(std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro));
  put(std::to_string(seccomp_arch_native()));
  put(p.default_action);
  put_opt(p.default_errno_ret);
  put(std::to_string(p.architectures.size()));
  for (const auto& a : p.architectures) put(a);
  put(std::to_string(p.flags.size()));
  for (const auto& f : p.flags) put(f);
  put(std::to_string(p.syscalls.size()));
  for (const auto& sc : p.syscalls) {
    put(std::to_string(sc.names.size()));
    for (const auto& n : sc.names) put(n);
    put(sc.action);
    put_opt(sc.errno_ret);
    put(std::to_string(sc.args.size()));
    for (const auto& a : sc.args) {
      put(std::to_string(a.index));
      put(std::to_string(a.value));
      put(std::to_string(a.value_two));
      put(a.op);
    }
  }
  return key;
}

// A cache file: this header, naming the whole key, then the program.
std::string cache_header(const std::string& key) {
  return "berth-seccomp-bpf-2\n" + std::to_string(key.size()) + "\n" + key;
}

std::string cache_path(const std::string& dir, const std::string& key) {
  char name[32];
  std::snprintf(name, sizeof name, "%016zx.bpf", std::hash<std::string>{}(key));
  return dir + "/" + name;
}

// The cached program of `key`, if the file holds exactly that key (a hash collision or a
// torn file is a miss, never another profile's program).
std::optional<std::vector<sock_filter>> read_cached(const std::string& path,
                                                    const std::string& key) {
  std::optional<std::string> text;
  try {
    text = read_file_if_exists(path);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string head = cache_header(key);
  if (!text || text->compare(0, head.size(), head) != 0) return std::nullopt;
  size_t bytes = text->size() - head.size();
  if (bytes == 0 || bytes % sizeof(sock_filter) != 0) return std::nullopt;
  std::vector<sock_filter> program(bytes / sizeof(sock_filter));
  std::memcpy(program.data(), text->data() + head.size(), bytes);
  return program;
}

void write_cached(const std::string& dir, const std::string& path, const std::string& key,
                  const std::vector<sock_filter>& program) {
  std::string text = cache_header(key);
  text.append(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(sock_filter));
  mkdir_p(dir, 0700);
  write_file_atomic(path, text);
}

}  // namespace

SeccompFilter::SeccompFilter(const oci::Seccomp& profile, const std::string& cache_dir) {
  uint32_t default_action =
      parse_action("defaultAction", profile.default_action, profile.default_errno_ret);
  for (const auto& flag : profile.flags) flags_ |= parse_flag(flag).second;
  std::string key, path;
  if (!cache_dir.empty()) {
    key = cache_key(profile);
    path = cache_path(cache_dir, key);
    if (auto cached = read_cached(path, key)) {
      program_ = std::move(*cached);
      return;
    }
  }
  std::unique_ptr<std::remove_pointer_t<scmp_filter_ctx>, decltype(&seccomp_release)> ctx(
      seccomp_init(default_action), &seccomp_release);
  if (!ctx)
    throw Error("seccomp: cannot create a filter with default action " + profile.default_action);
  // The runtime sets no_new_privs itself when process.noNewPrivileges asks for it.
  set_attr(ctx.get(), SCMP_FLTATR_CTL_NNP, 0, "clear the no_new_privs attribute");
  // Without this, every load error is reported as ECANCELED.
  set_attr(ctx.get(), SCMP_FLTATR_API_SYSRAWRC, 1, "ask for raw error codes");
  for (const auto& name : profile.architectures) {
    int rc = seccomp_arch_add(ctx.get(), parse_arch(name));
    if (rc < 0 && rc != -EEXIST) throw_errno("seccomp: add architecture " + name, -rc);
  }
  for (const auto& flag : profile.flags)
    set_attr(ctx.get(), parse_flag(flag).first, 1, "set " + flag);
  for (size_t i = 0; i < profile.syscalls.size(); i++)
    add_rules(ctx.get(), default_action, profile.syscalls[i],
              "syscalls[" + std::to_string(i) + "]");
  // The BPF program is generated here, before the runtime clones the container: seccomp_load
  // generates it in the container's process, where for Docker's default profile (3 arches,
  // ~1000 instructions) it took 40-100 ms, against ~12 ms here and ~1.5 ms to attach the ready
  // program there (a loaded 2-core machine).
  UniqueFd mem(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
  if (!mem) throw_errno("seccomp: memfd_create for the filter program");
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc < 0)
    throw_errno("seccomp: generate the filter program", -rc);
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size < 0) throw_errno("seccomp: size of the filter program");
  program_.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  size_t want = program_.size() * sizeof(sock_filter);
  if (::pread(mem.get(), program_.data(), want, 0) != static_cast<ssize_t>(want))
    throw_errno("seccomp: read the filter program");
  // A permissive default already lets unknown syscalls through to the kernel's own ENOSYS.
  if (!permissive(default_action)) {
    auto highest = highest_syscalls(profile);
    if (!highest.empty()) {
      auto stub = enosys_stub(highest);
      program_.insert(program_.begin(), stub.begin(), stub.end());
    }
  }
  if (program_.size() > BPF_MAXINSNS)
    throw Error("seccomp: the filter program has " + std::to_string(program_.size()) +
                " instructions, more than a filter can hold");
  if (cache_dir.empty()) return;
  try {
    write_cached(cache_dir, path, key, program_);
  } catch (const std::exception& e) {
    // The program is good; only the next container pays for generating it again.
    log::warn(std::string("seccomp: caching the filter program: ") + e.what());
  }
}

void SeccompFilter::load() {
  sock_fprog prog{static_cast<unsigned short>(program_.size()), program_.data()};
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags_, &prog);
  if (rc < 0) throw_errno("load the seccomp filter");
  // With TSYNC, a positive value is the thread that could not be brought under the filter.
  if (rc > 0)
    throw Error("load the seccomp filter: thread " + std::to_string(rc) +
                " could not be synchronized");
}

}  // namespace berth::runtime
