// POST /networks/create's body: the canonical spelling the route applies, then the decoding
// that needs no daemon.
#include "api/field_names.h"
#include "api/json_depth.h"
#include "fuzz_util.h"
#include "network/network.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = berth::fuzz::as_string(data, size);
  if (berth::api::json_nesting_depth(text) > berth::api::kMaxJsonDepth) return 0;
  berth::fuzz::expect_refusal_or_success([&] {
    auto body = nlohmann::json::parse(text.empty() ? "{}" : text);
    berth::api::canonical_network_create(body);
    auto r = berth::network::decode_network_create(body, std::string(64, 'a'), 1500);
    (void)r.network.to_json().dump();
  });
  return 0;
}
