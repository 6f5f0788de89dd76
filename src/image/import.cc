#include "image/import.h"

#include "base/error.h"
#include "base/time.h"
#include "image/config_changes.h"
#include "image/decompress.h"

namespace berth::image {

Image import_rootfs(ImageStore& store, ContentStore& content, const ReadFn& src,
                    const ImportOptions& opts) {
  nlohmann::json cfg = nlohmann::json::object();
  // Checked before the upload is stored: a bad --change costs no disk.
  apply_config_changes(cfg, opts.changes);
  std::string diff_id = store_decompressed(content, src);
  auto hold = store.pin({diff_id});
  std::string created = now_rfc3339();
  std::string comment = opts.message.empty() ? "Imported from " + opts.source : opts.message;
  nlohmann::json history = {{"created", created}, {"comment", comment}};
  // dockerd puts the message in the image's own comment too (inspect .Comment).
  nlohmann::json image = {
      {"architecture", opts.architecture.empty() ? host_architecture() : opts.architecture},
      {"comment", comment},
      {"config", cfg},
      {"created", created},
      {"history", nlohmann::json::array({history})},
      {"os", opts.os},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}}};
  try {
    return store.add_image(image.dump());
  } catch (const std::exception& e) {
    // The upload was not a tar the layer unpacker accepts.
    hold.reset();
    store.discard_blob(diff_id);
    throw InvalidArgument(std::string("import: ") + e.what());
  }
}

}  // namespace berth::image
