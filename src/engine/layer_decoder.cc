#include "engine/layer_decoder.h"

#include "base/error.h"
#include "image/decompress.h"

namespace berth::engine {

LayerDecoder::~LayerDecoder() {
  if (z_open_) inflateEnd(&zs_);
}

void LayerDecoder::decide(std::string_view head) {
  auto c = image::detect_compression(head);
  if (c == image::Compression::kGzip) {
    mode_ = Mode::kGzip;
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) throw Error("inflateInit2 failed");
    z_open_ = true;
    buf_.resize(256 * 1024);
  } else {
    mode_ = c == image::Compression::kNone ? Mode::kPlain : Mode::kRaw;
  }
}

void LayerDecoder::feed(std::string_view data) {
  if (mode_ == Mode::kUndecided) {
    head_.append(data);
    if (head_.size() < 8) return;
    decide(head_);
    std::string head = std::move(head_);
    feed(head);
    return;
  }
  switch (mode_) {
    case Mode::kGzip:
      inflate_some(data);
      break;
    case Mode::kPlain:
      out_(data);
      break;
    default:
      raw_(data);
  }
}

void LayerDecoder::inflate_some(std::string_view data) {
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs_.avail_in = static_cast<uInt>(data.size());
  while (zs_.avail_in > 0) {
    if (z_ended_) {
      // Another gzip member follows (pigz and some tools write several).
      inflateReset(&zs_);
      z_ended_ = false;
    }
    zs_.next_out = reinterpret_cast<Bytef*>(buf_.data());
    zs_.avail_out = static_cast<uInt>(buf_.size());
    int rc = inflate(&zs_, Z_NO_FLUSH);
    size_t produced = buf_.size() - zs_.avail_out;
    if (produced) out_(std::string_view(buf_.data(), produced));
    if (rc == Z_STREAM_END) {
      z_ended_ = true;
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw InvalidArgument(std::string("gzip: ") + (zs_.msg ? zs_.msg : "corrupt data"));
  }
  // Output may still be pending inside zlib with no input left.
  while (!z_ended_) {
    zs_.next_out = reinterpret_cast<Bytef*>(buf_.data());
    zs_.avail_out = static_cast<uInt>(buf_.size());
    int rc = inflate(&zs_, Z_NO_FLUSH);
    size_t produced = buf_.size() - zs_.avail_out;
    if (produced) out_(std::string_view(buf_.data(), produced));
    if (rc == Z_STREAM_END) z_ended_ = true;
    if (produced == 0 || rc != Z_OK) break;
  }
}

void LayerDecoder::finish() {
  if (mode_ == Mode::kUndecided) {
    std::string head = std::move(head_);
    decide(head);
    if (!head.empty()) feed(head);
  }
  if (mode_ == Mode::kGzip && !z_ended_) throw InvalidArgument("gzip: unexpected end of data");
}

}  // namespace berth::engine
