// cgroup v2 has no devices controller: device rules become an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup. The program checks the
// rules from the last to the first, as v1's exceptions list resolves them, and the first
// that matches decides; no match denies.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// Registers: r2 device type, r3 access bits, r4 major, r5 minor; r1 scratch.
std::vector<bpf_insn> rule_block(const oci::DeviceRule& r) {
  std::vector<bpf_insn> body;  // conditional jumps skip to the block's end when not matching
  int32_t access = 0;
  for (char c : r.access)
    access |= c == 'r'   ? BPF_DEVCG_ACC_READ
              : c == 'w' ? BPF_DEVCG_ACC_WRITE
              : c == 'm' ? BPF_DEVCG_ACC_MKNOD
                         : 0;
  if (r.type == "c" || r.type == "b")
    body.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0,
                        r.type == "c" ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  if (access != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD) || !r.allow) {
    body.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0));
    if (r.allow) {
      // Allowed only when every requested access is in the rule.
      body.push_back(insn(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, ~access & 0x7));
      body.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, 0));
    } else {
      // Denied when any requested access is in the rule.
      body.push_back(insn(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, access));
      body.push_back(insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0, 0));
    }
  }
  if (r.type != "a" && r.major && *r.major >= 0)
    body.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, static_cast<int32_t>(*r.major)));
  if (r.type != "a" && r.minor && *r.minor >= 0)
    body.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, static_cast<int32_t>(*r.minor)));
  body.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r.allow ? 1 : 0));
  body.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  // Every jump goes to the end of the block: the next rule.
  for (size_t i = 0; i < body.size(); i++)
    if (BPF_CLASS(body[i].code) == BPF_JMP && BPF_OP(body[i].code) != BPF_EXIT)
      body[i].off = static_cast<int16_t>(body.size() - i - 1);
  return body;
}

std::vector<bpf_insn> device_filter_program(const std::vector<oci::DeviceRule>& rules) {
  std::vector<bpf_insn> prog = {
      insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(bpf_cgroup_dev_ctx, access_type), 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0),
      insn(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16),
      insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff),
      insn(BPF_LDX | BPF_MEM | BPF_W, 4, 1, offsetof(bpf_cgroup_dev_ctx, major), 0),
      insn(BPF_LDX | BPF_MEM | BPF_W, 5, 1, offsetof(bpf_cgroup_dev_ctx, minor), 0),
  };
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    auto block = rule_block(*it);
    prog.insert(prog.end(), block.begin(), block.end());
  }
  prog.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
  prog.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return prog;
}

}  // namespace

void attach_device_filter(const std::string& cgroup_dir,
                          const std::vector<oci::DeviceRule>& rules) {
  auto prog = device_filter_program(rules);
  char log[4096] = {};
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.license = reinterpret_cast<uint64_t>("Apache-2.0");
  load.log_buf = reinterpret_cast<uint64_t>(log);
  load.log_size = sizeof log;
  load.log_level = 1;
  UniqueFd prog_fd(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
  if (!prog_fd) {
    int err = errno;
    throw Error(std::string("cgroup: load device filter: ") + std::strerror(err) +
                    (log[0] ? std::string(" (") + log + ")" : ""),
                err);
  }
  UniqueFd dir(::open(cgroup_dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!dir) throw_errno("cgroup: open " + cgroup_dir);
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(dir.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0)
    throw_errno("cgroup: attach device filter to " + cgroup_dir);
}

}  // namespace berth::runtime
