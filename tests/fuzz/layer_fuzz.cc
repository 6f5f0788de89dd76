// Layer archives unpacked into a fresh directory inside a private temporary one. Whatever the
// archive holds, the unpacked tree stays inside its directory: after each input the private
// directory holds that directory at most (and nothing when unpacking failed, which removes
// it), and it is emptied again before the next input.
#include <stdlib.h>

#include <filesystem>

#include "fuzz_util.h"
#include "image/layer.h"

namespace fs = std::filesystem;

namespace {

// Made at the first input and removed at exit; on tmpfs, so that the disk is not what limits
// the executions per second.
struct WorkDir {
  std::string path;
  WorkDir() {
    char tmpl[] = "/dev/shm/berth-fuzz-layer-XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    path = tmpl;
  }
  ~WorkDir() { fs::remove_all(path); }
};

const std::string& work_dir() {
  static WorkDir dir;
  return dir.path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string base = work_dir();
  const std::string dest = base + "/layer";
  // Blocks of at most 4 KiB, so that entries cross block boundaries as they do on the wire.
  size_t offset = 0;
  auto next = [&]() -> std::string_view {
    size_t n = std::min<size_t>(size - offset, 4096);
    std::string_view block(reinterpret_cast<const char*>(data) + offset, n);
    offset += n;
    return block;
  };
  bool ok = false;
  berth::fuzz::expect_refusal_or_success([&] {
    berth::image::apply_layer_blocks(next, dest);
    ok = true;
  });
  for (auto& e : fs::directory_iterator(base))
    berth::fuzz::check(e.path() == dest, "the layer wrote beside its directory");
  berth::fuzz::check(ok || !fs::exists(dest), "a failed layer left its directory behind");
  fs::remove_all(dest);
  return 0;
}
