#include "engine/layer_digests.h"

#include <mutex>

namespace berth::engine {

LayerDigests::LayerDigests(Db& db) : db_(db) {
  std::lock_guard lock(db_.mutex());
  db_.exec(
      "CREATE TABLE IF NOT EXISTS layer_blobs(diff_id TEXT NOT NULL, digest TEXT NOT NULL, "
      "media_type TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY(diff_id, digest))");
}

void LayerDigests::remember(const std::string& diff_id, const CompressedBlob& blob) {
  std::lock_guard lock(db_.mutex());
  Statement(db_,
            "INSERT OR REPLACE INTO layer_blobs(diff_id, digest, media_type, size) "
            "VALUES(?,?,?,?)")
      .bind(1, diff_id)
      .bind(2, blob.digest)
      .bind(3, blob.media_type)
      .bind(4, blob.size)
      .run();
}

std::vector<CompressedBlob> LayerDigests::lookup(const std::string& diff_id) {
  std::lock_guard lock(db_.mutex());
  Statement st(db_, "SELECT digest, media_type, size FROM layer_blobs WHERE diff_id = ?");
  st.bind(1, diff_id);
  std::vector<CompressedBlob> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.integer(2)});
  return out;
}

}  // namespace berth::engine
