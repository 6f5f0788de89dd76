#include "image/manifest.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "image/digest.h"

namespace berth::image {
namespace {

const std::string kD1 = sha256_digest("layer1");
const std::string kD2 = sha256_digest("layer2");
const std::string kCfg = sha256_digest("config");

std::string error_of(void (*fn)(const std::string&), const std::string& text) {
  try {
    fn(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Manifest, DockerSchema2) {
  std::string text = R"({"schemaVersion":2,"mediaType":")" +
                     std::string(media_type::kDockerManifest) + R"(","config":{"mediaType":")" +
                     media_type::kDockerConfig + R"(","size":7,"digest":")" + kCfg +
                     R"("},"layers":[{"mediaType":")" + media_type::kDockerLayerGzip +
                     R"(","size":100,"digest":")" + kD1 + R"("}]})";
  EXPECT_EQ(detect_document(text), DocumentKind::kManifest);
  auto m = parse_manifest(text);
  EXPECT_EQ(m.config.digest, kCfg);
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].size, 100);
  EXPECT_EQ(m.layers[0].media_type, media_type::kDockerLayerGzip);
}

TEST(Manifest, OciIndexWithoutMediaType) {
  std::string text = R"({"schemaVersion":2,"manifests":[{"mediaType":")" +
                     std::string(media_type::kOciManifest) + R"(","size":10,"digest":")" + kD1 +
                     R"(","platform":{"os":"linux","architecture":"amd64"}},{"mediaType":")" +
                     media_type::kOciManifest + R"(","size":11,"digest":")" + kD2 +
                     R"(","platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]})";
  EXPECT_EQ(detect_document(text), DocumentKind::kIndex);
  auto idx = parse_index(text);
  ASSERT_EQ(idx.manifests.size(), 2u);
  EXPECT_EQ(idx.manifests[1].platform->variant, "v8");
}

TEST(Manifest, BadDocumentsNameTheField) {
  auto pm = [](const std::string& t) { parse_manifest(t); };
  EXPECT_NE(error_of(pm, "{").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_of(pm, R"({"schemaVersion":1})").find("schemaVersion"), std::string::npos);
  EXPECT_NE(error_of(pm, R"({"schemaVersion":2,"layers":[]})").find("manifest.config: required"),
            std::string::npos);
  std::string bad_digest =
      R"({"schemaVersion":2,"config":{"size":1,"digest":"sha256:nope"},"layers":[]})";
  EXPECT_NE(error_of(pm, bad_digest).find("manifest.config.digest"), std::string::npos);
  std::string neg =
      R"({"schemaVersion":2,"config":{"size":-1,"digest":")" + kCfg + R"("},"layers":[]})";
  EXPECT_NE(error_of(pm, neg).find("manifest.config.size"), std::string::npos);
  EXPECT_THROW(detect_document(R"({"mediaType":"text/plain"})"), Error);
}

TEST(ImageConfigTest, ParsesAndIdentifies) {
  std::string text = R"({"architecture":"amd64","os":"linux","created":"2026-01-01T00:00:00Z",
    "config":{"Env":["PATH=/bin"],"Cmd":["sh"]},
    "rootfs":{"type":"layers","diff_ids":[")" +
                     kD1 + R"(",")" + kD2 + R"("]},
    "history":[{"created_by":"import","empty_layer":false},{"created_by":"CMD","empty_layer":true}]})";
  auto c = parse_image_config(text);
  EXPECT_EQ(c.os, "linux");
  EXPECT_EQ(c.diff_ids, (std::vector<std::string>{kD1, kD2}));
  EXPECT_EQ(c.config["Cmd"][0], "sh");
  ASSERT_EQ(c.history.size(), 2u);
  EXPECT_TRUE(c.history[1].empty_layer);
  EXPECT_EQ(image_id(text), sha256_digest(text));
  auto pc = [](const std::string& t) { parse_image_config(t); };
  EXPECT_NE(error_of(pc, R"({"rootfs":{"type":"layers","diff_ids":["x"]}})").find("diff_ids[0]"),
            std::string::npos);
  EXPECT_NE(error_of(pc, R"({"os":"linux"})").find("rootfs: required"), std::string::npos);
}

}  // namespace
}  // namespace berth::image
