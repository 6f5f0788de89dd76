#include "cli/container_opts.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <set>

#include "base/fs.h"
#include "client/client.h"

namespace berth::cli {

using nlohmann::json;

namespace {

[[noreturn]] void bad_value(const std::string& value, const std::string& flag,
                            const std::string& why) {
  throw FlagValueError(value, flag, why);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool parse_int64(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' || s[0] == '+' ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t j = i; j < s.size(); ++j)
    if (!std::isdigit(static_cast<unsigned char>(s[j]))) return false;
  errno = 0;
  out = std::strtoll(s.c_str(), nullptr, 10);
  return errno == 0;
}

// "k=v" -> {k: v}, "k" -> {k: ""}, as docker's ConvertKVStringsToMap.
void put_kv(json& map, const std::string& kv) {
  size_t eq = kv.find('=');
  map[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
}

void parse_volume(const std::string& spec, json& binds, json& volumes) {
  std::vector<std::string> parts = split(spec, ':');
  if (parts.size() > 3 || spec.empty() || parts.back().empty())
    throw FlagError("invalid volume specification: '" + spec + "'");
  if (parts.size() == 1) {
    if (spec[0] != '/')
      throw FlagError("invalid volume specification: '" + spec +
                      "': invalid mount config for type \"volume\": invalid mount path: '" + spec +
                      "' mount path must be absolute");
    volumes[spec] = json::object();
    return;
  }
  if (parts[1].empty() || parts[1][0] != '/')
    throw FlagError("invalid volume specification: '" + spec + "'");
  // A relative host path is made absolute here: the daemon does not know our directory.
  std::string host = parts[0];
  if (host == "." || host.rfind("./", 0) == 0 || host == ".." || host.rfind("../", 0) == 0) {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd)) host = path_join(cwd, host == "." ? "" : host);
    while (host.size() > 1 && host.back() == '/') host.pop_back();
  }
  binds.push_back(host + spec.substr(parts[0].size()));
}

}  // namespace

CLI::Option* add_list(CLI::App& app, const std::string& names, std::vector<std::string>& v,
                      const std::string& help, const std::string& type) {
  return app.add_option(names, v, help)->allow_extra_args(false)->type_name(type);
}

void add_container_flags(CLI::App& app, ContainerOptions& o) {
  add_list(app, "--add-host", o.net.extra_hosts, "Add a custom host-to-IP mapping (host:ip)");
  add_list(app, "-a,--attach", o.attach, "Attach to STDIN, STDOUT or STDERR");
  add_list(app, "--cap-add", o.cap_add, "Add Linux capabilities");
  add_list(app, "--cap-drop", o.cap_drop, "Drop Linux capabilities");
  app.add_option("-c,--cpu-shares", o.cpu_shares, "CPU shares (relative weight)")->type_name("int");
  app.add_option("--cpus", o.cpus, "Number of CPUs")->type_name("decimal");
  add_list(app, "--dns", o.net.dns, "Set custom DNS servers");
  add_list(app, "--dns-option", o.net.dns_options, "Set DNS options");
  add_list(app, "--dns-search", o.net.dns_search, "Set custom DNS search domains");
  app.add_option("--domainname", o.domainname, "Container NIS domain name")->type_name("string");
  o.entrypoint_opt =
      app.add_option("--entrypoint", o.entrypoint, "Overwrite the default ENTRYPOINT of the image")
          ->type_name("string");
  add_list(app, "-e,--env", o.env, "Set environment variables");
  add_list(app, "--env-file", o.env_file, "Read in a file of environment variables");
  add_list(app, "--expose", o.expose, "Expose a port or a range of ports");
  app.add_option("-h,--hostname", o.hostname, "Container host name")->type_name("string");
  o.init_opt =
      app.add_flag("--init", o.init,
                   "Run an init inside the container that forwards signals and reaps processes");
  app.add_flag("-i,--interactive", o.interactive, "Keep STDIN open even if not attached");
  app.add_option("--ip", o.net.ip, "IPv4 address (e.g., 172.30.100.104)")->type_name("string");
  app.add_option("--ip6", o.net.ip6, "IPv6 address (e.g., 2001:db8::33)")->type_name("string");
  add_list(app, "-l,--label", o.labels, "Set meta data on a container");
  add_list(app, "--label-file", o.label_file, "Read in a line delimited file of labels");
  add_list(app, "--link", o.net.links, "Add link to another container");
  add_list(app, "--link-local-ip", o.net.link_local_ips,
           "Container IPv4/IPv6 link-local addresses");
  app.add_option("--log-driver", o.log_driver, "Logging driver for the container")
      ->type_name("string");
  add_list(app, "--log-opt", o.log_opts, "Log driver options");
  app.add_option("--mac-address", o.net.mac_address,
                 "Container MAC address (e.g., 92:d0:c6:0a:29:33)")
      ->type_name("string");
  app.add_option("-m,--memory", o.memory, "Memory limit")->type_name("bytes");
  add_list(app, "--mount", o.mounts, "Attach a filesystem mount to the container", "mount");
  app.add_option("--name", o.name, "Assign a name to the container")->type_name("string");
  add_list(app, "--network,--net", o.net.networks, "Connect a container to a network", "network");
  add_list(app, "--network-alias,--net-alias", o.net.aliases,
           "Add network-scoped alias for the container");
  o.pids_opt = app.add_option("--pids-limit", o.pids_limit,
                              "Tune container pids limit (set -1 for unlimited)")
                   ->type_name("int");
  app.add_option("--platform", o.platform, "Set platform if server is multi-platform capable")
      ->type_name("string");
  app.add_flag("--privileged", o.privileged, "Give extended privileges to this container");
  add_list(app, "-p,--publish", o.publish, "Publish a container's port(s) to the host");
  app.add_flag("-P,--publish-all", o.publish_all, "Publish all exposed ports to random ports");
  app.add_option("--pull", o.pull,
                 "Pull image before running (\"always\", \"missing\", \"never\") (default "
                 "\"missing\")")
      ->type_name("string");
  app.add_flag("--read-only", o.read_only, "Mount the container's root filesystem as read only");
  app.add_option("--restart", o.restart,
                 "Restart policy to apply when a container exits (default \"no\")")
      ->type_name("string");
  app.add_flag("--rm", o.rm,
               "Automatically remove the container and its associated anonymous "
               "volumes when it exits");
  app.add_option("--runtime", o.runtime, "Runtime to use for this container")->type_name("string");
  app.add_option("--shm-size", o.shm_size, "Size of /dev/shm")->type_name("bytes");
  app.add_option("--stop-signal", o.stop_signal, "Signal to stop the container")
      ->type_name("string");
  o.stop_timeout_opt =
      app.add_option("--stop-timeout", o.stop_timeout, "Timeout (in seconds) to stop a container")
          ->type_name("int");
  add_list(app, "--sysctl", o.sysctls, "Sysctl options", "map");
  app.add_flag("-t,--tty", o.tty, "Allocate a pseudo-TTY");
  add_list(app, "--ulimit", o.ulimits, "Ulimit options", "ulimit");
  app.add_option("-u,--user", o.user, "Username or UID (format: <name|uid>[:<group|gid>])")
      ->type_name("string");
  add_list(app, "-v,--volume", o.volumes, "Bind mount a volume");
  app.add_option("-w,--workdir", o.workdir, "Working directory inside the container")
      ->type_name("string");
}

json parse_restart_policy(const std::string& policy) {
  size_t colon = policy.find(':');
  std::string name = policy.substr(0, colon);
  if (colon != std::string::npos && name.empty())
    throw FlagError("invalid restart policy format: no policy provided before colon");
  int64_t count = 0;
  if (colon != std::string::npos && colon + 1 < policy.size() &&
      !parse_int64(policy.substr(colon + 1), count))
    throw FlagError("invalid restart policy format: maximum retry count must be an integer");
  return {{"Name", name}, {"MaximumRetryCount", count}};
}

int64_t ram_in_bytes(const std::string& s) {
  // ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$, binary multiples.
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  std::string num = s.substr(0, i), unit = lower(s.substr(i));
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  if (num.empty() || num[0] == '.' || num.back() == '.' || num.find("..") != std::string::npos)
    throw Error("invalid size: '" + s + "'");
  static const std::string kUnits = "kmgtp";
  double mult = 1;
  size_t u = 0;
  if (u < unit.size() && kUnits.find(unit[u]) != std::string::npos)
    mult = std::pow(1024.0, static_cast<double>(kUnits.find(unit[u++]) + 1));
  if (u < unit.size() && unit[u] == 'i') ++u;
  if (u < unit.size() && unit[u] == 'b') ++u;
  if (u != unit.size()) throw Error("invalid size: '" + s + "'");
  return static_cast<int64_t>(std::strtod(num.c_str(), nullptr) * mult);
}

int64_t nano_cpus(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v))
    throw Error("failed to parse " + s + " as a rational number");
  double nanos = v * 1e9;
  if (std::fabs(nanos - std::round(nanos)) > 1e-3) throw Error("value is too precise");
  return static_cast<int64_t>(std::llround(nanos));
}

json parse_ulimit(const std::string& s) {
  static const std::set<std::string> kNames = {
      "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
      "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  size_t eq = s.find('=');
  if (eq == std::string::npos) throw Error("invalid ulimit argument: " + s);
  std::string name = s.substr(0, eq), limits = s.substr(eq + 1);
  if (!kNames.count(name)) throw Error("invalid ulimit type: " + name);
  size_t colon = limits.find(':');
  int64_t soft = 0, hard = 0;
  if (!parse_int64(limits.substr(0, colon), soft))
    throw Error("strconv.ParseInt: parsing \"" + limits.substr(0, colon) + "\": invalid syntax");
  hard = soft;
  if (colon != std::string::npos && !parse_int64(limits.substr(colon + 1), hard))
    throw Error("strconv.ParseInt: parsing \"" + limits.substr(colon + 1) + "\": invalid syntax");
  if (soft > hard)
    throw Error("ulimit soft limit must be less than or equal to hard limit: " +
                std::to_string(soft) + " > " + std::to_string(hard));
  return {{"Name", name}, {"Soft", soft}, {"Hard", hard}};
}

std::string env_value(const std::string& kv) {
  size_t eq = kv.find('=');
  if (eq == 0) throw FlagError("invalid environment variable: " + kv);
  if (eq != std::string::npos) return kv;
  if (auto v = client::process_env(kv)) return kv + "=" + *v;
  return kv;
}

std::vector<std::string> read_kv_file(const std::string& path, bool env) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    throw FlagError("open " + path + ": " + std::strerror(e.code()));
  }
  std::vector<std::string> out;
  for (std::string line : split(text, '\n')) {
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t eq = line.find('=');
    std::string key = trim(line.substr(0, eq));
    if (key.find_first_of(" \t") != std::string::npos)
      throw FlagError("variable '" + key + "' contains whitespaces");
    if (eq != std::string::npos) {
      out.push_back(key + line.substr(eq));
    } else if (env) {
      // A bare name passes the client's value through, or nothing when it has none.
      if (auto v = client::process_env(key)) out.push_back(key + "=" + *v);
    }
  }
  return out;
}

json parse_mount(const std::string& spec) {
  json m = {{"Type", "volume"}};
  auto bad = [&](const std::string& why) { bad_value(spec, "--mount", why); };
  auto boolean = [&](const std::string& k, const std::string& v, bool present) {
    if (!present) return true;
    std::string l = lower(v);
    if (l == "true" || l == "1") return true;
    if (l == "false" || l == "0") return false;
    bad_value(spec, "--mount", "invalid value for " + k + ": " + v);
  };
  for (const auto& field : split(spec, ',')) {
    size_t eq = field.find('=');
    std::string key = lower(trim(field.substr(0, eq)));
    std::string val = eq == std::string::npos ? "" : field.substr(eq + 1);
    bool has = eq != std::string::npos;
    if (key == "readonly" || key == "ro") {
      m["ReadOnly"] = boolean(key, val, has);
      continue;
    }
    if (key == "volume-nocopy") {
      m["VolumeOptions"]["NoCopy"] = boolean(key, val, has);
      continue;
    }
    if (key == "bind-nonrecursive") {
      m["BindOptions"]["NonRecursive"] = boolean(key, val, has);
      continue;
    }
    if (!has) bad("invalid field '" + field + "' must be a key=value pair");
    if (key == "type") {
      m["Type"] = lower(val);
    } else if (key == "source" || key == "src") {
      m["Source"] = val;
    } else if (key == "target" || key == "destination" || key == "dst") {
      m["Target"] = val;
    } else if (key == "consistency") {
      m["Consistency"] = val;
    } else if (key == "bind-propagation") {
      m["BindOptions"]["Propagation"] = lower(val);
    } else if (key == "volume-driver") {
      m["VolumeOptions"]["DriverConfig"]["Name"] = val;
    } else if (key == "volume-label") {
      put_kv(m["VolumeOptions"]["Labels"], val);
    } else if (key == "volume-opt") {
      put_kv(m["VolumeOptions"]["DriverConfig"]["Options"], val);
    } else if (key == "tmpfs-size") {
      try {
        m["TmpfsOptions"]["SizeBytes"] = ram_in_bytes(val);
      } catch (const Error& e) {
        bad(e.what());
      }
    } else if (key == "tmpfs-mode") {
      char* end = nullptr;
      long mode = std::strtol(val.c_str(), &end, 8);
      if (val.empty() || *end) bad("invalid value for " + key + ": " + val);
      m["TmpfsOptions"]["Mode"] = mode;
    } else {
      bad("unexpected key '" + key + "' in '" + field + "'");
    }
  }
  if (!m.contains("Target")) bad("target is required");
  return m;
}

json create_body(const ContainerOptions& o, const std::string& image,
                 const std::vector<std::string>& cmd) {
  json config = json::object();
  json host = json::object();

  bool attach_stdin = o.interactive, attach_stdout = o.attach.empty(),
       attach_stderr = o.attach.empty();
  for (const auto& a : o.attach) {
    std::string s = lower(a);
    if (s == "stdin") {
      attach_stdin = true;
    } else if (s == "stdout") {
      attach_stdout = true;
    } else if (s == "stderr") {
      attach_stderr = true;
    } else {
      bad_value(a, "-a, --attach", "valid streams are STDIN, STDOUT and STDERR");
    }
  }

  json env = json::array();
  for (const auto& f : o.env_file)
    for (auto& kv : read_kv_file(f, true)) env.push_back(kv);
  for (const auto& e : o.env) env.push_back(env_value(e));
  json labels = json::object();
  for (const auto& f : o.label_file)
    for (auto& kv : read_kv_file(f, false)) put_kv(labels, kv);
  for (const auto& l : o.labels) put_kv(labels, l);

  json exposed = json::object(), bindings = json::object();
  for (const auto& p : o.publish) parse_publish(p, exposed, bindings);
  for (const auto& e : o.expose) parse_expose(e, exposed);

  json binds = json::array(), volumes = json::object(), mounts = json::array();
  for (const auto& v : o.volumes) parse_volume(v, binds, volumes);
  for (const auto& m : o.mounts) mounts.push_back(parse_mount(m));

  config["Hostname"] = o.hostname;
  config["Domainname"] = o.domainname;
  config["User"] = o.user;
  config["AttachStdin"] = attach_stdin;
  config["AttachStdout"] = attach_stdout;
  config["AttachStderr"] = attach_stderr;
  if (!exposed.empty()) config["ExposedPorts"] = exposed;
  config["Tty"] = o.tty;
  config["OpenStdin"] = o.interactive;
  config["StdinOnce"] = o.interactive && attach_stdin;
  config["Env"] = env;
  config["Cmd"] = cmd.empty() ? json(nullptr) : json(cmd);
  config["Image"] = image;
  config["Volumes"] = volumes.empty() ? json(nullptr) : volumes;
  config["WorkingDir"] = o.workdir;
  if (!o.entrypoint.empty()) {
    config["Entrypoint"] = {o.entrypoint};
  } else if (o.entrypoint_opt && o.entrypoint_opt->count() > 0) {
    config["Entrypoint"] = {""};  // --entrypoint "" resets the image's entrypoint
  } else {
    config["Entrypoint"] = nullptr;
  }
  config["Labels"] = labels;
  if (!o.stop_signal.empty()) config["StopSignal"] = o.stop_signal;
  if (o.stop_timeout_opt && o.stop_timeout_opt->count() > 0) config["StopTimeout"] = o.stop_timeout;

  host["Binds"] = binds.empty() ? json(nullptr) : binds;
  json log_config = json::object();
  for (const auto& kv : o.log_opts) put_kv(log_config, kv);
  if (o.log_driver == "none" && !o.log_opts.empty())
    throw FlagError("invalid logging opts for driver none");
  host["LogConfig"] = {{"Type", o.log_driver}, {"Config", log_config}};
  json networking = apply_network_flags(o.net, host);
  host["PortBindings"] = bindings;
  json restart = parse_restart_policy(o.restart);
  if (o.rm && restart["Name"] != "no" && restart["Name"] != "")
    throw FlagError("conflicting options: cannot specify both --restart and --rm");
  host["RestartPolicy"] = restart;
  host["AutoRemove"] = o.rm;
  host["CapAdd"] = o.cap_add.empty() ? json(nullptr) : json(o.cap_add);
  host["CapDrop"] = o.cap_drop.empty() ? json(nullptr) : json(o.cap_drop);
  host["Privileged"] = o.privileged;
  host["PublishAllPorts"] = o.publish_all;
  host["ReadonlyRootfs"] = o.read_only;
  if (!o.runtime.empty()) host["Runtime"] = o.runtime;
  if (o.init_opt && o.init_opt->count() > 0) host["Init"] = o.init;
  if (!o.shm_size.empty()) {
    try {
      host["ShmSize"] = ram_in_bytes(o.shm_size);
    } catch (const Error& e) {
      bad_value(o.shm_size, "--shm-size", e.what());
    }
  }
  json sysctls = json::object();
  for (const auto& s : o.sysctls) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      bad_value(s, "--sysctl", "sysctl '" + s + "' is not allowed");
    put_kv(sysctls, s);
  }
  if (!sysctls.empty()) host["Sysctls"] = sysctls;
  if (!mounts.empty()) host["Mounts"] = mounts;
  // Resources sit directly in HostConfig in the API.
  if (!o.memory.empty()) {
    try {
      host["Memory"] = ram_in_bytes(o.memory);
    } catch (const Error& e) {
      bad_value(o.memory, "-m, --memory", e.what());
    }
  }
  if (!o.cpus.empty()) {
    try {
      host["NanoCpus"] = nano_cpus(o.cpus);
    } catch (const Error& e) {
      bad_value(o.cpus, "--cpus", e.what());
    }
  }
  host["CpuShares"] = o.cpu_shares;
  if (o.pids_opt && o.pids_opt->count() > 0) host["PidsLimit"] = o.pids_limit;
  json ulimits = json::array();
  for (const auto& u : o.ulimits) {
    try {
      ulimits.push_back(parse_ulimit(u));
    } catch (const Error& e) {
      bad_value(u, "--ulimit", e.what());
    }
  }
  if (!ulimits.empty()) host["Ulimits"] = ulimits;

  config["HostConfig"] = host;
  config["NetworkingConfig"] = networking;
  return config;
}

}  // namespace berth::cli
