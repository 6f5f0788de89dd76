// /containers/...: create, start, stop, kill, restart, remove, wait, attach (hijacked),
// logs, list, inspect, resize, pause, unpause, rename, top, update, prune.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "api/container_decode.h"
#include "api/container_fields.h"
#include "api/container_json.h"
#include "api/filters.h"
#include "api/routes.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"

namespace berth::api {
namespace {

using engine::Container;
using engine::State;
using nlohmann::json;

std::optional<int> int_param(const Request& req, const char* name) {
  std::string v = req.q(name);
  if (v.empty()) return std::nullopt;
  try {
    size_t used = 0;
    int n = std::stoi(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw InvalidArgument("invalid value for " + std::string(name) + ": " + v);
  }
}

// Docker's 8-byte frame header: stream, three zero bytes, big-endian length.
std::string frame(int stream, std::string_view data) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  uint32_t len = htonl(static_cast<uint32_t>(data.size()));
  std::memcpy(out.data() + 4, &len, 4);
  out.append(data);
  return out;
}

bool matches(const Filters& f, const Container& c, const std::vector<Container>& all,
             engine::Engine& s) {
  if (!f.match("status", engine::state_name(c.state.status))) return false;
  if (f.has("id")) {
    bool hit = false;
    for (auto& id : f.get("id"))
      if (c.id.rfind(id, 0) == 0) hit = true;
    if (!hit) return false;
  }
  if (f.has("name")) {
    bool hit = false;
    for (auto& n : f.get("name")) {
      try {
        if (std::regex_search("/" + c.name, std::regex(n))) hit = true;
      } catch (const std::regex_error&) {
        throw InvalidArgument("invalid filter 'name=" + n + "'");
      }
    }
    if (!hit) return false;
  }
  std::map<std::string, std::string> labels;
  if (c.config.contains("Labels") && c.config["Labels"].is_object())
    for (auto& [k, v] : c.config["Labels"].items())
      if (v.is_string()) labels[k] = v.get<std::string>();
  if (!f.match_labels("label", labels)) return false;
  if (f.has("exited")) {
    if (c.state.status != State::kExited) return false;
    if (!f.match("exited", std::to_string(c.state.exit_code))) return false;
  }
  if (f.has("ancestor")) {
    bool hit = false;
    for (auto& a : f.get("ancestor")) {
      auto img = s.images().find(a);
      if ((img && img->id == c.image_id) || c.config.value("Image", "") == a) hit = true;
    }
    if (!hit) return false;
  }
  auto created_of = [&](const std::string& ref) {
    for (auto& o : all)
      if (o.id == ref || o.name == ref || o.id.rfind(ref, 0) == 0) return o.created;
    throw NotFound("No such container: " + ref);
  };
  if (f.has("before") && !(c.created < created_of(f.get("before").back()))) return false;
  if (f.has("since") && !(c.created > created_of(f.get("since").back()))) return false;
  if (f.has("network")) {
    bool hit = false;
    for (auto& e : s.networks().endpoints_of(c.id)) {
      std::string name;
      try {
        name = s.networks().get(e.network_id).name;
      } catch (const NotFound&) {
      }
      for (auto& want : f.get("network"))
        if (want == name || (!want.empty() && e.network_id.rfind(want, 0) == 0)) hit = true;
    }
    if (!hit) return false;
  }
  // A volume's name or a mount's destination, as dockerd matches them.
  if (f.has("volume")) {
    bool hit = false;
    for (auto& want : f.get("volume"))
      for (auto& m : c.spec.mounts)
        hit |= (m.type == engine::MountSpec::Type::kVolume && m.source == want) ||
               m.destination == want;
    if (!hit) return false;
  }
  // A container without a healthcheck is "none"; none is a swarm task.
  if (f.has("health")) {
    for (auto& h : f.get("health"))
      if (h != "starting" && h != "healthy" && h != "unhealthy" && h != "none")
        throw InvalidArgument("Unrecognised filter value for health: " + h);
    if (!f.match("health", c.state.health ? c.state.health->status : "none")) return false;
  }
  if (f.has("is-task") && f.boolean("is-task").value_or(false)) return false;
  if (!f.match("isolation", c.host_config.value("Isolation", json("")).get<std::string>()))
    return false;
  if (f.has("publish") || f.has("expose")) {
    auto wanted = [&](const char* key) {
      std::set<std::string> out;
      for (auto& v : f.get(key)) {
        auto slash = v.find('/');
        std::string proto = slash == std::string::npos ? "tcp" : v.substr(slash + 1);
        std::string range = v.substr(0, slash);
        auto dash = range.find('-');
        try {
          int lo = std::stoi(range.substr(0, dash));
          int hi = dash == std::string::npos ? lo : std::stoi(range.substr(dash + 1));
          if (lo < 1 || hi > 65535 || hi < lo) throw std::out_of_range(v);
          for (int p = lo; p <= hi; p++) out.insert(std::to_string(p) + "/" + proto);
        } catch (const std::logic_error&) {
          throw InvalidArgument("invalid port range in filter '" + std::string(key) + "=" + v +
                                "'");
        }
      }
      return out;
    };
    auto publish = wanted("publish"), expose = wanted("expose");
    bool hit = false;
    json summary = container_summary(c, s.networks());
    for (auto& p : summary["Ports"]) {
      std::string type = p.value("Type", "tcp");
      if (p.contains("PublicPort") &&
          publish.count(std::to_string(p["PublicPort"].get<int>()) + "/" + type))
        hit = true;
      if (expose.count(std::to_string(p.value("PrivatePort", 0)) + "/" + type)) hit = true;
    }
    if (!hit) return false;
  }
  return true;
}

Response list(engine::Engine& s, const Request& req) {
  auto f = Filters::parse(req.q("filters"), {"status", "id", "name", "label", "exited", "ancestor",
                                             "before", "since", "network", "volume", "health",
                                             "isolation", "is-task", "publish", "expose"});
  bool all = req.flag("all");
  int limit = int_param(req, "limit").value_or(-1);
  auto containers = s.containers().list();
  std::sort(containers.begin(), containers.end(),
            [](const Container& a, const Container& b) { return a.created > b.created; });
  json out = json::array();
  for (auto& c : containers) {
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
    bool running = c.running() || c.state.status == State::kRestarting;
    if (!all && limit <= 0 && !running && !f.has("status") && !f.has("exited")) continue;
    if (!matches(f, c, containers, s)) continue;
    out.push_back(container_summary(c, s.networks()));
  }
  return json_response(out.dump());
}

Response logs(engine::Engine& s, const Request& req) {
  auto c = s.containers().get(req.params.at("name"));
  logfile::Query q;
  q.stdout = req.flag("stdout");
  q.stderr = req.flag("stderr");
  if (!q.stdout && !q.stderr)
    throw InvalidArgument("Bad parameters: you must choose at least one stream");
  if (c.log_path.empty())
    throw InvalidArgument("configured logging driver does not support reading");
  q.follow = req.flag("follow");
  std::string tail = req.q("tail", "all");
  if (tail != "all") q.tail = int_param(req, "tail").value_or(-1);
  auto time_arg = [&](const char* n) -> int64_t {
    std::string v = req.q(n);
    if (v.empty() || v == "0") return 0;
    auto t = parse_api_time(v);
    if (!t) throw InvalidArgument(std::string("invalid value for ") + n + ": " + v);
    return *t;
  };
  q.since_nano = time_arg("since");
  q.until_nano = time_arg("until");
  bool timestamps = req.flag("timestamps");
  bool tty = c.tty();
  Response r;
  r.content_type =
      tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
  r.stream = [&s, q, timestamps, tty, id = c.id](const ChunkWriter& write) {
    s.containers().read_logs(
        id, q,
        [&](const logfile::Entry& e) {
          std::string text = timestamps ? format_rfc3339(e.time_nano) + " " + e.text : e.text;
          return write(tty ? text : frame(e.source == logfile::Source::kStderr ? 2 : 1, text));
        },
        [&] { return write(""); });
  };
  return r;
}

// attach's logs=1: what the log holds of the asked streams, framed as attach frames them.
void replay_logs(engine::ContainerManager& m, const std::string& id, const engine::AttachOptions& o,
                 bool tty, int fd) {
  logfile::Query q;
  q.stdout = o.stdout;
  q.stderr = o.stderr;
  try {
    m.read_logs(
        id, q,
        [&](const logfile::Entry& e) {
          write_all(fd, tty ? e.text : frame(e.source == logfile::Source::kStderr ? 2 : 1, e.text));
          return true;
        },
        [] { return false; });
  } catch (const std::exception& e) {
    // A driver that keeps nothing to read, or a client gone: dockerd goes on without logs.
    log::debug("attach logs of " + id + ": " + e.what());
  }
}

engine::WaitCondition wait_condition(const std::string& c) {
  if (c.empty() || c == "not-running") return engine::WaitCondition::kNotRunning;
  if (c == "next-exit") return engine::WaitCondition::kNextExit;
  if (c == "removed") return engine::WaitCondition::kRemoved;
  throw InvalidArgument("invalid condition: \"" + c + "\"");
}

}  // namespace

void add_container_routes(Router& router, engine::Engine& s) {
  auto& m = s.containers();
  router.add("POST", "/containers/create", [&m](const Request& req) {
    std::vector<std::string> warnings;
    auto created = m.create(decode_create_request(req.q("name"), req.body, warnings));
    for (auto& w : created.warnings) warnings.push_back(w);
    return json_response(json{{"Id", created.container.id}, {"Warnings", warnings}}.dump(), 201);
  });
  router.add("GET", "/containers/json", [&s](const Request& req) { return list(s, req); });
  router.add("GET", "/containers/{name}/json", [&m, &s](const Request& req) {
    auto c = m.get(req.params.at("name"));
    return json_response(
        container_inspect(c, m.options(), s.networks(), s.execs().live_ids(c.id)).dump());
  });
  router.add("POST", "/containers/{name}/start", [&m](const Request& req) {
    return no_content(m.start(req.params.at("name")) ? 204 : 304);
  });
  router.add("POST", "/containers/{name}/stop", [&m](const Request& req) {
    auto t = int_param(req, "t");
    if (!t) t = int_param(req, "timeout");
    std::optional<std::string> sig;
    if (!req.q("signal").empty()) sig = req.q("signal");
    return no_content(m.stop(req.params.at("name"), t, sig) ? 204 : 304);
  });
  router.add("POST", "/containers/{name}/kill", [&m](const Request& req) {
    m.kill(req.params.at("name"), req.q("signal"));
    return no_content();
  });
  router.add("POST", "/containers/{name}/restart", [&m](const Request& req) {
    auto t = int_param(req, "t");
    m.restart(req.params.at("name"), t);
    return no_content();
  });
  router.add("DELETE", "/containers/{name}", [&m](const Request& req) {
    if (req.flag("link")) {
      m.remove_link(req.params.at("name"));
      return no_content();
    }
    m.remove(req.params.at("name"), req.flag("force"), req.flag("v"));
    return no_content();
  });
  router.add("POST", "/containers/{name}/wait", [&m](const Request& req) {
    auto cond = wait_condition(req.q("condition"));
    std::string name = req.params.at("name");
    m.get(name);  // 404 before the 200 goes out
    Response r;
    // The status line goes out at once: `docker run` waits for it before it starts.
    r.stream = [&m, name, cond](const ChunkWriter& write) {
      if (!write("")) return;
      int code = 0;
      json err = nullptr;
      try {
        code = m.wait(name, cond);
      } catch (const std::exception& e) {
        err = {{"Message", e.what()}};
      }
      write(json{{"StatusCode", code}, {"Error", err}}.dump() + "\n");
    };
    return r;
  });
  router.add("POST", "/containers/{name}/attach", [&m](const Request& req) {
    auto c = m.get(req.params.at("name"));
    engine::AttachOptions o;
    o.stdin = req.flag("stdin");
    o.stdout = req.flag("stdout");
    o.stderr = req.flag("stderr");
    o.detach_keys = req.q("detachKeys");
    if (!req.flag("stream") && !req.flag("logs"))
      throw InvalidArgument("Bad parameters: you must choose at least one stream");
    Response r;
    r.content_type =
        c.tty() ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
    std::string id = c.id;
    bool logs = req.flag("logs"), stream = req.flag("stream"), tty = c.tty();
    r.hijack = [&m, id, o, logs, stream, tty](UniqueFd conn,
                                              const std::function<void()>& send_header) {
      if (!logs) {
        m.attach(id, std::move(conn), o, send_header);
        return;
      }
      // As dockerd: the logs first, then (with stream) the live output; without stream the
      // connection closes after the logs.
      send_header();
      // The logs follow at once: docker-py's attach(logs=True) came back empty in 1 of 4.
      wait_until_read(conn.get(), std::chrono::milliseconds(200));
      replay_logs(m, id, o, tty, conn.get());
      if (stream) m.attach(id, std::move(conn), o, [] {});
    };
    return r;
  });
  router.add("GET", "/containers/{name}/logs", [&s](const Request& req) { return logs(s, req); });
  router.add("POST", "/containers/{name}/resize", [&m](const Request& req) {
    m.resize(req.params.at("name"), int_param(req, "h").value_or(0),
             int_param(req, "w").value_or(0));
    return no_content(200);
  });
  router.add("POST", "/containers/{name}/pause", [&m](const Request& req) {
    m.pause(req.params.at("name"));
    return no_content();
  });
  router.add("POST", "/containers/{name}/unpause", [&m](const Request& req) {
    m.unpause(req.params.at("name"));
    return no_content();
  });
  router.add("POST", "/containers/{name}/rename", [&m](const Request& req) {
    m.rename(req.params.at("name"), req.q("name"));
    return no_content();
  });
  router.add("GET", "/containers/{name}/top", [&m](const Request& req) {
    return json_response(m.top(req.params.at("name"), req.q("ps_args")).dump());
  });
  router.add("GET", "/containers/{name}/changes", [&m](const Request& req) {
    return json_response(m.changes(req.params.at("name")).dump());
  });
  router.add("GET", "/containers/{name}/export", [&m](const Request& req) {
    std::string id = m.get(req.params.at("name")).id;  // 404 before the 200 goes out
    Response r;
    r.content_type = "application/x-tar";
    r.stream = [&m, id](const ChunkWriter& write) {
      try {
        m.export_rootfs(id, [&](std::string_view data) {
          if (!write(data)) throw Error("client went away");
        });
      } catch (const std::exception& e) {
        log::warn("export " + id + ": " + e.what());
      }
    };
    return r;
  });
  router.add("POST", "/containers/{name}/update", [&m](const Request& req) {
    json body = req.body.empty() ? json::object() : json::parse(req.body);
    std::vector<std::string> warnings;
    check_fields("HostConfig", body, warnings);
    std::string id = m.get(req.params.at("name")).id;  // a missing container is a 404
    auto update = decode_resource_update(body);
    if (!update.empty())
      for (auto& w : m.update_resources(id, update)) warnings.push_back(w);
    if (body.contains("RestartPolicy") && !body["RestartPolicy"].is_null())
      m.update_restart_policy(id, body["RestartPolicy"]);
    return json_response(json{{"Warnings", warnings}}.dump());
  });
  router.add("POST", "/containers/prune", [&s](const Request& req) {
    auto f = Filters::parse(req.q("filters"), {"until", "label", "label!"});
    std::optional<int64_t> until;
    if (f.has("until")) {
      until = parse_api_time(f.get("until").back());
      if (!until) throw InvalidArgument("invalid filter 'until=" + f.get("until").back() + "'");
    }
    json deleted = json::array();
    int64_t reclaimed = 0;
    for (auto& c : s.containers().list()) {
      if (c.running() || c.state.status == State::kRestarting) continue;
      if (until && parse_rfc3339(c.created).value_or(0) > *until) continue;
      std::map<std::string, std::string> labels;
      if (c.config.contains("Labels") && c.config["Labels"].is_object())
        for (auto& [k, v] : c.config["Labels"].items())
          if (v.is_string()) labels[k] = v.get<std::string>();
      if (!f.match_labels("label", labels) || !f.match_no_labels("label!", labels)) continue;
      try {
        // As dockerd: what is reclaimed is the writable layers of the containers removed.
        int64_t size = 0;
        try {
          size = s.containers().size_rw(c.id);
        } catch (const std::exception&) {
        }
        s.containers().remove(c.id, false);
        deleted.push_back(c.id);
        reclaimed += size;
      } catch (const std::exception&) {
      }
    }
    s.events().publish({"container", "prune", "", {{"reclaimed", std::to_string(reclaimed)}}, 0});
    return json_response(json{
        {"ContainersDeleted", deleted.empty() ? json(nullptr) : deleted},
        {"SpaceReclaimed",
         reclaimed}}.dump());
  });
}

}  // namespace berth::api
