// POST /containers/{id}/exec's body: the route's field check, then the ExecConfig decoding.
#include "api/container_fields.h"
#include "api/json_depth.h"
#include "engine/exec.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = berth::fuzz::as_string(data, size);
  if (berth::api::json_nesting_depth(text) > berth::api::kMaxJsonDepth) return 0;
  berth::fuzz::expect_refusal_or_success([&] {
    auto body = nlohmann::json::parse(text);
    if (!body.is_object()) return;  // the route refuses it before decoding
    std::vector<std::string> warnings;
    berth::api::check_fields("ExecConfig", body, warnings);
    (void)berth::engine::decode_exec_config(body);
  });
  return 0;
}
