// version, info, system df and events.
#include <sys/utsname.h>

#include <cctype>
#include <cstdio>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/formatter.h"
#include "cli/image_rows.h"
#include "cli/json_message.h"
#include "cli/tabwriter.h"
#include "cli/template.h"
#include "cli/units.h"

namespace berth::cli {

using nlohmann::json;

namespace {

// docker's version template, less the Go version lines that mean nothing for berth.
const char* const kVersionTemplate = R"({{with .Client -}}
Client:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 Version:	{{.Version}}
 API version:	{{.ApiVersion}}{{if ne .ApiVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Git commit:	{{.GitCommit}}
 Built:	{{.BuildTime}}
 OS/Arch:	{{.Os}}/{{.Arch}}
 Context:	{{.Context}}
{{- end}}

{{- if .Server}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:	{{.Version}}
  API version:	{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Git commit:	{{index .Details "GitCommit"}}
  Built:	{{index .Details "BuildTime"}}
  OS/Arch:	{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:	{{with index .Details "Experimental"}}{{.}}{{else}}false{{end}}
  {{- else }}
  Version:	{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:	{{$value}}
  {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}
)";

std::string go_arch() {
  utsname u{};
  ::uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

json client_version(Context& ctx, bool negotiated) {
  return {{"Platform", {{"Name", ""}}},
          {"Version", BERTH_VERSION},
          {"ApiVersion", negotiated ? ctx.api().version() : client::kClientApiVersion},
          {"DefaultAPIVersion", client::kClientApiVersion},
          {"GitCommit", BERTH_GIT_COMMIT},
          {"GoVersion", ""},
          {"Os", "linux"},
          {"Arch", go_arch()},
          {"BuildTime", __DATE__ " " __TIME__},
          {"Context", "default"}};
}

void register_version(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"version"},
         .usage = "[OPTIONS]",
         .summary = "Show the berth version information",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto format = std::make_shared<std::string>();
          app.add_option("-f,--format", *format,
                         "Format output using a custom template:\n"
                         "'json':             Print in JSON format\n"
                         "'TEMPLATE':         Print output using the given Go template")
              ->type_name("string");
          return [&ctx, format] {
            json data = {{"Client", client_version(ctx, false)}, {"Server", nullptr}};
            std::string error;
            try {
              data["Server"] = ctx.api().call("GET", "/version");
              // Go's template reads a missing detail of the typed map as "".
              json& server = data["Server"];
              if (server.contains("Components") && server["Components"].is_array())
                for (auto& c : server["Components"])
                  for (const char* k :
                       {"ApiVersion", "MinAPIVersion", "GitCommit", "BuildTime", "Os", "Arch"})
                    if (c.contains("Details") && !c["Details"].contains(k)) c["Details"][k] = "";
              data["Client"] = client_version(ctx, true);
            } catch (const std::exception& e) {
              error = e.what();
            }
            std::string tmpl = format->empty() ? kVersionTemplate : *format;
            if (tmpl == "json") tmpl = "{{json .}}";
            std::string out = Template::parse(unescape_format(tmpl)).execute(data);
            if (format->empty()) {
              out = tabwrite(out, {.minwidth = 20, .padding = 1});
            } else {
              out += "\n";
            }
            print_out(out);
            if (!error.empty()) {
              std::fprintf(stderr, "%s\n", error.c_str());
              return 1;
            }
            return 0;
          };
        });
}

std::string join_strings(const json& arr, const char* sep) {
  std::string s;
  if (!arr.is_array()) return s;
  for (const auto& v : arr) s += (s.empty() ? "" : sep) + go_sprint(v);
  return s;
}

// docker's prettyPrintServerInfo, for the fields berthd reports.
std::string server_info_text(const json& i) {
  std::string o = "Server:\n";
  auto line = [&](const std::string& key, const json& v) {
    o += " " + key + ": " + go_sprint(v) + "\n";
  };
  auto num = [&](const char* k) { return i.value(k, json(0)); };
  auto str = [&](const char* k) { return i.value(k, json("")); };
  line("Containers", num("Containers"));
  o += "  Running: " + go_sprint(num("ContainersRunning")) + "\n";
  o += "  Paused: " + go_sprint(num("ContainersPaused")) + "\n";
  o += "  Stopped: " + go_sprint(num("ContainersStopped")) + "\n";
  line("Images", num("Images"));
  line("Server Version", str("ServerVersion"));
  line("Storage Driver", str("Driver"));
  if (auto ds = i.find("DriverStatus"); ds != i.end() && ds->is_array())
    for (const auto& pair : *ds)
      if (pair.is_array() && pair.size() == 2)
        o += "  " + go_sprint(pair[0]) + ": " + go_sprint(pair[1]) + "\n";
  line("Logging Driver", str("LoggingDriver"));
  line("Cgroup Driver", str("CgroupDriver"));
  line("Cgroup Version", str("CgroupVersion"));
  if (auto p = i.find("Plugins"); p != i.end() && p->is_object()) {
    o += " Plugins:\n";
    for (const char* k : {"Volume", "Network", "Authorization", "Log"})
      if (p->contains(k) && (*p)[k].is_array() && !(*p)[k].empty())
        o += "  " + std::string(k) + ": " + join_strings((*p)[k], " ") + "\n";
  }
  if (auto rt = i.find("Runtimes"); rt != i.end() && rt->is_object()) {
    std::string names;
    for (auto& [k, v] : rt->items()) names += (names.empty() ? "" : " ") + k;
    line("Runtimes", names);
  }
  line("Default Runtime", str("DefaultRuntime"));
  if (auto so = i.find("SecurityOptions"); so != i.end() && so->is_array() && !so->empty()) {
    o += " Security Options:\n";
    // "name=seccomp,profile=builtin" prints as the name and its indented properties.
    for (const auto& opt : *so) {
      for (const auto& kv : split(go_sprint(opt), ',')) {
        size_t eq = kv.find('=');
        std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (k == "name") {
          o += "  " + v + "\n";
        } else if (!k.empty()) {
          k[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(k[0])));
          o += "   " + k + ": " + v + "\n";
        }
      }
    }
  }
  line("Kernel Version", str("KernelVersion"));
  line("Operating System", str("OperatingSystem"));
  line("OSType", str("OSType"));
  line("Architecture", str("Architecture"));
  line("CPUs", num("NCPU"));
  o += " Total Memory: " + bytes_size(i.value("MemTotal", 0.0)) + "\n";
  line("Name", str("Name"));
  line("ID", str("ID"));
  line("Docker Root Dir", str("DockerRootDir"));
  line("Debug Mode", i.value("Debug", json(false)));
  line("Experimental", i.value("ExperimentalBuild", json(false)));
  if (auto reg = i.find("RegistryConfig"); reg != i.end() && reg->is_object()) {
    if (auto cidrs = reg->find("InsecureRegistryCIDRs");
        cidrs != reg->end() && cidrs->is_array() && !cidrs->empty()) {
      o += " Insecure Registries:\n";
      for (const auto& c : *cidrs) o += "  " + go_sprint(c) + "\n";
    }
  }
  if (auto labels = i.find("Labels"); labels != i.end() && labels->is_array() && !labels->empty()) {
    o += " Labels:\n";
    for (const auto& l : *labels) o += "  " + go_sprint(l) + "\n";
  }
  line("Live Restore Enabled", i.value("LiveRestoreEnabled", json(false)));
  o += "\n";
  if (auto w = i.find("Warnings"); w != i.end() && w->is_array())
    for (const auto& warning : *w) std::fprintf(stderr, "%s\n", go_sprint(warning).c_str());
  return o;
}

void register_info(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"system info", "info"},
         .usage = "[OPTIONS]",
         .summary = "Display system-wide information",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto format = std::make_shared<std::string>();
          app.add_option("-f,--format", *format,
                         "Format output using a custom template:\n"
                         "'json':             Print in JSON format\n"
                         "'TEMPLATE':         Print output using the given Go template")
              ->type_name("string");
          return [&ctx, format] {
            json client = {{"Debug", ctx.globals.debug},
                           {"Version", BERTH_VERSION},
                           {"Context", "default"},
                           {"Plugins", json::array()}};
            if (!format->empty()) {
              json info = ctx.api().call("GET", "/info");
              info["ClientInfo"] = client;
              print_out(render_each(*format == "json" ? "{{json .}}" : *format, {info}));
              return 0;
            }
            print_out(std::string("Client:\n Version:    ") + BERTH_VERSION +
                      "\n Context:    default\n Debug Mode: " +
                      (ctx.globals.debug ? "true" : "false") + "\n\n");
            print_out(server_info_text(ctx.api().call("GET", "/info")));
            return 0;
          };
        });
}

std::string reclaimable(int64_t reclaim, int64_t total) {
  std::string s = human_size(static_cast<double>(reclaim));
  if (total > 0) s += " (" + std::to_string(reclaim * 100 / total) + "%)";
  return s;
}

const json& array_of(const json& j, const char* key) {
  static const json empty = json::array();
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

std::string df_summary(const json& du, const std::string& format) {
  std::vector<json> rows;
  const json& images = array_of(du, "Images");
  int64_t layers = du.value("LayersSize", int64_t{0}), used = 0, active = 0;
  for (const auto& i : images) {
    if (i.value("Containers", int64_t{0}) == 0) continue;
    ++active;
    int64_t size = i.value("Size", int64_t{0}), shared = i.value("SharedSize", int64_t{-1});
    if (shared != -1) used += size - shared;
  }
  rows.push_back({{"Type", "Images"},
                  {"TotalCount", std::to_string(images.size())},
                  {"Active", std::to_string(active)},
                  {"Size", human_size(static_cast<double>(layers))},
                  {"Reclaimable", reclaimable(layers - used, layers)}});
  const json& cs = array_of(du, "Containers");
  int64_t csize = 0, creclaim = 0;
  active = 0;
  for (const auto& c : cs) {
    int64_t s = c.value("SizeRw", int64_t{0});
    csize += s;
    if (c.value("State", std::string()) == "running") {
      ++active;
    } else {
      creclaim += s;
    }
  }
  rows.push_back({{"Type", "Containers"},
                  {"TotalCount", std::to_string(cs.size())},
                  {"Active", std::to_string(active)},
                  {"Size", human_size(static_cast<double>(csize))},
                  {"Reclaimable", reclaimable(creclaim, csize)}});
  const json& vs = array_of(du, "Volumes");
  int64_t vsize = 0, vreclaim = 0;
  active = 0;
  for (const auto& v : vs) {
    json usage = v.value("UsageData", json::object());
    int64_t s = usage.value("Size", int64_t{-1});
    if (s > 0) vsize += s;
    if (usage.value("RefCount", int64_t{0}) > 0) {
      ++active;
    } else if (s > 0) {
      vreclaim += s;
    }
  }
  rows.push_back({{"Type", "Local Volumes"},
                  {"TotalCount", std::to_string(vs.size())},
                  {"Active", std::to_string(active)},
                  {"Size", human_size(static_cast<double>(vsize))},
                  {"Reclaimable", reclaimable(vreclaim, vsize)}});
  const json& bc = array_of(du, "BuildCache");
  int64_t bsize = 0, breclaim = 0;
  active = 0;
  for (const auto& b : bc) {
    int64_t s = b.value("Size", int64_t{0});
    if (!b.value("Shared", false)) bsize += s;
    if (b.value("InUse", false)) {
      ++active;
    } else if (!b.value("Shared", false)) {
      breclaim += s;
    }
  }
  rows.push_back({{"Type", "Build Cache"},
                  {"TotalCount", std::to_string(bc.size())},
                  {"Active", std::to_string(active)},
                  {"Size", human_size(static_cast<double>(bsize))},
                  {"Reclaimable", human_size(static_cast<double>(breclaim))}});
  ListFormat lf{format,
                "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                {{"Type", "TYPE"},
                 {"TotalCount", "TOTAL"},
                 {"Active", "ACTIVE"},
                 {"Size", "SIZE"},
                 {"Reclaimable", "RECLAIMABLE"}}};
  return render_list(lf, rows);
}

std::string df_verbose(const json& du) {
  std::vector<json> rows;
  // docker shows each image once here, under its first tag.
  for (const auto& i : array_of(du, "Images")) {
    json first = i;
    if (i.contains("RepoTags") && i["RepoTags"].is_array() && i["RepoTags"].size() > 1)
      first["RepoTags"] = json::array({i["RepoTags"][0]});
    first["RepoDigests"] = json::array();
    add_image_rows(first, true, false, rows);
  }
  std::string out = "Images space usage:\n\n";
  out += render_list({"",
                      "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
                      "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
                      image_headers()},
                     rows);
  rows.clear();
  for (const auto& c : array_of(du, "Containers")) {
    std::string names;
    for (const auto& n : array_of(c, "Names")) {
      std::string s = go_sprint(n);
      names += (names.empty() ? "" : ",") + (s.rfind('/', 0) == 0 ? s.substr(1) : s);
    }
    std::string cmd = c.value("Command", std::string());
    rows.push_back({{"ID", c.value("Id", std::string()).substr(0, 12)},
                    {"Image", c.value("Image", std::string())},
                    {"Command", "\"" + (cmd.size() > 20 ? cmd.substr(0, 19) + "…" : cmd) + "\""},
                    {"LocalVolumes", std::to_string(array_of(c, "Mounts").size())},
                    {"Size", human_size(c.value("SizeRw", 0.0), 3)},
                    {"RunningFor", time_ago(c.value("Created", int64_t{0}))},
                    {"Status", c.value("Status", std::string())},
                    {"Names", names}});
  }
  out += "\nContainers space usage:\n\n";
  out += render_list({"",
                      "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
                      "{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
                      {{"ID", "CONTAINER ID"},
                       {"Image", "IMAGE"},
                       {"Command", "COMMAND"},
                       {"LocalVolumes", "LOCAL VOLUMES"},
                       {"Size", "SIZE"},
                       {"RunningFor", "CREATED"},
                       {"Status", "STATUS"},
                       {"Names", "NAMES"}}},
                     rows);
  rows.clear();
  for (const auto& v : array_of(du, "Volumes")) {
    json usage = v.value("UsageData", json::object());
    int64_t s = usage.value("Size", int64_t{-1});
    rows.push_back({{"Name", v.value("Name", std::string())},
                    {"Links", std::to_string(usage.value("RefCount", int64_t{0}))},
                    {"Size", s < 0 ? "N/A" : human_size(static_cast<double>(s))}});
  }
  out += "\nLocal Volumes space usage:\n\n";
  out += render_list({"",
                      "table {{.Name}}\t{{.Links}}\t{{.Size}}",
                      {{"Name", "VOLUME NAME"}, {"Links", "LINKS"}, {"Size", "SIZE"}}},
                     rows);
  int64_t total = 0;
  rows.clear();
  for (const auto& b : array_of(du, "BuildCache")) {
    int64_t s = b.value("Size", int64_t{0});
    total += s;
    rows.push_back({{"ID", b.value("ID", std::string()).substr(0, 12)},
                    {"CacheType", b.value("Type", std::string())},
                    {"Size", human_size(static_cast<double>(s))},
                    {"CreatedSince", b.value("CreatedAt", std::string())},
                    {"LastUsedSince", b.value("LastUsedAt", std::string())},
                    {"UsageCount", std::to_string(b.value("UsageCount", int64_t{0}))},
                    {"Shared", b.value("Shared", false) ? "true" : "false"}});
  }
  out += "\nBuild cache usage: " + human_size(static_cast<double>(total)) + "\n\n";
  out += render_list({"",
                      "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t"
                      "{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
                      {{"ID", "CACHE ID"},
                       {"CacheType", "CACHE TYPE"},
                       {"Size", "SIZE"},
                       {"CreatedSince", "CREATED"},
                       {"LastUsedSince", "LAST USED"},
                       {"UsageCount", "USAGE"},
                       {"Shared", "SHARED"}}},
                     rows);
  return out;
}

void register_df(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    bool verbose = false;
    std::string format;
  };
  r.add({.paths = {"system df"},
         .usage = "[OPTIONS]",
         .summary = "Show berth disk usage",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto o = std::make_shared<Options>();
          add_format_flag(app, o->format);
          app.add_flag("-v,--verbose", o->verbose, "Show detailed information on space usage");
          return [&ctx, o] {
            json du = ctx.api().call("GET", "/system/df");
            if (o->verbose && o->format.empty()) {
              print_out(df_verbose(du));
            } else {
              print_out(df_summary(du, o->format));
            }
            return 0;
          };
        });
}

// docker's prettyPrintEvent.
std::string event_line(const json& e) {
  std::string out;
  if (int64_t nanos = e.value("timeNano", int64_t{0}); nanos != 0) {
    out += rfc3339_nano_fixed(nanos) + " ";
  } else if (int64_t t = e.value("time", int64_t{0}); t != 0) {
    out += rfc3339_nano_fixed(t * 1000000000) + " ";
  }
  json actor = e.value("Actor", json::object());
  out += e.value("Type", std::string()) + " " + e.value("Action", std::string()) + " " +
         actor.value("ID", std::string());
  json attrs = actor.value("Attributes", json::object());
  if (attrs.is_object() && !attrs.empty()) {
    std::string a;
    for (auto& [k, v] : attrs.items()) a += (a.empty() ? "" : ", ") + k + "=" + go_sprint(v);
    out += " (" + a + ")";
  }
  return out + "\n";
}

void register_events(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string since, until, format;
    std::vector<std::string> filters;
  };
  r.add({.paths = {"system events", "events"},
         .usage = "[OPTIONS]",
         .summary = "Get real time events from the server",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-f,--filter", o->filters, "Filter output based on conditions provided")
              ->allow_extra_args(false)
              ->type_name("filter");
          add_format_flag(app, o->format,
                          "Format output using a custom template:\n"
                          "'json':             Print in JSON format\n"
                          "'TEMPLATE':         Print output using the given Go template");
          app.add_option("--since", o->since, "Show all events created since timestamp")
              ->type_name("string");
          app.add_option("--until", o->until, "Stream events until this timestamp")
              ->type_name("string");
          return [&ctx, o] {
            int64_t now = now_unix_nanos();
            Query q;
            if (!o->since.empty()) q.add("since", api_timestamp(o->since, now));
            if (!o->until.empty()) q.add("until", api_timestamp(o->until, now));
            if (auto f = filters_json(o->filters); !f.empty()) q.add("filters", f);
            std::unique_ptr<Template> tmpl;
            if (!o->format.empty())
              tmpl = std::make_unique<Template>(
                  Template::parse(unescape_format(o->format == "json" ? "{{json .}}" : o->format)));
            JsonSplitter splitter([&tmpl](const json& e) {
              print_out(tmpl ? tmpl->execute(e) + "\n" : event_line(e));
            });
            ctx.api().stream({}, "/events", q,
                             [&splitter](std::string_view d) { splitter.feed(d); });
            return 0;
          };
        });
}

}  // namespace

void register_system_commands(Registry& r) {
  register_version(r);
  register_info(r);
  register_df(r);
  register_events(r);
}

}  // namespace berth::cli
