// DNS packets as the embedded server gets them: the query parser, then each kind of answer
// it writes to what it parsed.
#include "fuzz_util.h"
#include "network/dns_message.h"

namespace dns = berth::network::dns;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> packet(data, size);
  auto parsed = dns::parse_query(packet);
  if (auto* q = std::get_if<dns::Query>(&parsed)) {
    berth::network::Ipv4 addrs[2] = {berth::network::Ipv4{0x0a000002},
                                     berth::network::Ipv4{0x0a000003}};
    auto answer = dns::reply(*q, dns::Rcode::kNoError, true, addrs, dns::kMaxUdpSize);
    berth::fuzz::check(answer.size() <= dns::kMaxUdpSize, "UDP answer over 512 bytes");
    berth::fuzz::check(dns::is_response(answer, q->id), "answer is not a response to the id");
    (void)dns::reverse_address(q->name);
    if (auto ptr = dns::ptr_reply(*q, "web.example")) (void)dns::is_response(*ptr, q->id);
  } else if (std::get_if<dns::Rcode>(&parsed)) {
    auto err = dns::error_reply(packet, dns::Rcode::kFormErr);
    berth::fuzz::check(err.size() >= dns::kHeaderSize, "error answer shorter than a header");
  }
  return 0;
}
