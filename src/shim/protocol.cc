#include "shim/protocol.h"

#include "base/error.h"

namespace berth::shim {

using nlohmann::json;

json ExitStatus::to_json() const {
  return {{"code", code},
          {"finished_at", finished_at},
          {"oom_killed", oom_killed},
          {"oom_kills", oom_kills}};
}

ExitStatus ExitStatus::from_json(const json& j) {
  ExitStatus e;
  e.code = j.value("code", 255);
  e.finished_at = j.value("finished_at", "");
  e.oom_killed = j.value("oom_killed", false);
  e.oom_kills = j.value("oom_kills", uint64_t{e.oom_killed ? 1u : 0u});
  return e;
}

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

template <class T>
T field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw InvalidArgument(std::string("shim request: ") + name + " is missing");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw InvalidArgument(std::string("shim request: ") + name + " has the wrong type");
  }
}

template <class T>
T optional_field(const json& j, const char* name, T fallback) {
  return j.contains(name) ? field<T>(j, name) : fallback;
}

}  // namespace

std::string encode(const Request& r) {
  json j = std::visit(Overloaded{
                          [](const StartRequest&) {
                            return json{{"op", "start"}};
                          },
                          [](const AttachRequest& a) {
                            return json{{"op", "attach"},
                                        {"stdin", a.stdin},
                                        {"stdout", a.stdout},
                                        {"stderr", a.stderr},
                                        {"detach_keys", a.detach_keys}};
                          },
                          [](const ResizeRequest& x) {
                            return json{{"op", "resize"}, {"height", x.height}, {"width", x.width}};
                          },
                          [](const KillRequest& k) {
                            return json{{"op", "kill"}, {"signal", k.signal}, {"all", k.all}};
                          },
                          [](const WaitRequest&) {
                            return json{{"op", "wait"}};
                          },
                          [](const StateRequest&) {
                            return json{{"op", "state"}};
                          },
                          [](const ExecRequest& x) {
                            json j = {{"op", "exec"},
                                      {"exec_id", x.exec_id},
                                      {"process", oci::write_process(x.process)},
                                      {"stdin", x.stdin},
                                      {"stdout", x.stdout},
                                      {"stderr", x.stderr},
                                      {"detach_keys", x.detach_keys}};
                            if (x.raw) j["raw"] = *x.raw;
                            return j;
                          },
                          [](const ExecWaitRequest& x) {
                            return json{{"op", "exec_wait"}, {"exec_id", x.exec_id}};
                          },
                          [](const ExecResizeRequest& x) {
                            return json{{"op", "exec_resize"},
                                        {"exec_id", x.exec_id},
                                        {"height", x.height},
                                        {"width", x.width}};
                          },
                      },
                      r);
  return j.dump();
}

Request decode_request(const json& j) {
  if (!j.is_object()) throw InvalidArgument("shim request: not a JSON object");
  auto op = field<std::string>(j, "op");
  if (op == "start") return StartRequest{};
  if (op == "attach")
    return AttachRequest{optional_field(j, "stdin", false), optional_field(j, "stdout", false),
                         optional_field(j, "stderr", false),
                         optional_field(j, "detach_keys", std::string())};
  if (op == "resize")
    return ResizeRequest{field<unsigned>(j, "height"), field<unsigned>(j, "width")};
  if (op == "kill") return KillRequest{field<int>(j, "signal"), optional_field(j, "all", false)};
  if (op == "wait") return WaitRequest{};
  if (op == "state") return StateRequest{};
  if (op == "exec") {
    ExecRequest x;
    x.exec_id = field<std::string>(j, "exec_id");
    x.process = oci::parse_process(field<json>(j, "process"));
    x.stdin = optional_field(j, "stdin", false);
    x.stdout = optional_field(j, "stdout", false);
    x.stderr = optional_field(j, "stderr", false);
    x.detach_keys = optional_field(j, "detach_keys", std::string());
    if (j.contains("raw")) x.raw = field<bool>(j, "raw");
    return x;
  }
  if (op == "exec_wait") return ExecWaitRequest{field<std::string>(j, "exec_id")};
  if (op == "exec_resize")
    return ExecResizeRequest{field<std::string>(j, "exec_id"), field<unsigned>(j, "height"),
                             field<unsigned>(j, "width")};
  throw InvalidArgument("unknown op: " + op);
}

json ok_reply() {
  return {{"ok", true}};
}
json started_reply(const Started& s) {
  return {{"ok", true}, {"pid", s.pid}};
}
json state_reply(const ShimState& s) {
  return {{"pid", s.pid}, {"running", s.running}};
}
json exit_reply(const ExitStatus& e) {
  return {{"exit", e.to_json()}};
}
json exec_exit_reply(int code) {
  return {{"exit", {{"code", code}}}};
}
json error_reply(const std::string& message) {
  return {{"error", message}};
}

Started started_of(const json& reply) {
  return {reply.value("pid", 0)};
}
ShimState state_of(const json& reply) {
  return {reply.value("pid", 0), reply.value("running", false)};
}
ExitStatus exit_of(const json& reply) {
  return ExitStatus::from_json(reply.at("exit"));
}
int exec_exit_of(const json& reply) {
  return reply.at("exit").at("code").get<int>();
}

}  // namespace berth::shim
