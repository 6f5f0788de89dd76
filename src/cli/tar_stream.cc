#include "cli/tar_stream.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/error.h"

namespace berth::cli {
namespace {

constexpr size_t kBlock = 512;

// Field offsets and widths of a ustar header block.
struct Field {
  size_t off, len;
};
constexpr Field kName{0, 100}, kMode{100, 8}, kUid{108, 8}, kGid{116, 8}, kSize{124, 12},
    kMtime{136, 12}, kChksum{148, 8}, kLinkname{157, 100}, kMagic{257, 6}, kVersion{263, 2},
    kDevMajor{329, 8}, kDevMinor{337, 8}, kPrefix{345, 155};
constexpr size_t kTypeflag = 156;

int64_t padding(int64_t size) {
  return (static_cast<int64_t>(kBlock) - size % static_cast<int64_t>(kBlock)) %
         static_cast<int64_t>(kBlock);
}

// Writes `v` in octal, zero-filled, into the field's width less its terminating NUL; false
// when it does not fit (the value then goes into a pax record).
bool put_octal(char* b, Field f, int64_t v) {
  if (v < 0) return false;
  size_t digits = f.len - 1;
  std::string s(digits, '0');
  for (size_t i = digits; i-- > 0 && v > 0; v >>= 3) s[i] = static_cast<char>('0' + (v & 7));
  if (v > 0) return false;
  std::memcpy(b + f.off, s.data(), digits);
  b[f.off + digits] = '\0';
  return true;
}

void put_string(char* b, Field f, const std::string& s) {
  std::memcpy(b + f.off, s.data(), std::min(s.size(), f.len));
}

// Header numbers: octal text, or base-256 when the first byte's high bit is set (GNU, and
// Go's writer for large values).
int64_t get_number(const char* b, Field f) {
  const auto* p = reinterpret_cast<const unsigned char*>(b + f.off);
  if (p[0] & 0x80) {
    int64_t v = p[0] & 0x3f;
    for (size_t i = 1; i < f.len; i++) v = (v << 8) | p[i];
    return (p[0] & 0x40) ? -v : v;
  }
  int64_t v = 0;
  size_t i = 0;
  while (i < f.len && (p[i] == ' ' || p[i] == '\0')) i++;
  for (; i < f.len && p[i] >= '0' && p[i] <= '7'; i++) v = v * 8 + (p[i] - '0');
  return v;
}

std::string get_string(const char* b, Field f) {
  const char* s = b + f.off;
  return std::string(s, strnlen(s, f.len));
}

int64_t checksum(const char* b) {
  int64_t sum = 0;
  for (size_t i = 0; i < kBlock; i++)
    sum += (i >= kChksum.off && i < kChksum.off + kChksum.len) ? ' '
                                                               : static_cast<unsigned char>(b[i]);
  return sum;
}

// One pax record, "<length> <key>=<value>\n", where the length counts itself.
std::string pax_record(const std::string& key, const std::string& value) {
  size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

}  // namespace

void TarWriter::pad() {
  static const char kZeros[kBlock] = {};
  if (pending_ != 0) throw Error("tar: " + std::to_string(pending_) + " bytes missing in a file");
  sink_(std::string_view(kZeros, static_cast<size_t>(padding(written_))));
  written_ = 0;
}

void TarWriter::header(const TarHeader& h) {
  pad();
  char b[kBlock] = {};
  std::string pax;
  if (h.name.size() > kName.len) pax += pax_record("path", h.name);
  put_string(b, kName, h.name);
  if (h.link.size() > kLinkname.len) pax += pax_record("linkpath", h.link);
  put_string(b, kLinkname, h.link);
  put_octal(b, kMode, h.mode & 07777);
  if (!put_octal(b, kUid, h.uid)) pax += pax_record("uid", std::to_string(h.uid));
  if (!put_octal(b, kGid, h.gid)) pax += pax_record("gid", std::to_string(h.gid));
  int64_t size = h.type == TarType::kFile ? h.size : 0;
  if (!put_octal(b, kSize, size)) pax += pax_record("size", std::to_string(size));
  if (!put_octal(b, kMtime, h.mtime)) pax += pax_record("mtime", std::to_string(h.mtime));
  b[kTypeflag] = static_cast<char>(h.type);
  std::memcpy(b + kMagic.off, "ustar", 6);
  std::memcpy(b + kVersion.off, "00", 2);
  put_octal(b, kDevMajor, h.dev_major);
  put_octal(b, kDevMinor, h.dev_minor);
  if (!pax.empty()) {
    // The extended header that carries what ustar cannot, for the entry that follows it.
    char x[kBlock] = {};
    std::string base = h.name.substr(h.name.find_last_of('/', h.name.size() - 2) + 1);
    put_string(x, kName, "PaxHeaders.0/" + base.substr(0, 80));
    put_octal(x, kMode, 0644);
    put_octal(x, kUid, 0);
    put_octal(x, kGid, 0);
    put_octal(x, kSize, static_cast<int64_t>(pax.size()));
    put_octal(x, kMtime, 0);
    x[kTypeflag] = 'x';
    std::memcpy(x + kMagic.off, "ustar", 6);
    std::memcpy(x + kVersion.off, "00", 2);
    put_octal(x, Field{kChksum.off, 7}, checksum(x));
    sink_(std::string_view(x, kBlock));
    sink_(pax);
    static const char kZeros[kBlock] = {};
    sink_(std::string_view(kZeros, static_cast<size_t>(padding(static_cast<int64_t>(pax.size())))));
  }
  put_octal(b, Field{kChksum.off, 7}, checksum(b));
  sink_(std::string_view(b, kBlock));
  pending_ = size;
}

void TarWriter::data(std::string_view bytes) {
  if (static_cast<int64_t>(bytes.size()) > pending_) throw Error("tar: a file grew while copied");
  sink_(bytes);
  pending_ -= static_cast<int64_t>(bytes.size());
  written_ += static_cast<int64_t>(bytes.size());
}

void TarWriter::finish() {
  pad();
  static const char kEnd[2 * kBlock] = {};
  sink_(std::string_view(kEnd, sizeof kEnd));
}

void TarReader::feed(std::string_view bytes) {
  while (!bytes.empty() && !done_) {
    if (data_left_ > 0) {
      size_t n =
          static_cast<size_t>(std::min<int64_t>(data_left_, static_cast<int64_t>(bytes.size())));
      if (collecting_) {
        collected_.append(bytes.substr(0, n));
      } else {
        on_data_(bytes.substr(0, n));
      }
      data_left_ -= static_cast<int64_t>(n);
      bytes.remove_prefix(n);
      if (data_left_ == 0 && collecting_) {
        char kind = std::exchange(collecting_, 0);
        if (kind == 'x') apply_pax(collected_);
        if (kind == 'L') long_name_ = collected_.c_str();
        if (kind == 'K') long_link_ = collected_.c_str();
      }
      continue;
    }
    if (pad_left_ > 0) {
      size_t n =
          static_cast<size_t>(std::min<int64_t>(pad_left_, static_cast<int64_t>(bytes.size())));
      pad_left_ -= static_cast<int64_t>(n);
      bytes.remove_prefix(n);
      continue;
    }
    if (partial_.empty() && bytes.size() >= kBlock) {
      block(bytes.data());
      bytes.remove_prefix(kBlock);
      continue;
    }
    size_t n = std::min(kBlock - partial_.size(), bytes.size());
    partial_.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (partial_.size() == kBlock) {
      std::string b = std::move(partial_);
      partial_.clear();
      block(b.data());
    }
  }
}

void TarReader::apply_pax(const std::string& records) {
  size_t pos = 0;
  while (pos < records.size()) {
    size_t space = records.find(' ', pos);
    if (space == std::string::npos) throw Error("archive/tar: invalid pax header");
    size_t len = std::strtoull(records.c_str() + pos, nullptr, 10);
    if (len == 0 || pos + len > records.size()) throw Error("archive/tar: invalid pax header");
    std::string rec = records.substr(space + 1, pos + len - space - 2);  // without the '\n'
    pos += len;
    size_t eq = rec.find('=');
    if (eq == std::string::npos) continue;
    std::string key = rec.substr(0, eq), value = rec.substr(eq + 1);
    if (key == "path") pax_path_ = value;
    if (key == "linkpath") pax_link_ = value;
    if (key == "size") pax_size_ = std::strtoll(value.c_str(), nullptr, 10);
    if (key == "uid") pax_uid_ = std::strtoll(value.c_str(), nullptr, 10);
    if (key == "gid") pax_gid_ = std::strtoll(value.c_str(), nullptr, 10);
    if (key == "mtime") pax_mtime_ = std::strtoll(value.c_str(), nullptr, 10);
  }
}

void TarReader::block(const char* b) {
  if (std::all_of(b, b + kBlock, [](char c) { return c == 0; })) {
    done_ = true;
    return;
  }
  if (get_number(b, kChksum) != checksum(b)) throw Error("archive/tar: invalid tar header");
  char type = b[kTypeflag];
  int64_t size = get_number(b, kSize);
  if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
    // A global pax header applies to no entry that berth cares about: read and dropped.
    collecting_ = type;
    collected_.clear();
    data_left_ = size;
    pad_left_ = padding(size);
    if (size == 0) collecting_ = 0;
    return;
  }
  TarHeader h;
  bool gnu = std::memcmp(b + kMagic.off, "ustar ", 6) == 0;
  std::string prefix = gnu ? "" : get_string(b, kPrefix);
  h.name = get_string(b, kName);
  if (!prefix.empty()) h.name = prefix + "/" + h.name;
  if (!long_name_.empty()) h.name = long_name_;
  if (!pax_path_.empty()) h.name = pax_path_;
  h.link = get_string(b, kLinkname);
  if (!long_link_.empty()) h.link = long_link_;
  if (!pax_link_.empty()) h.link = pax_link_;
  h.type = (type == '\0' || type == '7') ? TarType::kFile : static_cast<TarType>(type);
  h.mode = static_cast<uint32_t>(get_number(b, kMode) & 07777);
  h.uid = pax_uid_ >= 0 ? pax_uid_ : get_number(b, kUid);
  h.gid = pax_gid_ >= 0 ? pax_gid_ : get_number(b, kGid);
  h.size = pax_size_ >= 0 ? pax_size_ : size;
  h.mtime = pax_mtime_ >= 0 ? pax_mtime_ : get_number(b, kMtime);
  h.dev_major = static_cast<uint32_t>(get_number(b, kDevMajor));
  h.dev_minor = static_cast<uint32_t>(get_number(b, kDevMinor));
  long_name_.clear();
  long_link_.clear();
  pax_path_.clear();
  pax_link_.clear();
  pax_size_ = pax_uid_ = pax_gid_ = pax_mtime_ = -1;
  // Links, directories, devices and fifos have no content, whatever their size field says
  // (as Go's reader has it); anything else carries `size` bytes.
  bool has_data = h.type != TarType::kHardLink && h.type != TarType::kSymlink &&
                  h.type != TarType::kDirectory && h.type != TarType::kCharDevice &&
                  h.type != TarType::kBlockDevice && h.type != TarType::kFifo;
  if (!has_data) h.size = 0;
  if (rename_) {
    h.name = rename_(h.name);
    if (h.type == TarType::kHardLink) h.link = rename_(h.link);
  }
  on_entry_(h);
  data_left_ = h.size;
  pad_left_ = padding(h.size);
}

}  // namespace berth::cli
