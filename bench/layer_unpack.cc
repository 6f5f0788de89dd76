// Unpacks one layer tar with berth's apply_layer, for bench/image_bench.py to time beside
// `tar -x` of the same file. usage: layer_unpack ARCHIVE DEST
#include <cstdio>

#include "image/layer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s ARCHIVE DEST\n", argv[0]);
    return 2;
  }
  try {
    auto stats = berth::image::apply_layer(argv[1], argv[2]);
    std::printf("%llu entries, %llu bytes\n", static_cast<unsigned long long>(stats.entries),
                static_cast<unsigned long long>(stats.bytes));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "layer_unpack: %s\n", e.what());
    return 1;
  }
}
