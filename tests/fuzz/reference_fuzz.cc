// Image references: a parsed reference prints as a string that parses back to itself.
#include "fuzz_util.h"
#include "oci/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = berth::fuzz::as_string(data, size);
  berth::fuzz::expect_refusal_or_success([&] {
    (void)berth::oci::parse_reference_with_default_tag(text);
    auto r = berth::oci::parse_reference(text);
    (void)r.familiar_string();
    auto again = berth::oci::parse_reference(r.string());
    berth::fuzz::check(again.string() == r.string(), "reference does not parse back to itself");
  });
  return 0;
}
