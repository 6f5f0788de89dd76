// The `filters` query parameter, parsed against a list route's keys and then matched.
#include "api/filters.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = berth::fuzz::as_string(data, size);
  berth::fuzz::expect_refusal_or_success([&] {
    auto f = berth::api::Filters::parse(
        text, {"label", "label!", "name", "id", "status", "dangling", "until", "before"});
    std::map<std::string, std::string> labels{{"a", "b"}, {"com.example", ""}};
    (void)f.match("name", "web");
    (void)f.match_labels("label", labels);
    (void)f.match_no_labels("label!", labels);
    if (f.has("dangling")) (void)f.boolean("dangling");
  });
  return 0;
}
