// Block IO: v1's blkio controller and v2's io controller (weights and throttles), and v1's
// bytes-serviced statistics.
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

std::string device(const oci::BlockIoDevice& d) {
  return std::to_string(d.major) + ":" + std::to_string(d.minor);
}

void apply_v1(const std::string& dir, const oci::Resources& r) {
  const auto& b = r.block_io;
  // Kernels whose IO scheduler is BFQ have only the bfq files.
  auto weight_file =
      path_exists(path_join(dir, "blkio.weight")) ? "blkio.weight" : "blkio.bfq.weight";
  if (b.weight && *b.weight) write_control(dir, weight_file, std::to_string(*b.weight));
  if (b.leaf_weight && *b.leaf_weight)
    write_control(dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight));
  for (auto& d : b.weight_device) {
    if (d.weight)
      write_control(dir, std::string(weight_file) + "_device",
                    device(d) + " " + std::to_string(*d.weight));
    if (d.leaf_weight)
      write_control(dir, "blkio.leaf_weight_device",
                    device(d) + " " + std::to_string(*d.leaf_weight));
  }
  auto throttle = [&](const std::vector<oci::BlockIoDevice>& devs, const char* file) {
    for (auto& d : devs) write_control(dir, file, device(d) + " " + std::to_string(d.rate));
  };
  throttle(b.throttle_read_bps, "blkio.throttle.read_bps_device");
  throttle(b.throttle_write_bps, "blkio.throttle.write_bps_device");
  throttle(b.throttle_read_iops, "blkio.throttle.read_iops_device");
  throttle(b.throttle_write_iops, "blkio.throttle.write_iops_device");
}

void stats_v1(const std::string& dir, nlohmann::json& out) {
  nlohmann::json entries = nlohmann::json::array();
  auto text = read_file_if_exists(path_join(dir, "blkio.throttle.io_service_bytes"));
  for (auto& line : split(text.value_or(""), '\n')) {
    auto f = split(line, ' ');
    if (f.size() != 3) continue;
    auto mm = split(f[0], ':');
    if (mm.size() != 2) continue;
    entries.push_back({{"major", std::stoull(mm[0])},
                       {"minor", std::stoull(mm[1])},
                       {"op", f[1]},
                       {"value", std::stoull(f[2])}});
  }
  out["blkio"]["ioServiceBytesRecursive"] = entries;
}

void apply_v2(const std::string& dir, const oci::Resources& r) {
  const auto& b = r.block_io;
  // Under the BFQ scheduler io.weight (iocost) is usually inert: BFQ's own file takes
  // blkio's 10-1000 weights as they are, as runc writes them. Otherwise io.weight, scaled
  // to its 1-10000 range.
  bool bfq = path_exists(path_join(dir, "io.bfq.weight"));
  auto weight = [&](uint16_t w) {
    return std::to_string(bfq ? uint64_t{w} : blkio_weight_to_io_weight(w));
  };
  const char* weight_file = bfq ? "io.bfq.weight" : "io.weight";
  if (b.weight && *b.weight) write_control(dir, weight_file, "default " + weight(*b.weight));
  for (auto& d : b.weight_device)
    if (d.weight) write_control(dir, weight_file, device(d) + " " + weight(*d.weight));
  auto io_max = [&](const std::vector<oci::BlockIoDevice>& devs, const char* key) {
    for (auto& d : devs)
      write_control(dir, "io.max", device(d) + " " + key + "=" + std::to_string(d.rate));
  };
  io_max(b.throttle_read_bps, "rbps");
  io_max(b.throttle_write_bps, "wbps");
  io_max(b.throttle_read_iops, "riops");
  io_max(b.throttle_write_iops, "wiops");
}

}  // namespace

const Controller kBlkioV1{"blkio", apply_v1, stats_v1};
const Controller kIoV2{"io", apply_v2, nullptr};

}  // namespace berth::runtime
