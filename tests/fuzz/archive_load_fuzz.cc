// `docker load` archives (docker-save tars and OCI layouts, plain or compressed) loaded into
// stores of their own in a private directory in /dev/shm, made afresh for each input and
// removed after it: nothing is written outside that directory's data root.
#include <stdlib.h>

#include <cstring>
#include <filesystem>

#include "base/sqlite.h"
#include "fuzz_util.h"
#include "image/archive_load.h"
#include "image/content_store.h"
#include "image/image_store.h"

namespace fs = std::filesystem;

namespace {

// Made at the first input and removed at exit; on tmpfs, as the stores fsync what they write.
struct WorkDir {
  std::string path;
  WorkDir() {
    char tmpl[] = "/dev/shm/berth-fuzz-load-XXXXXX";
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
  const std::string root = base + "/root";
  fs::create_directory(root);
  {
    berth::Db db(root + "/berth.db", "");
    berth::image::ContentStore content(root + "/content");
    berth::image::ImageStore store(db, content, root + "/overlay");
    size_t offset = 0;
    berth::image::ReadFn read = [&](char* buf, size_t len) {
      size_t n = std::min(len, size - offset);
      std::memcpy(buf, data + offset, n);
      offset += n;
      return n;
    };
    berth::fuzz::expect_refusal_or_success(
        [&] { (void)berth::image::load_archive(store, content, read); });
  }
  for (auto& e : fs::directory_iterator(base))
    berth::fuzz::check(e.path() == root, "load wrote beside its data root");
  fs::remove_all(root);
  return 0;
}
