// GET /containers/{id}/stats: dockerd's stream of samples, or one answer.
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <memory>
#include <nlohmann/json.hpp>

#include "api/routes.h"
#include "api/stats_json.h"
#include "base/time.h"

namespace berth::api {
namespace {

using nlohmann::json;

// Go's zero time.Time is what dockerd sends for a sample it did not take.
std::string go_time(int64_t unix_nano) {
  return unix_nano == 0 ? "0001-01-01T00:00:00Z" : format_rfc3339(unix_nano);
}

json cpu_json(const engine::CpuStats& c) {
  json usage = {{"total_usage", c.total_usage},
                {"usage_in_kernelmode", c.usage_in_kernelmode},
                {"usage_in_usermode", c.usage_in_usermode}};
  if (!c.percpu_usage.empty()) usage["percpu_usage"] = c.percpu_usage;
  json j = {{"cpu_usage", usage},
            {"throttling_data",
             {{"periods", c.throttling_periods},
              {"throttled_periods", c.throttled_periods},
              {"throttled_time", c.throttled_time}}}};
  if (c.system_cpu_usage != 0) j["system_cpu_usage"] = c.system_cpu_usage;
  if (c.online_cpus != 0) j["online_cpus"] = c.online_cpus;
  return j;
}

json memory_json(const engine::MemoryStats& m) {
  json j = json::object();
  auto put = [&](const char* key, uint64_t v) {
    if (v != 0) j[key] = v;
  };
  put("usage", m.usage);
  put("max_usage", m.max_usage);
  put("failcnt", m.failcnt);
  put("limit", m.limit);
  if (!m.stats.empty()) {
    json stats = json::object();
    for (auto& [k, v] : m.stats) stats[k] = v;
    j["stats"] = stats;
  }
  return j;
}

json blkio_list(const std::optional<std::vector<engine::BlkioEntry>>& l) {
  if (!l) return nullptr;
  json out = json::array();
  for (auto& e : *l)
    out.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  return out;
}

}  // namespace

json stats_json(const engine::StatsFrame& f) {
  const engine::StatsSample& s = f.sample;
  json pids = json::object();
  if (s.pids_current != 0) pids["current"] = s.pids_current;
  if (s.pids_limit != 0) pids["limit"] = s.pids_limit;
  const engine::BlkioStats& b = s.blkio;
  json j = {{"id", f.id},
            {"name", f.name},
            {"read", go_time(s.read)},
            {"preread", go_time(f.preread)},
            {"cpu_stats", cpu_json(s.cpu)},
            {"precpu_stats", cpu_json(f.precpu)},
            {"memory_stats", memory_json(s.memory)},
            {"pids_stats", pids},
            {"blkio_stats",
             {{"io_service_bytes_recursive", blkio_list(b.service_bytes)},
              {"io_serviced_recursive", blkio_list(b.serviced)},
              {"io_queue_recursive", blkio_list(b.queued)},
              {"io_service_time_recursive", blkio_list(b.service_time)},
              {"io_wait_time_recursive", blkio_list(b.wait_time)},
              {"io_merged_recursive", blkio_list(b.merged)},
              {"io_time_recursive", blkio_list(b.time)},
              {"sectors_recursive", blkio_list(b.sectors)}}},
            {"num_procs", 0u},
            {"storage_stats", json::object()}};
  if (!s.networks.empty()) {
    json nets = json::object();
    for (auto& [name, n] : s.networks)
      nets[name] = {{"rx_bytes", n.rx_bytes},   {"rx_packets", n.rx_packets},
                    {"rx_errors", n.rx_errors}, {"rx_dropped", n.rx_dropped},
                    {"tx_bytes", n.tx_bytes},   {"tx_packets", n.tx_packets},
                    {"tx_errors", n.tx_errors}, {"tx_dropped", n.tx_dropped}};
    j["networks"] = nets;
  }
  return j;
}

void add_stats_routes(Router& router, engine::Engine& s) {
  router.add("GET", "/containers/{id}/stats", [&s](const Request& req) {
    // A missing container is a 404 before anything is sent.
    std::string id = s.containers().get(req.params.at("id")).id;
    if (!req.flag("stream", true)) {
      // one-shot came with API 1.41; older clients always get two samples.
      bool one_shot = compare_api_versions(req.api_version, "1.41") >= 0 && req.flag("one-shot");
      std::string body;
      s.stats().once(id, one_shot, [&](const engine::StatsFrame& f) {
        body = stats_json(f).dump() + "\n";
        return true;
      });
      return json_response(body);
    }
    // A stream holds its connection, not a thread: the service's one sampling thread writes
    // every stream's frames, and the answer ends when the connection closes.
    Response r;
    r.hijack = [&s, id](UniqueFd conn, const std::function<void()>& send_header) {
      send_header();
      // A reader that cannot take a frame within this long is dropped, as dockerd's
      // publisher gives up on a slow subscriber.
      timeval timeout{0, 100000};
      ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
      auto fd = std::make_shared<UniqueFd>(std::move(conn));
      s.stats().follow(id, [fd](const engine::StatsFrame& f) {
        std::string line = stats_json(f).dump() + "\n";
        std::string_view rest = line;
        while (!rest.empty()) {
          ssize_t n = ::send(fd->get(), rest.data(), rest.size(), MSG_NOSIGNAL);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) return false;
          rest.remove_prefix(static_cast<size_t>(n));
        }
        return true;
      });
    };
    return r;
  });
}

}  // namespace berth::api
