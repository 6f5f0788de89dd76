#include "network/dns_message.h"

#include <charconv>

namespace berth::network::dns {

namespace {

constexpr size_t kMaxNameSize = 255;  // on the wire, RFC 1035 2.3.4
constexpr size_t kMaxLabelSize = 63;

uint16_t read16(std::span<const uint8_t> m, size_t pos) {
  return static_cast<uint16_t>(m[pos] << 8 | m[pos + 1]);
}

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}

// Reads the name at `pos` into `q` and moves `pos` past it. Compression pointers must each
// point before the previous one's target, so a loop of pointers cannot go on for ever.
bool read_name(std::span<const uint8_t> m, size_t& pos, Query& q) {
  size_t p = pos;
  size_t limit = pos;  // the next pointer must point before this
  bool jumped = false;
  for (;;) {
    if (p >= m.size()) return false;
    uint8_t len = m[p];
    if ((len & 0xc0) == 0xc0) {
      if (p + 1 >= m.size()) return false;
      size_t target = static_cast<size_t>(len & 0x3f) << 8 | m[p + 1];
      if (target >= limit) return false;
      if (!jumped) pos = p + 2;
      jumped = true;
      limit = target;
      p = target;
      continue;
    }
    if (len & 0xc0) return false;  // the extended label types never caught on
    if (q.question.size() + 1 + len > kMaxNameSize) return false;
    if (p + 1 + len > m.size()) return false;
    q.question.insert(q.question.end(), m.begin() + p, m.begin() + p + 1 + len);
    if (len == 0) break;
    if (!q.name.empty()) q.name += '.';
    for (size_t i = p + 1; i < p + 1 + len; ++i) {
      char c = static_cast<char>(m[i]);
      if (c == '.' || c == '\\') q.name += '\\';
      q.name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    p += 1 + len;
  }
  if (!jumped) pos = p + 1;
  return true;
}

void put_header(std::vector<uint8_t>& out, uint16_t id, uint16_t flags, uint16_t qdcount) {
  put16(out, id);
  put16(out, flags);
  put16(out, qdcount);
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
}

uint16_t reply_flags(uint16_t query_flags, Rcode rcode) {
  return kFlagQr | (query_flags & (kOpcodeMask | kFlagRd)) | kFlagRa | static_cast<uint16_t>(rcode);
}

}  // namespace

std::variant<Query, Rcode, Drop> parse_query(std::span<const uint8_t> packet) {
  if (packet.size() < kHeaderSize) return Drop{};
  Query q;
  q.id = read16(packet, 0);
  q.flags = read16(packet, 2);
  if (q.flags & kFlagQr) return Drop{};
  if (q.flags & kOpcodeMask) return Rcode::kNotImp;
  if (read16(packet, 4) != 1) return Rcode::kFormErr;
  size_t pos = kHeaderSize;
  if (!read_name(packet, pos, q) || pos + 4 > packet.size()) return Rcode::kFormErr;
  q.type = read16(packet, pos);
  q.qclass = read16(packet, pos + 2);
  q.question.insert(q.question.end(), packet.begin() + pos, packet.begin() + pos + 4);
  return q;
}

std::vector<uint8_t> reply(const Query& q, Rcode rcode, bool authoritative,
                           std::span<const Ipv4> addresses, size_t max_size) {
  std::vector<uint8_t> out;
  uint16_t flags = reply_flags(q.flags, rcode) | (authoritative ? kFlagAa : 0);
  put_header(out, q.id, flags, 1);
  out.insert(out.end(), q.question.begin(), q.question.end());
  constexpr size_t kRecordSize = 16;
  uint16_t count = 0;
  for (Ipv4 a : addresses) {
    if (out.size() + kRecordSize > max_size) {
      flags |= kFlagTc;
      out[2] = static_cast<uint8_t>(flags >> 8);
      break;
    }
    put16(out, 0xc000 | kHeaderSize);  // the question's name, which starts right after the header
    put16(out, kTypeA);
    put16(out, kClassIn);
    put32(out, kTtl);
    put16(out, 4);
    put32(out, a.value);
    ++count;
  }
  out[6] = static_cast<uint8_t>(count >> 8);
  out[7] = static_cast<uint8_t>(count);
  return out;
}

std::optional<Ipv4> reverse_address(std::string_view name) {
  constexpr std::string_view kSuffix = ".in-addr.arpa";
  if (!name.ends_with(kSuffix)) return std::nullopt;
  std::string_view octets = name.substr(0, name.size() - kSuffix.size());
  uint32_t value = 0;
  // The labels name the octets least significant first.
  for (int i = 0; i < 4; ++i) {
    size_t dot = octets.find('.');
    if ((dot == std::string_view::npos) != (i == 3)) return std::nullopt;
    std::string_view label = octets.substr(0, dot);
    unsigned octet = 0;
    auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), octet);
    if (ec != std::errc() || end != label.data() + label.size() || octet > 255 ||
        (label.size() > 1 && label[0] == '0'))
      return std::nullopt;
    value |= octet << (8 * i);
    octets.remove_prefix(i == 3 ? octets.size() : dot + 1);
  }
  return Ipv4{value};
}

std::optional<std::vector<uint8_t>> ptr_reply(const Query& q, std::string_view target) {
  std::vector<uint8_t> rdata;
  for (std::string_view rest = target;;) {
    std::string_view label = rest.substr(0, rest.find('.'));
    if (label.empty() || label.size() > kMaxLabelSize) return std::nullopt;
    rdata.push_back(static_cast<uint8_t>(label.size()));
    rdata.insert(rdata.end(), label.begin(), label.end());
    if (label.size() == rest.size()) break;
    rest.remove_prefix(label.size() + 1);
  }
  rdata.push_back(0);
  if (rdata.size() > kMaxNameSize) return std::nullopt;
  std::vector<uint8_t> out = reply(q, Rcode::kNoError, true);
  out[7] = 1;                        // one answer
  put16(out, 0xc000 | kHeaderSize);  // the question's name, which starts right after the header
  put16(out, kTypePtr);
  put16(out, kClassIn);
  put32(out, kTtl);
  put16(out, static_cast<uint16_t>(rdata.size()));
  out.insert(out.end(), rdata.begin(), rdata.end());
  return out;
}

std::vector<uint8_t> error_reply(std::span<const uint8_t> packet, Rcode rcode) {
  std::vector<uint8_t> out;
  put_header(out, id_of(packet), reply_flags(read16(packet, 2), rcode), 0);
  return out;
}

uint16_t id_of(std::span<const uint8_t> message) {
  return read16(message, 0);
}

void set_id(std::span<uint8_t> message, uint16_t id) {
  message[0] = static_cast<uint8_t>(id >> 8);
  message[1] = static_cast<uint8_t>(id);
}

bool is_response(std::span<const uint8_t> message, uint16_t id) {
  return message.size() >= kHeaderSize && (read16(message, 2) & kFlagQr) && id_of(message) == id;
}

}  // namespace berth::network::dns
