// POST /containers/create's body through the decoder the route uses, behind the router's
// depth limit.
#include "api/container_decode.h"
#include "api/json_depth.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body = berth::fuzz::as_string(data, size);
  if (berth::api::json_nesting_depth(body) > berth::api::kMaxJsonDepth) return 0;
  berth::fuzz::expect_refusal_or_success([&] {
    std::vector<std::string> warnings;
    auto r = berth::api::decode_create_request("fuzz", body, warnings);
    // What create stores is dumped again for inspect.
    (void)r.config.dump();
    (void)r.host_config.dump();
  });
  return 0;
}
