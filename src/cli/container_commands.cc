// The container commands that are one API call per container (stop, kill, rm, ...) and the
// small read-only ones (port, diff, top, export, inspect), plus commit, update and prune.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/container_opts.h"
#include "cli/formatter.h"
#include "cli/port_spec.h"
#include "cli/tabwriter.h"
#include "cli/template.h"
#include "cli/units.h"
#include "oci/reference.h"

namespace berth::cli {

using nlohmann::json;

namespace {

std::string container_path(const std::string& name, const std::string& action = "") {
  return "/containers/" + path_escape(name) + (action.empty() ? "" : "/" + action);
}

// docker's pattern for commands over several containers: each success prints its name as
// given, failures are printed after all were tried, and any failure makes the status 1.
int for_each_container(const Args& names, const std::function<void(const std::string&)>& op) {
  std::vector<std::string> errors;
  for (const auto& name : names) {
    try {
      op(name);
    } catch (const Error& e) {
      errors.push_back(e.what());
    }
  }
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  return errors.empty() ? 0 : 1;
}

void register_simple(Registry& r) {
  Context& ctx = r.context();
  struct StopOptions {
    std::string signal;
    int timeout = 0;
    CLI::Option* timeout_opt = nullptr;
  };
  for (const char* verb : {"stop", "restart"}) {
    std::string v = verb;
    r.add({.paths = {"container " + v, v},
           .usage = "[OPTIONS] CONTAINER [CONTAINER...]",
           .summary = v == "stop" ? "Stop one or more running containers"
                                  : "Restart one or more containers",
           .min_args = 1},
          [&ctx, v](CLI::App& app, const Args& args) -> Run {
            auto o = std::make_shared<StopOptions>();
            app.add_option("-s,--signal", o->signal, "Signal to send to the container")
                ->type_name("string");
            o->timeout_opt = app.add_option("-t,--timeout,--time", o->timeout,
                                            "Seconds to wait before killing the container")
                                 ->type_name("int");
            return [&ctx, o, &args, v] {
              Query q;
              if (o->timeout_opt->count() > 0) q.add("t", std::to_string(o->timeout));
              if (!o->signal.empty()) q.add("signal", o->signal);
              return for_each_container(args, [&](const std::string& name) {
                ctx.api().call("POST", container_path(name, v), q);
                print_out(name + "\n");
              });
            };
          });
  }
  r.add(
      {.paths = {"container kill", "kill"},
       .usage = "[OPTIONS] CONTAINER [CONTAINER...]",
       .summary = "Kill one or more running containers",
       .min_args = 1},
      [&ctx](CLI::App& app, const Args& args) -> Run {
        auto sig = std::make_shared<std::string>();
        app.add_option("-s,--signal", *sig, "Signal to send to the container")->type_name("string");
        return [&ctx, sig, &args] {
          Query q;
          if (!sig->empty()) q.add("signal", *sig);
          return for_each_container(args, [&](const std::string& name) {
            ctx.api().call("POST", container_path(name, "kill"), q);
            print_out(name + "\n");
          });
        };
      });
  for (const char* verb : {"pause", "unpause"}) {
    std::string v = verb;
    r.add({.paths = {"container " + v, v},
           .usage = "CONTAINER [CONTAINER...]",
           .summary = v == "pause" ? "Pause all processes within one or more containers"
                                   : "Unpause all processes within one or more containers",
           .min_args = 1},
          [&ctx, v](CLI::App&, const Args& args) -> Run {
            return [&ctx, &args, v] {
              return for_each_container(args, [&](const std::string& name) {
                ctx.api().call("POST", container_path(name, v));
                print_out(name + "\n");
              });
            };
          });
  }
  r.add({.paths = {"container wait", "wait"},
         .usage = "CONTAINER [CONTAINER...]",
         .summary = "Block until one or more containers stop, then print their exit codes",
         .min_args = 1},
        [&ctx](CLI::App&, const Args& args) -> Run {
          return [&ctx, &args] {
            return for_each_container(args, [&](const std::string& name) {
              json res = ctx.api().call("POST", container_path(name, "wait"));
              if (res.contains("Error") && res["Error"].is_object())
                throw Error(res["Error"].value("Message", std::string()));
              print_out(std::to_string(res.value("StatusCode", 0)) + "\n");
            });
          };
        });
  struct RmOptions {
    bool force = false, volumes = false, link = false;
  };
  r.add({.paths = {"container rm", "container remove", "rm"},
         .usage = "[OPTIONS] CONTAINER [CONTAINER...]",
         .summary = "Remove one or more containers",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<RmOptions>();
          app.add_flag("-f,--force", o->force,
                       "Force the removal of a running container (uses SIGKILL)");
          app.add_flag("-l,--link", o->link, "Remove the specified link");
          app.add_flag("-v,--volumes", o->volumes,
                       "Remove anonymous volumes associated with the container");
          return [&ctx, o, &args] {
            Query q;
            q.flag("v", o->volumes).flag("link", o->link).flag("force", o->force);
            return for_each_container(args, [&](const std::string& raw) {
              std::string name = raw;
              while (!name.empty() && name.front() == '/') name.erase(0, 1);
              while (!name.empty() && name.back() == '/') name.pop_back();
              if (name.empty()) throw Error("Container name cannot be empty");
              try {
                ctx.api().call("DELETE", container_path(name), q);
              } catch (const ApiError& e) {
                // rm -f of something already gone is reported, not failed.
                if (!o->force || e.status() != 404) throw;
                std::fprintf(stderr, "%s\n", e.what());
                return;
              }
              print_out(raw + "\n");
            });
          };
        });
  r.add({.paths = {"container rename", "rename"},
         .usage = "CONTAINER NEW_NAME",
         .summary = "Rename a container",
         .min_args = 2,
         .max_args = 2},
        [&ctx](CLI::App&, const Args& args) -> Run {
          return [&ctx, &args] {
            std::string from = trim(args[0]), to = trim(args[1]);
            if (from.empty() || to.empty())
              throw Error("Error: Neither old nor new names may be empty");
            try {
              ctx.api().call("POST", container_path(from, "rename"), Query().add("name", to));
            } catch (const ApiError& e) {
              std::fprintf(stderr, "%s\n", e.what());
              throw Error("Error: failed to rename container named " + from);
            }
            return 0;
          };
        });
}

void register_update(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string restart, memory, cpus, memory_swap, memory_reservation, cpuset_cpus, cpuset_mems;
    int64_t cpu_shares = 0, pids_limit = 0, cpu_period = 0, cpu_quota = 0, rt_period = 0,
            rt_runtime = 0, blkio_weight = 0;
    CLI::Option *shares_opt = nullptr, *pids_opt = nullptr;
  };
  r.add({.paths = {"container update", "update"},
         .usage = "[OPTIONS] CONTAINER [CONTAINER...]",
         .summary = "Update configuration of one or more containers",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          o->shares_opt =
              app.add_option("-c,--cpu-shares", o->cpu_shares, "CPU shares (relative weight)")
                  ->type_name("int");
          app.add_option("--cpus", o->cpus, "Number of CPUs")->type_name("decimal");
          app.add_option("-m,--memory", o->memory, "Memory limit")->type_name("bytes");
          o->pids_opt = app.add_option("--pids-limit", o->pids_limit,
                                       "Tune container pids limit (set -1 for unlimited)")
                            ->type_name("int");
          app.add_option("--restart", o->restart, "Restart policy to apply when a container exits")
              ->type_name("string");
          app.add_option("--memory-swap", o->memory_swap,
                         "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
              ->type_name("bytes");
          app.add_option("--memory-reservation", o->memory_reservation, "Memory soft limit")
              ->type_name("bytes");
          app.add_option("--cpu-period", o->cpu_period,
                         "Limit CPU CFS (Completely Fair Scheduler) period")
              ->type_name("int");
          app.add_option("--cpu-quota", o->cpu_quota,
                         "Limit CPU CFS (Completely Fair Scheduler) quota")
              ->type_name("int");
          app.add_option("--cpu-rt-period", o->rt_period,
                         "Limit the CPU real-time period in microseconds")
              ->type_name("int");
          app.add_option("--cpu-rt-runtime", o->rt_runtime,
                         "Limit the CPU real-time runtime in microseconds")
              ->type_name("int");
          app.add_option("--cpuset-cpus", o->cpuset_cpus,
                         "CPUs in which to allow execution (0-3, 0,1)")
              ->type_name("string");
          app.add_option("--cpuset-mems", o->cpuset_mems,
                         "MEMs in which to allow execution (0-3, 0,1)")
              ->type_name("string");
          app.add_option("--blkio-weight", o->blkio_weight,
                         "Block IO (relative weight), between 10 and 1000, or 0 to disable")
              ->type_name("uint16");
          return [&ctx, o, &args] {
            json body = json::object();
            if (!o->restart.empty()) body["RestartPolicy"] = parse_restart_policy(o->restart);
            if (!o->memory.empty()) body["Memory"] = ram_in_bytes(o->memory);
            if (!o->cpus.empty()) body["NanoCpus"] = nano_cpus(o->cpus);
            if (o->shares_opt->count()) body["CpuShares"] = o->cpu_shares;
            if (o->pids_opt->count()) body["PidsLimit"] = o->pids_limit;
            if (!o->memory_swap.empty())
              body["MemorySwap"] = o->memory_swap == "-1" ? -1 : ram_in_bytes(o->memory_swap);
            if (!o->memory_reservation.empty())
              body["MemoryReservation"] = ram_in_bytes(o->memory_reservation);
            if (o->cpu_period) body["CpuPeriod"] = o->cpu_period;
            if (o->cpu_quota) body["CpuQuota"] = o->cpu_quota;
            if (o->rt_period) body["CpuRealtimePeriod"] = o->rt_period;
            if (o->rt_runtime) body["CpuRealtimeRuntime"] = o->rt_runtime;
            if (!o->cpuset_cpus.empty()) body["CpusetCpus"] = o->cpuset_cpus;
            if (!o->cpuset_mems.empty()) body["CpusetMems"] = o->cpuset_mems;
            if (o->blkio_weight) body["BlkioWeight"] = o->blkio_weight;
            if (body.empty())
              throw Error("you must provide one or more flags when using this command");
            std::vector<std::string> warnings;
            int status = for_each_container(args, [&](const std::string& name) {
              json res = ctx.api().call("POST", container_path(name, "update"), {}, &body);
              print_out(name + "\n");
              if (res.is_object() && res.contains("Warnings") && res["Warnings"].is_array())
                for (const auto& w : res["Warnings"]) warnings.push_back(w.get<std::string>());
            });
            for (const auto& w : warnings) print_out(w + "\n");
            return status;
          };
        });
}

void register_port(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container port", "port"},
         .usage = "CONTAINER [PRIVATE_PORT[/PROTO]]",
         .summary = "List port mappings or a specific mapping for the container",
         .min_args = 1,
         .max_args = 2},
        [&ctx](CLI::App&, const Args& args) -> Run {
          return [&ctx, &args] {
            json c = ctx.api().call("GET", container_path(args[0], "json"));
            std::string want;
            if (args.size() == 2) {
              size_t slash = args[1].find('/');
              std::string port = args[1].substr(0, slash);
              std::string proto = slash == std::string::npos ? "" : args[1].substr(slash + 1);
              try {
                parse_port_number(port);
              } catch (const Error& e) {
                throw Error("Error: invalid port (" + port + "): " + e.what());
              }
              want = port + "/" + (proto.empty() ? "tcp" : proto);
            }
            json ports = c["NetworkSettings"].value("Ports", json::object());
            if (!ports.is_object()) ports = json::object();
            std::vector<std::string> lines;
            if (!want.empty()) {
              if (!ports.contains(want) || !ports[want].is_array() || ports[want].empty())
                throw Error("Error: No public port '" + args[1] + "' published for " + args[0]);
              for (const auto& b : ports[want])
                lines.push_back(join_host_port(b.value("HostIp", ""), b.value("HostPort", "")));
            } else {
              for (auto& [key, bindings] : ports.items())
                if (bindings.is_array())
                  for (const auto& b : bindings)
                    lines.push_back(key + " -> " +
                                    join_host_port(b.value("HostIp", ""), b.value("HostPort", "")));
            }
            std::sort(lines.begin(), lines.end(), natural_less);
            std::string out;
            for (const auto& l : lines) out += l + "\n";
            print_out(out);
            return 0;
          };
        });
}

void register_diff(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container diff", "diff"},
         .usage = "CONTAINER",
         .summary = "Inspect changes to files or directories on a container's filesystem",
         .min_args = 1,
         .max_args = 1},
        [&ctx](CLI::App&, const Args& args) -> Run {
          return [&ctx, &args] {
            json changes = ctx.api().call("GET", container_path(args[0], "changes"));
            std::string out;
            static const char* kKinds[] = {"C", "A", "D"};
            if (changes.is_array())
              for (const auto& ch : changes) {
                int kind = ch.value("Kind", 0);
                out += std::string(kind >= 0 && kind <= 2 ? kKinds[kind] : "?") + " " +
                       ch.value("Path", std::string()) + "\n";
              }
            print_out(out);
            return 0;
          };
        });
}

void register_export(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container export", "export"},
         .usage = "[OPTIONS] CONTAINER",
         .summary = "Export a container's filesystem as a tar archive",
         .min_args = 1,
         .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto output = std::make_shared<std::string>();
          app.add_option("-o,--output", *output, "Write to a file, instead of STDOUT")
              ->type_name("string");
          return [&ctx, output, &args] {
            if (output->empty() && stdout_is_terminal())
              throw Error("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            UniqueFd file;
            int fd = STDOUT_FILENO;
            if (!output->empty()) {
              file = open_or_throw(*output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
              fd = file.get();
            }
            ctx.api().stream({}, container_path(args[0], "export"), {},
                             [fd](std::string_view d) { write_all(fd, d); });
            return 0;
          };
        });
}

void register_commit(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string author, message;
    std::vector<std::string> changes;
    bool pause = true;
  };
  r.add({.paths = {"container commit", "commit"},
         .usage = "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
         .summary = "Create a new image from a container's changes",
         .min_args = 1,
         .max_args = 2},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-a,--author", o->author,
                         "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")")
              ->type_name("string");
          add_list(app, "-c,--change", o->changes,
                   "Apply Dockerfile instruction to the created image");
          app.add_option("-m,--message", o->message, "Commit message")->type_name("string");
          app.add_flag("-p,--pause", o->pause, "Pause container during commit (default true)");
          return [&ctx, o, &args] {
            Query q;
            q.add("container", args[0]);
            if (args.size() == 2) {
              oci::Reference ref = oci::parse_reference(args[1]);
              if (!ref.digest.empty())
                throw Error("refusing to create a tag with a digest reference");
              q.add("repo", ref.familiar_name());
              if (!ref.tag.empty()) q.add("tag", ref.tag);
            }
            q.add("comment", o->message).add("author", o->author);
            for (const auto& c : o->changes) q.add("changes", c);
            q.add("pause", o->pause ? "1" : "0");
            // No config body, as docker sends none: the image keeps the container's whole
            // config (an empty one would keep only what dockerd merges back in).
            json res = ctx.api().call("POST", "/commit", q);
            print_out(res.value("Id", std::string()) + "\n");
            return 0;
          };
        });
}

void register_top(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container top", "top"},
         .usage = "CONTAINER [ps OPTIONS]",
         .summary = "Display the running processes of a container",
         .min_args = 1,
         .interspersed = false},
        [&ctx](CLI::App&, const Args& args) -> Run {
          return [&ctx, &args] {
            Query q;
            if (args.size() > 1) {
              std::string ps_args;
              for (size_t i = 1; i < args.size(); ++i) ps_args += (i > 1 ? " " : "") + args[i];
              q.add("ps_args", ps_args);
            }
            json top = ctx.api().call("GET", container_path(args[0], "top"), q);
            std::string text;
            auto row = [&](const json& cells) {
              std::string line;
              for (const auto& c : cells) line += (line.empty() ? "" : "\t") + go_sprint(c);
              text += line + "\n";
            };
            row(top.value("Titles", json::array()));
            for (const auto& p : top.value("Processes", json::array())) row(p);
            print_out(tabwrite(text, {.minwidth = 20, .padding = 3}));
            return 0;
          };
        });
}

void register_prune(Registry& r) {
  add_prune_command(r, {.path = "container prune",
                        .summary = "Remove all stopped containers",
                        .warning = "WARNING! This will remove all stopped containers.",
                        .endpoint = "/containers/prune",
                        .deleted_key = "ContainersDeleted",
                        .heading = "Deleted Containers:",
                        .reports_space = true});
}

void register_inspect(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string format;
    bool size = false;
  };
  r.add({.paths = {"container inspect"},
         .usage = "[OPTIONS] CONTAINER [CONTAINER...]",
         .summary = "Display detailed information on one or more containers",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-f,--format", o->format,
                         "Format output using a custom template:\n"
                         "'json':             Print in JSON format\n"
                         "'TEMPLATE':         Print output using the given Go template")
              ->type_name("string");
          app.add_flag("-s,--size", o->size, "Display total file sizes");
          return [&ctx, o, &args] {
            return inspect_objects(ctx, args, o->format, "container", o->size);
          };
        });
}

}  // namespace

void register_container_commands(Registry& r) {
  register_simple(r);
  register_update(r);
  register_port(r);
  register_diff(r);
  register_export(r);
  register_commit(r);
  register_top(r);
  register_prune(r);
  register_inspect(r);
}

}  // namespace berth::cli
