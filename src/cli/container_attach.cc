#include "cli/container_attach.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <thread>

#include "cli/session.h"
#include "cli/terminal.h"

namespace berth::cli {

using nlohmann::json;

int start_error_status(const std::string& message) {
  for (const char* s : {"executable file not found", "no such file or directory",
                        "system cannot find the file specified"})
    if (message.find(s) != std::string::npos) return 127;
  for (const char* s : {"permission denied", "is a directory", "cannot execute"})
    if (message.find(s) != std::string::npos) return 126;
  return 125;
}

void report_run_error(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "berth: %s\n\nRun 'berth %s --help' for more information\n", message.c_str(),
               command.c_str());
}

namespace {

// The wait request runs on its own thread and connection. Its state is shared so that the
// thread may outlive the caller when the user detaches: it is then left blocked until exit.
struct WaitState {
  std::promise<void> head;
  std::promise<json> result;
  bool head_set = false;
};

std::shared_future<json> start_wait(ApiClient& api, const std::string& id,
                                    const std::string& condition) {
  auto st = std::make_shared<WaitState>();
  std::future<void> head = st->head.get_future();
  std::shared_future<json> result = st->result.get_future().share();
  std::thread([&api, st, id, condition] {
    try {
      Query q;
      if (!condition.empty()) q.add("condition", condition);
      HttpRequest req;
      req.method = "POST";
      std::string body;
      api.stream(
          req, "/containers/" + path_escape(id) + "/wait", q,
          [&](std::string_view d) { body.append(d); },
          [&](const HttpResponse&) {
            st->head_set = true;
            st->head.set_value();
          });
      auto j = json::parse(body, nullptr, false);
      st->result.set_value(j.is_discarded() ? json::object() : j);
    } catch (...) {
      st->result.set_exception(std::current_exception());
    }
    if (!st->head_set) st->head.set_value();
  }).detach();
  // dockerd answers the head of a wait as soon as the waiter is registered; starting before
  // that could miss a fast exit. A daemon that holds the head back costs at most this bound.
  head.wait_for(std::chrono::seconds(1));
  return result;
}

// The container's status from the wait answer, or docker's 125 with the reason printed.
int wait_status(const std::shared_future<json>& f) {
  try {
    json r = f.get();
    if (r.contains("Error") && r["Error"].is_object() &&
        !r["Error"].value("Message", std::string()).empty()) {
      std::fprintf(stderr, "Error waiting for container: %s\n",
                   r["Error"]["Message"].get<std::string>().c_str());
      return 125;
    }
    return r.value("StatusCode", 0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error waiting for container: %s\n", e.what());
    return 125;
  }
}

}  // namespace

int attach_and_wait(Context& ctx, const AttachPlan& p) {
  ApiClient& api = ctx.api();
  api.version();  // negotiate once, before a second thread shares the client
  std::string base = "/containers/" + path_escape(p.id);

  // Signals are masked before the wait thread exists, so it never receives them.
  std::vector<int> sigs;
  if (p.sig_proxy && !p.tty) sigs = proxied_signals();
  if (p.tty) sigs.push_back(SIGWINCH);
  std::optional<SignalWatcher> watcher;
  if (!sigs.empty()) watcher.emplace(sigs);

  std::string keys = parse_detach_keys(p.detach_keys.empty() ? kDefaultDetachKeys : p.detach_keys);
  std::optional<HijackedConn> conn;
  if (p.in || p.out || p.err) {
    Query q;
    q.add("stream", "1").flag("stdin", p.in).flag("stdout", p.out).flag("stderr", p.err);
    if (!p.detach_keys.empty()) q.add("detachKeys", p.detach_keys);
    conn = hijack(api, base + "/attach", q, nullptr);
  }
  std::shared_future<json> waited = start_wait(api, p.id, p.wait_condition);

  std::optional<RawTerminal> raw;
  if (p.tty && p.in && ::isatty(STDIN_FILENO)) raw.emplace(STDIN_FILENO);
  if (p.start) {
    try {
      api.call("POST", base + "/start");
    } catch (const Error& e) {
      raw.reset();
      if (p.command == std::string("start")) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
      }
      report_run_error(p.command, e.what());
      return start_error_status(e.what());
    }
  }
  if (p.tty && ::isatty(STDOUT_FILENO)) resize_tty(api, base + "/resize");
  if (conn) {
    SessionOptions so;
    so.tty = p.tty;
    so.stdin_attached = p.in;
    so.detach_keys = keys;
    so.resize_path = p.tty ? base + "/resize" : "";
    so.kill_path = p.sig_proxy && !p.tty ? base + "/kill" : "";
    SessionResult r = run_session(api, *conn, so, watcher ? &*watcher : nullptr);
    raw.reset();
    if (r.detached) {
      if (p.command == std::string("attach")) {
        std::fprintf(stderr, "read escape sequence\n");
        return 1;
      }
      return 0;
    }
    if (!r.error.empty()) std::fprintf(stderr, "%s\n", r.error.c_str());
  }
  return wait_status(waited);
}

}  // namespace berth::cli
