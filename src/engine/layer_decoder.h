// A pulled layer's bytes, decompressed as they arrive: gzip (the usual) and plain tar in one
// pass; anything else is kept whole and decompressed by the image module once complete.
#pragma once

#include <zlib.h>

#include <functional>
#include <string>
#include <string_view>

namespace berth::engine {

class LayerDecoder {
 public:
  using Out = std::function<void(std::string_view)>;
  // `out` gets the uncompressed bytes (gzip, plain); `raw` the bytes of any other format.
  LayerDecoder(Out out, Out raw) : out_(std::move(out)), raw_(std::move(raw)) {}
  ~LayerDecoder();
  LayerDecoder(const LayerDecoder&) = delete;
  LayerDecoder& operator=(const LayerDecoder&) = delete;

  void feed(std::string_view data);
  // Throws InvalidArgument when the stream ended early.
  void finish();
  // True when the bytes were neither gzip nor a plain tar and went to `raw`.
  bool passed_raw() const { return mode_ == Mode::kRaw; }

 private:
  enum class Mode { kUndecided, kGzip, kPlain, kRaw };
  void decide(std::string_view head);
  void inflate_some(std::string_view data);

  Out out_, raw_;
  Mode mode_ = Mode::kUndecided;
  std::string head_;
  z_stream zs_{};
  bool z_open_ = false, z_ended_ = false;
  std::string buf_;
};

}  // namespace berth::engine
