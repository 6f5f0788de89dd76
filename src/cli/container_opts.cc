#include "cli/container_opts.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>

#include "base/fs.h"
#include "base/path.h"
#include "base/time.h"
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

// docker resolves a host path that starts with "." against the client's directory: the
// daemon does not know it.
std::string absolute_if_dotted(const std::string& path) {
  if (path.empty() || path[0] != '.') return path;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) return path;
  return clean_path(std::string(cwd) + "/" + path);
}

bool is_windows_drive(const std::string& buffer, char c) {
  return c == ':' && buffer.size() == 1 && std::isalpha(static_cast<unsigned char>(buffer[0]));
}

// Whether a -v source is a host path (a bind) rather than a volume name.
bool is_file_path(const std::string& source) {
  if (source[0] == '.' || source[0] == '/' || source[0] == '~') return true;
  if (source.size() == 1) return false;
  if (source.rfind("\\\\", 0) == 0) return true;  // a Windows named pipe
  return is_windows_drive(source.substr(0, 1), source[1]);
}

// One -v as docker's CLI splits it (the compose loader's ParseVolume): a spec with a source
// goes to HostConfig.Binds, one without (an anonymous volume) to Config.Volumes. Options after
// the second colon are left to the daemon, which refuses a bad mode in its own words.
void parse_volume(const std::string& spec, std::vector<std::string>& binds, json& volumes) {
  if (spec.empty()) throw FlagError("invalid empty volume spec");
  std::string source, target;
  bool anonymous = spec.size() <= 2;
  if (anonymous) target = spec;
  std::string buffer;
  for (size_t i = 0; !anonymous && i <= spec.size(); ++i) {
    char c = i < spec.size() ? spec[i] : '\0';
    bool end = i == spec.size();
    if (!end && is_windows_drive(buffer, c)) {
      buffer += c;
    } else if (end || c == ':') {
      auto fail = [&](const std::string& why) {
        throw FlagError("invalid spec: " + spec + ": " + why);
      };
      if (buffer.empty()) fail("empty section between colons");
      if (source.empty() && end) {
        target = buffer;
      } else if (source.empty()) {
        source = buffer;
      } else if (target.empty()) {
        target = buffer;
      } else if (!end) {
        fail("too many colons");
      }
      buffer.clear();
    } else {
      buffer += c;
    }
  }
  if (source.empty()) {
    volumes[spec] = json::object();
    return;
  }
  std::string bind = spec;
  if (is_file_path(source)) {
    size_t colon = spec.find(':');
    bind = absolute_if_dotted(spec.substr(0, colon)) + spec.substr(colon);
  }
  // docker keeps -v values in a set: the same spec twice is one mount.
  if (std::find(binds.begin(), binds.end(), bind) == binds.end()) binds.push_back(bind);
}

// strconv.ParseBool.
std::optional<bool> go_parse_bool(const std::string& s) {
  static const std::set<std::string> kTrue = {"1", "t", "T", "TRUE", "true", "True"};
  static const std::set<std::string> kFalse = {"0", "f", "F", "FALSE", "false", "False"};
  if (kTrue.count(s)) return true;
  if (kFalse.count(s)) return false;
  return std::nullopt;
}

// One record of Go's encoding/csv, which --mount values are: commas split fields, a field
// may be quoted, and "" inside quotes is one quote.
std::vector<std::string> csv_fields(const std::string& s) {
  if (s.empty()) throw Error("EOF");
  std::vector<std::string> fields;
  size_t i = 0;
  while (true) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      size_t j = i + 1;
      while (true) {
        if (j >= s.size())
          throw Error("parse error on line 1, column " + std::to_string(j + 1) +
                      ": extraneous or missing \" in quoted-field");
        if (s[j] == '"' && j + 1 < s.size() && s[j + 1] == '"') {
          field += '"';
          j += 2;
        } else if (s[j] == '"') {
          ++j;
          break;
        } else {
          field += s[j++];
        }
      }
      if (j < s.size() && s[j] != ',')
        throw Error("parse error on line 1, column " + std::to_string(j + 1) +
                    ": extraneous or missing \" in quoted-field");
      i = j;
    } else {
      size_t end = s.find(',', i);
      field = s.substr(i, end == std::string::npos ? std::string::npos : end - i);
      if (size_t q = field.find('"'); q != std::string::npos)
        throw Error("parse error on line 1, column " + std::to_string(i + q + 1) +
                    ": bare \" in non-quoted field");
      i = end == std::string::npos ? s.size() : end;
    }
    fields.push_back(field);
    if (i >= s.size()) return fields;
    ++i;  // the comma
  }
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
  app.add_option("--health-cmd", o.health_cmd, "Command to run to check health")
      ->type_name("string");
  app.add_option("--health-interval", o.health_interval,
                 "Time between running the check (ms|s|m|h) (default 0s)")
      ->type_name("duration");
  app.add_option("--health-retries", o.health_retries,
                 "Consecutive failures needed to report unhealthy")
      ->type_name("int");
  app.add_option("--health-start-interval", o.health_start_interval,
                 "Time between running the check during the start period (ms|s|m|h) (default 0s)")
      ->type_name("duration");
  app.add_option("--health-start-period", o.health_start_period,
                 "Start period for the container to initialize before starting health-retries "
                 "countdown (ms|s|m|h) (default 0s)")
      ->type_name("duration");
  app.add_option("--health-timeout", o.health_timeout,
                 "Maximum time to allow one check to run (ms|s|m|h) (default 0s)")
      ->type_name("duration");
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
  app.add_flag("--no-healthcheck", o.no_healthcheck, "Disable any container-specified HEALTHCHECK");
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
  add_list(app, "--tmpfs", o.tmpfs, "Mount a tmpfs directory");
  add_list(app, "-v,--volume", o.volumes, "Bind mount a volume");
  app.add_option("--volume-driver", o.volume_driver, "Optional volume driver for the container")
      ->type_name("string");
  add_list(app, "--volumes-from", o.volumes_from, "Mount volumes from the specified container(s)");
  app.add_option("-w,--workdir", o.workdir, "Working directory inside the container")
      ->type_name("string");
}

namespace {

int64_t duration_flag(const std::string& value, const char* flag) {
  if (value.empty()) return 0;
  auto ns = parse_go_duration(value);
  if (!ns) throw FlagValueError(value, flag, "time: invalid duration \"" + value + "\"");
  return *ns;
}

// docker's Healthcheck from --health-* and --no-healthcheck: sent only when one was given,
// with what was left at zero absent, so that the image's HEALTHCHECK fills it in.
std::optional<json> health_config(const ContainerOptions& o) {
  int64_t interval = duration_flag(o.health_interval, "--health-interval");
  int64_t timeout = duration_flag(o.health_timeout, "--health-timeout");
  int64_t start_period = duration_flag(o.health_start_period, "--health-start-period");
  int64_t start_interval = duration_flag(o.health_start_interval, "--health-start-interval");
  bool any = !o.health_cmd.empty() || interval != 0 || timeout != 0 || start_period != 0 ||
             start_interval != 0 || o.health_retries != 0;
  if (o.no_healthcheck) {
    if (any) throw FlagError("--no-healthcheck conflicts with --health-* options");
    return json{{"Test", {"NONE"}}};
  }
  if (!any) return std::nullopt;
  for (auto [v, flag] : {std::pair{interval, "--health-interval"},
                         {timeout, "--health-timeout"},
                         {int64_t{o.health_retries}, "--health-retries"},
                         {start_period, "--health-start-period"},
                         {start_interval, "--health-start-interval"}})
    if (v < 0) throw FlagError(std::string(flag) + " cannot be negative");
  json hc = json::object();
  if (!o.health_cmd.empty()) hc["Test"] = {"CMD-SHELL", o.health_cmd};
  if (interval) hc["Interval"] = interval;
  if (timeout) hc["Timeout"] = timeout;
  if (start_period) hc["StartPeriod"] = start_period;
  if (start_interval) hc["StartInterval"] = start_interval;
  if (o.health_retries) hc["Retries"] = o.health_retries;
  return hc;
}

}  // namespace

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
  auto bad = [&](const std::string& why) { bad_value(spec, "--mount", why); };
  std::vector<std::string> fields;
  try {
    fields = csv_fields(spec);
  } catch (const Error& e) {
    bad(e.what());
  }
  // The API's Mount leaves out empty fields, and an options object exists once any of its
  // keys was given (a volume one with an empty DriverConfig), as in docker's MountOpt.
  json m = json::object();
  std::string type = "volume";
  bool read_only = false;
  std::optional<json> bind, volume, image, tmpfs;
  auto volume_options = [&]() -> json& {
    if (!volume) volume = json{{"DriverConfig", json::object()}};
    return *volume;
  };
  auto bool_of = [&](const std::string& key, const std::string& val) {
    auto b = go_parse_bool(val);
    if (!b) bad("invalid value for " + key + ": " + val);
    return *b;
  };
  auto put = [](json& map, const std::string& kv) {
    size_t eq = kv.find('=');
    std::string k = kv.substr(0, eq);
    if (!k.empty()) map[k] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  };
  for (const auto& field : fields) {
    size_t eq = field.find('=');
    std::string key = lower(field.substr(0, eq));
    std::string val = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") {
        read_only = true;
      } else if (key == "volume-nocopy") {
        volume_options()["NoCopy"] = true;
      } else if (key == "bind-nonrecursive") {
        if (!bind) bind = json::object();
        (*bind)["NonRecursive"] = true;
      } else {
        bad("invalid field '" + field + "' must be a key=value pair");
      }
      continue;
    }
    if (key == "type") {
      type = lower(val);
    } else if (key == "source" || key == "src") {
      m["Source"] = absolute_if_dotted(val);
    } else if (key == "target" || key == "dst" || key == "destination") {
      m["Target"] = val;
    } else if (key == "readonly" || key == "ro") {
      read_only = bool_of(key, val);
    } else if (key == "consistency") {
      m["Consistency"] = lower(val);
    } else if (key == "bind-propagation") {
      if (!bind) bind = json::object();
      (*bind)["Propagation"] = lower(val);
    } else if (key == "bind-nonrecursive") {
      if (!bind) bind = json::object();
      (*bind)["NonRecursive"] = bool_of(key, val);
    } else if (key == "bind-recursive") {
      if (val == "disabled" || val == "writable" || val == "readonly") {
        if (!bind) bind = json::object();
        const char* flag = val == "disabled"   ? "NonRecursive"
                           : val == "writable" ? "ReadOnlyNonRecursive"
                                               : "ReadOnlyForceRecursive";
        (*bind)[flag] = true;
      } else if (val != "enabled") {
        bad("invalid value for " + key + ": " + val +
            " (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")");
      }
    } else if (key == "volume-subpath") {
      volume_options()["Subpath"] = val;
    } else if (key == "volume-nocopy") {
      auto b = go_parse_bool(val);
      if (!b) bad("invalid value for volume-nocopy: " + val);
      volume_options()["NoCopy"] = *b;
    } else if (key == "volume-label") {
      put(volume_options()["Labels"], val);
    } else if (key == "volume-driver") {
      volume_options()["DriverConfig"]["Name"] = val;
    } else if (key == "volume-opt") {
      put(volume_options()["DriverConfig"]["Options"], val);
    } else if (key == "image-subpath") {
      image = json{{"Subpath", val}};
    } else if (key == "tmpfs-size") {
      if (!tmpfs) tmpfs = json::object();
      try {
        (*tmpfs)["SizeBytes"] = ram_in_bytes(val);
      } catch (const Error&) {
        bad("invalid value for " + key + ": " + val);
      }
    } else if (key == "tmpfs-mode") {
      if (!tmpfs) tmpfs = json::object();
      bool octal = !val.empty() && val.find_first_not_of("01234567") == std::string::npos;
      unsigned long long mode = octal ? std::strtoull(val.c_str(), nullptr, 8) : 0;
      if (!octal || val.size() > 11 || mode > 0xffffffffULL)
        bad("invalid value for " + key + ": " + val);
      (*tmpfs)["Mode"] = mode;
    } else {
      bad("unexpected key '" + key + "' in '" + field + "'");
    }
  }
  if (type.empty()) bad("type is required");
  if (!m.contains("Target") || m["Target"] == "") bad("target is required");
  auto mixed = [&](const std::optional<json>& opts, const char* kind, const char* own) {
    if (opts && type != own)
      bad(std::string("cannot mix '") + kind + "-*' options with mount type '" + type + "'");
  };
  mixed(volume, "volume", "volume");
  mixed(image, "image", "image");
  mixed(bind, "bind", "bind");
  mixed(tmpfs, "tmpfs", "tmpfs");
  if (bind && bind->value("ReadOnlyNonRecursive", false) && !read_only)
    bad("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  if (bind && bind->value("ReadOnlyForceRecursive", false)) {
    if (!read_only)
      bad("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    if (bind->value("Propagation", std::string()) != "rprivate")
      bad("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be "
          "specified in conjunction");
  }
  m["Type"] = type;
  if (m.contains("Source") && m["Source"] == "") m.erase("Source");
  if (m.contains("Consistency") && m["Consistency"] == "") m.erase("Consistency");
  if (read_only) m["ReadOnly"] = true;
  auto drop_empty = [](json& o) {
    for (auto it = o.begin(); it != o.end();) {
      bool empty = it->is_null() || (it->is_string() && it->get<std::string>().empty()) ||
                   (it->is_boolean() && !it->get<bool>()) ||
                   (it->is_number() && it->get<double>() == 0) ||
                   (it->is_object() && it->empty() && it.key() != "DriverConfig");
      it = empty ? o.erase(it) : std::next(it);
    }
  };
  if (volume) {
    drop_empty((*volume)["DriverConfig"]);
    drop_empty(*volume);
    m["VolumeOptions"] = *volume;
  }
  if (bind) {
    drop_empty(*bind);
    m["BindOptions"] = *bind;
  }
  if (image) {
    drop_empty(*image);
    m["ImageOptions"] = *image;
  }
  if (tmpfs) {
    drop_empty(*tmpfs);
    m["TmpfsOptions"] = *tmpfs;
  }
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

  std::vector<std::string> binds;
  json volumes = json::object(), mounts = json::array(), tmpfs = json::object();
  for (const auto& v : o.volumes) parse_volume(v, binds, volumes);
  for (const auto& m : o.mounts) mounts.push_back(parse_mount(m));
  for (const auto& t : o.tmpfs) {
    size_t colon = t.find(':');
    tmpfs[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
  }

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
  if (auto hc = health_config(o)) config["Healthcheck"] = *hc;
  if (!o.stop_signal.empty()) config["StopSignal"] = o.stop_signal;
  if (o.stop_timeout_opt && o.stop_timeout_opt->count() > 0) config["StopTimeout"] = o.stop_timeout;

  host["Binds"] = binds.empty() ? json(nullptr) : json(binds);
  host["VolumesFrom"] = o.volumes_from.empty() ? json(nullptr) : json(o.volumes_from);
  if (!o.volume_driver.empty()) host["VolumeDriver"] = o.volume_driver;
  if (!tmpfs.empty()) host["Tmpfs"] = tmpfs;
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
