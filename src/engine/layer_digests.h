// Which compressed blobs a registry knows a layer by: recorded when a layer is pulled or
// pushed, so that a push asks the registry for those (HEAD) before compressing and uploading.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/sqlite.h"

namespace berth::engine {

struct CompressedBlob {
  std::string digest, media_type;
  int64_t size = 0;
};

class LayerDigests {
 public:
  explicit LayerDigests(Db& db);
  void remember(const std::string& diff_id, const CompressedBlob& blob);
  std::vector<CompressedBlob> lookup(const std::string& diff_id);

 private:
  Db& db_;
};

}  // namespace berth::engine
