// create, run, start, attach and exec: the commands that make or join a container's process.
#include <unistd.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/container_attach.h"
#include "cli/container_opts.h"
#include "cli/json_message.h"
#include "cli/registry_commands.h"
#include "cli/session.h"
#include "cli/terminal.h"
#include "oci/reference.h"

namespace berth::cli {

using nlohmann::json;

namespace {

// docker's pullImage for run/create: progress and errors on stderr.
void pull_image(Context& ctx, const std::string& image, const std::string& platform) {
  oci::Reference ref = oci::parse_reference(image);
  Query q;
  q.add("fromImage", ref.name());
  q.add("tag", !ref.digest.empty() ? ref.digest : ref.tag.empty() ? "latest" : ref.tag);
  if (!platform.empty()) q.add("platform", platform);
  HttpRequest req;
  req.method = "POST";
  req.headers.emplace_back("X-Registry-Auth", registry_auth_header(ctx, ref.domain));
  JsonMessagePrinter printer(stderr, ::isatty(STDERR_FILENO) == 1);
  JsonSplitter splitter([&](const json& m) { printer.print(m); });
  ctx.api().stream(req, "/images/create", q, [&](std::string_view d) { splitter.feed(d); });
  printer.finish();
}

// "busybox" -> "busybox:latest", as docker names the image it could not find.
std::string tagged_name(const std::string& image) {
  oci::Reference ref = oci::parse_reference(image);
  std::string name = ref.familiar_name();
  if (!ref.digest.empty()) return name + "@" + ref.digest;
  return name + ":" + (ref.tag.empty() ? "latest" : ref.tag);
}

// POST /containers/create, pulling the image first or when it is missing per --pull.
std::string create_container(Context& ctx, const ContainerOptions& o, const json& body,
                             const std::string& image) {
  if (o.pull != "always" && o.pull != "missing" && o.pull != "never")
    throw FlagError("invalid pull option: '" + o.pull +
                    "': must be one of \"always\", \"missing\" or \"never\"");
  Query q;
  if (!o.name.empty()) q.add("name", o.name);
  if (!o.platform.empty()) q.add("platform", o.platform);
  if (o.pull == "always") pull_image(ctx, image, o.platform);
  json resp;
  try {
    resp = ctx.api().call("POST", "/containers/create", q, &body);
  } catch (const ApiError& e) {
    if (e.status() != 404 || o.pull != "missing" ||
        e.message().find("No such image") == std::string::npos)
      throw;
    std::fprintf(stderr, "Unable to find image '%s' locally\n", tagged_name(image).c_str());
    pull_image(ctx, image, o.platform);
    resp = ctx.api().call("POST", "/containers/create", q, &body);
  }
  if (resp.contains("Warnings") && resp["Warnings"].is_array())
    for (const auto& w : resp["Warnings"])
      if (w.is_string()) std::fprintf(stderr, "WARNING: %s\n", w.get<std::string>().c_str());
  return resp.value("Id", std::string());
}

// docker reports a value that a flag's validator refused with the command's usage, and other
// bad flag combinations as "docker: <error>"; both exit 125.
int report_flag_error(const std::string& command, const FlagError& e) {
  if (dynamic_cast<const FlagValueError*>(&e)) {
    std::fprintf(stderr,
                 "%s\n\nUsage:  berth %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth %s "
                 "--help' for more information\n",
                 e.what(), command.c_str(), command.c_str());
  } else {
    report_run_error(command, e.what());
  }
  return 125;
}

struct RunOptions {
  ContainerOptions c;
  bool detach = false, sig_proxy = true;
  std::string detach_keys;
};

int run_container(Context& ctx, const RunOptions& o, const Args& args) {
  json body;
  try {
    body = create_body(o.c, args[0], Args(args.begin() + 1, args.end()));
    if (o.detach && !o.c.attach.empty()) throw FlagError("Conflicting options: -a and -d");
  } catch (const FlagError& e) {
    return report_flag_error("run", e);
  }
  if (o.detach) {
    body["AttachStdin"] = body["AttachStdout"] = body["AttachStderr"] = false;
    body["StdinOnce"] = false;
  } else if (body["Tty"] == true && body["AttachStdin"] == true && !::isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "the input device is not a TTY\n");
    return 1;
  }
  std::string id;
  try {
    id = create_container(ctx, o.c, body, args[0]);
  } catch (const Error& e) {
    report_run_error("run", e.what());
    return start_error_status(e.what());
  }
  if (o.detach) {
    try {
      ctx.api().call("POST", "/containers/" + id + "/start");
    } catch (const Error& e) {
      report_run_error("run", e.what());
      return start_error_status(e.what());
    }
    print_out(id + "\n");
    return 0;
  }
  AttachPlan p{.id = id,
               .tty = body["Tty"] == true,
               .in = body["AttachStdin"] == true,
               .out = body["AttachStdout"] == true,
               .err = body["AttachStderr"] == true,
               .sig_proxy = o.sig_proxy,
               .detach_keys = o.detach_keys,
               .wait_condition = o.c.rm ? "removed" : "next-exit",
               .start = true,
               .command = "run"};
  if (!p.out && !p.err) print_out(id + "\n");
  return attach_and_wait(ctx, p);
}

void register_create_run(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container create", "create"},
         .usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]",
         .summary = "Create a new container",
         .min_args = 1,
         .interspersed = false},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<ContainerOptions>();
          add_container_flags(app, *o);
          return [&ctx, o, &args] {
            json body;
            try {
              body = create_body(*o, args[0], Args(args.begin() + 1, args.end()));
            } catch (const FlagError& e) {
              return report_flag_error("create", e);
            }
            print_out(create_container(ctx, *o, body, args[0]) + "\n");
            return 0;
          };
        });
  r.add({.paths = {"container run", "run"},
         .usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]",
         .summary = "Create and run a new container from an image",
         .min_args = 1,
         .interspersed = false},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<RunOptions>();
          add_container_flags(app, o->c);
          app.add_flag("-d,--detach", o->detach,
                       "Run container in background and print container ID");
          app.add_option("--detach-keys", o->detach_keys,
                         "Override the key sequence for detaching a container")
              ->type_name("string");
          app.add_flag("--sig-proxy", o->sig_proxy,
                       "Proxy received signals to the process (default true)");
          return [&ctx, o, &args] { return run_container(ctx, *o, args); };
        });
}

void register_start(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    bool attach = false, interactive = false;
    std::string detach_keys;
  };
  r.add({.paths = {"container start", "start"},
         .usage = "[OPTIONS] CONTAINER [CONTAINER...]",
         .summary = "Start one or more stopped containers",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_flag("-a,--attach", o->attach, "Attach STDOUT/STDERR and forward signals");
          app.add_option("--detach-keys", o->detach_keys,
                         "Override the key sequence for detaching a container")
              ->type_name("string");
          app.add_flag("-i,--interactive", o->interactive, "Attach container's STDIN");
          return [&ctx, o, &args] {
            if (o->attach || o->interactive) {
              if (args.size() > 1)
                throw Error("you cannot start and attach multiple containers at once");
              json c = ctx.api().call("GET", "/containers/" + path_escape(args[0]) + "/json");
              const json& cfg = c["Config"];
              AttachPlan p{.id = c.value("Id", args[0]),
                           .tty = cfg.value("Tty", false),
                           .in = o->interactive && cfg.value("OpenStdin", false),
                           .out = true,
                           .err = true,
                           .sig_proxy = true,
                           .detach_keys = o->detach_keys,
                           .wait_condition =
                               c["HostConfig"].value("AutoRemove", false) ? "removed" : "next-exit",
                           .start = true,
                           .command = "start"};
              return attach_and_wait(ctx, p);
            }
            std::vector<std::string> failed;
            for (const auto& name : args) {
              try {
                ctx.api().call("POST", "/containers/" + path_escape(name) + "/start");
                print_out(name + "\n");
              } catch (const ApiError& e) {
                std::fprintf(stderr, "%s\n", e.what());
                failed.push_back(name);
              }
            }
            if (failed.empty()) return 0;
            std::string list;
            for (const auto& f : failed) list += (list.empty() ? "" : ", ") + f;
            std::fprintf(stderr, "Error: failed to start containers: %s\n", list.c_str());
            return 1;
          };
        });
}

void register_attach(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    bool no_stdin = false, sig_proxy = true;
    std::string detach_keys;
  };
  r.add({.paths = {"container attach", "attach"},
         .usage = "[OPTIONS] CONTAINER",
         .summary = "Attach local standard input, output, and error streams to a running "
                    "container",
         .min_args = 1,
         .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("--detach-keys", o->detach_keys,
                         "Override the key sequence for detaching a container")
              ->type_name("string");
          app.add_flag("--no-stdin", o->no_stdin, "Do not attach STDIN");
          app.add_flag("--sig-proxy", o->sig_proxy,
                       "Proxy all received signals to the process (default true)");
          return [&ctx, o, &args] {
            json c = ctx.api().call("GET", "/containers/" + path_escape(args[0]) + "/json");
            const json& state = c["State"];
            if (!state.value("Running", false))
              throw Error("You cannot attach to a stopped container, start it first");
            if (state.value("Paused", false))
              throw Error("You cannot attach to a paused container, unpause it first");
            if (state.value("Restarting", false))
              throw Error("You cannot attach to a restarting container, wait until it is running");
            const json& cfg = c["Config"];
            bool tty = cfg.value("Tty", false);
            bool in = !o->no_stdin && cfg.value("OpenStdin", false);
            if (in && tty && !::isatty(STDIN_FILENO)) throw Error("the input device is not a TTY");
            AttachPlan p{.id = c.value("Id", args[0]),
                         .tty = tty,
                         .in = in,
                         .out = true,
                         .err = true,
                         .sig_proxy = o->sig_proxy,
                         .detach_keys = o->detach_keys,
                         .wait_condition = "",
                         .start = false,
                         .command = "attach"};
            return attach_and_wait(ctx, p);
          };
        });
}

struct ExecOptions {
  bool detach = false, interactive = false, tty = false, privileged = false;
  std::vector<std::string> env, env_file;
  std::string user, workdir, detach_keys;
};

int exec_in(Context& ctx, const ExecOptions& o, const Args& args) {
  ApiClient& api = ctx.api();
  // Fails early with docker's "No such container" when the container does not exist.
  api.call("GET", "/containers/" + path_escape(args[0]) + "/json");
  json env = json::array();
  for (const auto& f : o.env_file)
    for (auto& kv : read_kv_file(f, true)) env.push_back(kv);
  for (const auto& e : o.env) env.push_back(env_value(e));
  bool in = o.interactive && !o.detach;
  if (!o.detach && in && o.tty && !::isatty(STDIN_FILENO))
    throw Error("the input device is not a TTY");
  json body = {{"User", o.user},
               {"Privileged", o.privileged},
               {"Tty", o.tty},
               {"AttachStdin", in},
               {"AttachStdout", !o.detach},
               {"AttachStderr", !o.detach},
               {"Env", env},
               {"WorkingDir", o.workdir},
               {"Cmd", Args(args.begin() + 1, args.end())}};
  if (!o.detach_keys.empty()) body["DetachKeys"] = o.detach_keys;
  json created = api.call("POST", "/containers/" + path_escape(args[0]) + "/exec", {}, &body);
  std::string id = created.value("Id", std::string());
  std::string base = "/exec/" + path_escape(id);
  if (o.detach) {
    json start = {{"Detach", true}, {"Tty", o.tty}};
    api.call("POST", base + "/start", {}, &start);
    return 0;
  }
  std::vector<int> sigs;
  if (o.tty) sigs.push_back(SIGWINCH);
  std::optional<SignalWatcher> watcher;
  if (!sigs.empty()) watcher.emplace(sigs);
  std::string keys = parse_detach_keys(o.detach_keys.empty() ? kDefaultDetachKeys : o.detach_keys);
  json start = {{"Detach", false}, {"Tty", o.tty}};
  HijackedConn conn = hijack(api, base + "/start", {}, &start);
  SessionResult res;
  {
    std::optional<RawTerminal> raw;
    if (o.tty && in && ::isatty(STDIN_FILENO)) raw.emplace(STDIN_FILENO);
    if (o.tty && ::isatty(STDOUT_FILENO)) resize_tty(api, base + "/resize");
    SessionOptions so{.tty = o.tty,
                      .stdin_attached = in,
                      .detach_keys = keys,
                      .resize_path = o.tty ? base + "/resize" : "",
                      .kill_path = ""};
    res = run_session(api, conn, so, watcher ? &*watcher : nullptr);
  }
  if (res.detached) return 0;
  if (!res.error.empty()) std::fprintf(stderr, "%s\n", res.error.c_str());
  json inspect = api.call("GET", base + "/json");
  return inspect.value("ExitCode", 0);
}

void register_exec(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container exec", "exec"},
         .usage = "[OPTIONS] CONTAINER COMMAND [ARG...]",
         .summary = "Execute a command in a running container",
         .min_args = 2,
         .interspersed = false},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<ExecOptions>();
          app.add_flag("-d,--detach", o->detach, "Detached mode: run command in the background");
          app.add_option("--detach-keys", o->detach_keys,
                         "Override the key sequence for detaching a container")
              ->type_name("string");
          add_list(app, "-e,--env", o->env, "Set environment variables");
          add_list(app, "--env-file", o->env_file, "Read in a file of environment variables");
          app.add_flag("-i,--interactive", o->interactive, "Keep STDIN open even if not attached");
          app.add_flag("--privileged", o->privileged, "Give extended privileges to the command");
          app.add_flag("-t,--tty", o->tty, "Allocate a pseudo-TTY");
          app.add_option("-u,--user", o->user,
                         "Username or UID (format: \"<name|uid>[:<group|gid>]\")")
              ->type_name("string");
          app.add_option("-w,--workdir", o->workdir, "Working directory inside the container")
              ->type_name("string");
          return [&ctx, o, &args] { return exec_in(ctx, *o, args); };
        });
}

}  // namespace

void register_container_run(Registry& r) {
  register_create_run(r);
  register_start(r);
  register_attach(r);
  register_exec(r);
}

}  // namespace berth::cli
