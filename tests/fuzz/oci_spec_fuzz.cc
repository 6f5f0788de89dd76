// config.json: the OCI runtime spec parser, and the writer on what it accepted.
#include "fuzz_util.h"
#include "oci/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = berth::fuzz::as_string(data, size);
  berth::fuzz::expect_refusal_or_success([&] {
    auto spec = berth::oci::parse_spec(text);
    // parse_spec(write_spec(s).dump()) gives back s: the written text must parse again.
    auto written = berth::oci::write_spec(spec).dump();
    try {
      (void)berth::oci::parse_spec(written);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "written spec does not parse: %s\n", e.what());
      std::abort();
    }
  });
  return 0;
}
