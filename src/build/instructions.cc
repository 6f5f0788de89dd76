#include "build/instructions.h"

#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "base/fs.h"
#include "base/path.h"

namespace berth::build {

using nlohmann::json;

const std::set<std::string> kPredefinedArgs = {
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
    "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"};

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

[[noreturn]] void fail(const Instruction& ins, const std::string& what) {
  throw InvalidArgument("Dockerfile parse error on line " + std::to_string(ins.line) + ": " + what);
}

std::vector<std::string> shell_of(const json& config) {
  std::vector<std::string> out;
  if (config.contains("Shell") && config["Shell"].is_array())
    for (auto& s : config["Shell"]) out.push_back(s.get<std::string>());
  if (out.empty()) out = {"/bin/sh", "-c"};
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep = " ") {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Go's %q of a []string: ["a" "b"].
std::string go_quoted(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); i++) out += (i ? " " : "") + json(v[i]).dump();
  return out + "]";
}

// Go's time.Duration text for whole seconds and milliseconds ("30s", "1m30s", "500ms", "0s").
std::string go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  if (ns % 1000000000 != 0) return std::to_string(ns / 1000000) + "ms";
  int64_t s = ns / 1000000000;
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60 || !out.empty()) out += std::to_string(s / 60) + "m", s %= 60;
  return out + std::to_string(s) + "s";
}

int64_t parse_duration(const Instruction& ins, const std::string& flag, const std::string& v) {
  int64_t total = 0;
  size_t i = 0;
  if (v.empty()) fail(ins, "invalid --" + flag + " duration");
  while (i < v.size()) {
    size_t j = i;
    while (j < v.size() && (std::isdigit(static_cast<unsigned char>(v[j])) || v[j] == '.')) j++;
    if (j == i) fail(ins, "time: invalid duration \"" + v + "\"");
    double n = std::stod(v.substr(i, j - i));
    size_t k = j;
    while (k < v.size() && std::isalpha(static_cast<unsigned char>(v[k]))) k++;
    std::string unit = v.substr(j, k - j);
    double mul = unit == "ns"   ? 1
                 : unit == "us" ? 1e3
                 : unit == "ms" ? 1e6
                 : unit == "s"  ? 1e9
                 : unit == "m"  ? 60e9
                 : unit == "h"  ? 3600e9
                                : -1;
    if (mul < 0) fail(ins, "time: invalid duration \"" + v + "\"");
    total += static_cast<int64_t>(n * mul);
    i = k;
  }
  return total;
}

Lookup lookup_of(const State& st) {
  return [&st](const std::string& n) -> std::optional<std::string> {
    for (auto& e : env_of(st.config)) {
      std::string s = e.get<std::string>();
      if (s.rfind(n + "=", 0) == 0) return s.substr(n.size() + 1);
    }
    if (auto it = st.args.find(n); it != st.args.end()) return it->second;
    return std::nullopt;
  };
}

// The build args a RUN sees: declared in the stage, with a value, not set by ENV; sorted.
std::vector<std::string> run_args(const State& st) {
  std::vector<std::string> out;
  for (auto& [k, v] : st.args) {
    if (!v) continue;
    bool in_env = false;
    for (auto& e : env_of(st.config))
      if (e.get<std::string>().rfind(k + "=", 0) == 0) in_env = true;
    if (!in_env) out.push_back(k + "=" + *v);
  }
  return out;
}

std::string flag_value(const Instruction& ins, const std::string& name) {
  for (auto& [k, v] : ins.flags)
    if (k == name) return v;
  return "";
}

// A boolean flag: absent, `--name`, or `--name=true|false`.
bool bool_flag(const Instruction& ins, const std::string& name) {
  bool out = false;
  for (auto& [k, v] : ins.flags) {
    if (k != name) continue;
    if (v.empty() || v == "true")
      out = true;
    else if (v == "false")
      out = false;
    else
      fail(ins, "invalid value for --" + name + ": " + v);
  }
  return out;
}

void only_flags(const Instruction& ins, const std::set<std::string>& allowed) {
  for (auto& [k, v] : ins.flags) {
    if (allowed.count(k)) continue;
    if (k == "mount" || k == "link" || k == "parents" || k == "exclude" || k == "checksum" ||
        k == "keep-git-dir" || k == "security")
      fail(ins, "the --" + k + " option requires BuildKit; berth's builder does not have it yet");
    fail(ins, "unknown flag: --" + k);
  }
}

// RUN's command line with its here-documents, as BuildKit runs them: a line that is only
// `<<EOF` runs the document with the shell (or, when it starts with `#!`, as a script file
// mounted at /dev/pipes/); anything else goes to the shell with its documents appended, so
// that the shell reads them as its own here-documents.
std::string heredoc_command(StepPlan& p, const Instruction& ins) {
  std::string line = ins.args.empty() ? "" : ins.args[0];
  if (ins.heredocs.empty()) return line;
  const Heredoc& first = ins.heredocs.front();
  auto only = heredoc_marker(trim(line));
  if (ins.heredocs.size() == 1 && only && trim(line).find_first_of(" \t") == std::string::npos) {
    if (first.content.rfind("#!", 0) != 0) return first.content;
    p.script = first;
    return std::string(kScriptDir) + "/" + first.name;
  }
  for (auto& h : ins.heredocs) line += "\n" + h.content + h.name;
  return line;
}

void expose(Context& c, json& cfg, const std::vector<std::string>& ports) {
  json exposed = cfg.contains("ExposedPorts") && cfg["ExposedPorts"].is_object()
                     ? cfg["ExposedPorts"]
                     : json::object();
  for (auto& p : ports) {
    auto slash = p.find('/');
    std::string range = p.substr(0, slash);
    std::string proto = slash == std::string::npos ? "tcp" : p.substr(slash + 1);
    std::transform(proto.begin(), proto.end(), proto.begin(), ::tolower);
    if (proto != "tcp" && proto != "udp" && proto != "sctp") fail(c.ins, "invalid proto: " + proto);
    auto dash = range.find('-');
    try {
      int lo = std::stoi(range.substr(0, dash));
      int hi = dash == std::string::npos ? lo : std::stoi(range.substr(dash + 1));
      if (lo < 1 || hi > 65535 || hi < lo) throw std::out_of_range("port");
      for (int n = lo; n <= hi; n++) exposed[std::to_string(n) + "/" + proto] = json::object();
    } catch (const std::logic_error&) {
      fail(c.ins, "invalid containerPort: " + range);
    }
  }
  cfg["ExposedPorts"] = exposed;
}

}  // namespace

json env_of(const json& config) {
  if (config.contains("Env") && config["Env"].is_array()) return config["Env"];
  return json::array();
}

std::string shell_comment(const json& config, const std::string& text) {
  return join(shell_of(config)) + " #(nop) " + text;
}

std::pair<std::string, std::optional<std::string>> arg_of(const Instruction& ins,
                                                          const Lookup& lookup) {
  if (ins.args.size() != 1) fail(ins, "ARG requires exactly one argument");
  const std::string& a = ins.args[0];
  auto eq = a.find('=');
  std::string name = a.substr(0, eq);
  if (eq == std::string::npos) return {name, std::nullopt};
  return {name, expand_word(a.substr(eq + 1), lookup)};
}

StepPlan plan_step(Context& c) {
  State& st = c.st;
  const Instruction& ins = c.ins;
  StepPlan p;
  p.config = st.config;
  json& cfg = p.config;
  Lookup lookup = lookup_of(st);
  auto word = [&](const std::string& w) { return expand_word(w, lookup, c.escape); };
  auto nop = [&](const std::string& text) { return shell_comment(st.config, " " + text); };
  const std::string& k = ins.keyword;
  if (k != "run" && k != "copy" && k != "add" && k != "healthcheck") only_flags(ins, {});

  if (k == "env" || k == "label") {
    std::string text;
    json labels =
        cfg.contains("Labels") && cfg["Labels"].is_object() ? cfg["Labels"] : json::object();
    json env = env_of(cfg);
    for (size_t i = 0; i + 1 < ins.args.size(); i += 2) {
      std::string key = word(ins.args[i]);
      std::string value = word(ins.args[i + 1]);
      text += (text.empty() ? "" : " ") + key + "=" + value;
      if (k == "label") {
        labels[key] = value;
        continue;
      }
      auto it = std::find_if(env.begin(), env.end(), [&](const json& e) {
        return e.get<std::string>().rfind(key + "=", 0) == 0;
      });
      if (it != env.end())
        *it = key + "=" + value;
      else
        env.push_back(key + "=" + value);
      // Later pairs of the same ENV see the earlier ones.
      st.config["Env"] = env;
    }
    if (k == "label")
      cfg["Labels"] = labels;
    else
      cfg["Env"] = env;
    p.created_by = nop(upper(k) + " " + text);
    return p;
  }
  if (k == "arg") {
    auto [name, value] = arg_of(ins, lookup);
    // The history names the default as written, not the value a build arg gave it.
    std::string text = "ARG " + (value ? name + "=" + *value : name);
    if (auto it = c.opts.build_args.find(name); it != c.opts.build_args.end()) {
      value = it->second;
      c.used_args.insert(name);
    } else if (!value) {
      if (auto m = c.meta.find(name); m != c.meta.end()) value = m->second;
    }
    st.args[name] = value;
    p.created_by = nop(text);
    return p;
  }
  if (k == "cmd" || k == "entrypoint") {
    std::vector<std::string> cmd = ins.args;
    if (!ins.json_form) {
      cmd = shell_of(cfg);
      cmd.push_back(ins.args.empty() ? "" : ins.args[0]);
    }
    if (k == "cmd") {
      cfg["Cmd"] = cmd;
      st.cmd_set = true;
    } else {
      cfg["Entrypoint"] = cmd;
      // A new ENTRYPOINT drops the CMD it inherited.
      if (!st.cmd_set) cfg["Cmd"] = nullptr;
    }
    p.created_by = nop(upper(k) + " " + go_quoted(cmd));
    return p;
  }
  if (k == "workdir") {
    std::string dir = word(ins.args[0]);
    std::string prev = cfg.value("WorkingDir", "");
    if (dir.empty() || dir[0] != '/') dir = (prev.empty() ? "/" : prev) + "/" + dir;
    cfg["WorkingDir"] = clean_path(dir);
    p.kind = StepPlan::Kind::kWorkdir;
    p.created_by = nop("WORKDIR " + cfg["WorkingDir"].get<std::string>());
    return p;
  }
  if (k == "user") {
    cfg["User"] = word(ins.args[0]);
    p.created_by = nop("USER " + cfg["User"].get<std::string>());
    return p;
  }
  if (k == "expose") {
    std::vector<std::string> ports;
    for (auto& a : ins.args)
      for (auto& w : expand_words(a, lookup, c.escape)) ports.push_back(w);
    expose(c, cfg, ports);
    p.created_by = nop("EXPOSE " + join(ports));
    return p;
  }
  if (k == "volume") {
    json vols =
        cfg.contains("Volumes") && cfg["Volumes"].is_object() ? cfg["Volumes"] : json::object();
    std::vector<std::string> list;
    for (auto& a : ins.args)
      for (auto& w :
           ins.json_form ? std::vector<std::string>{word(a)} : expand_words(a, lookup, c.escape)) {
        if (w.empty()) fail(ins, "VOLUME specified can not be an empty string");
        list.push_back(w);
        vols[w] = json::object();
      }
    cfg["Volumes"] = vols;
    p.created_by = nop("VOLUME [" + join(list) + "]");
    return p;
  }
  if (k == "stopsignal") {
    cfg["StopSignal"] = word(ins.args[0]);
    p.created_by = nop("STOPSIGNAL " + cfg["StopSignal"].get<std::string>());
    return p;
  }
  if (k == "maintainer") {
    // The Author of this step's image and the later ones, as Docker's classic builder does.
    st.author = ins.args[0];
    p.created_by = nop("MAINTAINER " + ins.args[0]);
    return p;
  }
  if (k == "shell") {
    cfg["Shell"] = ins.args;
    p.created_by = nop("SHELL [" + join(ins.args) + "]");
    return p;
  }
  if (k == "onbuild") {
    json triggers =
        cfg.contains("OnBuild") && cfg["OnBuild"].is_array() ? cfg["OnBuild"] : json::array();
    triggers.push_back(ins.args[0]);
    cfg["OnBuild"] = triggers;
    p.created_by = nop("ONBUILD " + ins.args[0]);
    return p;
  }
  if (k == "healthcheck") {
    only_flags(ins, {"interval", "timeout", "start-period", "start-interval", "retries"});
    const std::string& rest = ins.args[0];
    std::string first = upper(rest.substr(0, rest.find_first_of(" \t")));
    json hc;
    if (first == "NONE") {
      if (!ins.flags.empty() || rest.size() > 4) fail(ins, "HEALTHCHECK NONE takes no arguments");
      hc = {{"Test", {"NONE"}}};
    } else if (first == "CMD") {
      std::string cmd = rest.substr(3);
      while (!cmd.empty() && std::isspace(static_cast<unsigned char>(cmd.front()))) cmd.erase(0, 1);
      if (cmd.empty()) fail(ins, "Missing command after HEALTHCHECK CMD");
      auto j = json::parse(cmd, nullptr, false);
      json test = json::array();
      if (!j.is_discarded() && j.is_array() && !j.empty() &&
          std::all_of(j.begin(), j.end(), [](const json& x) { return x.is_string(); })) {
        test.push_back("CMD");
        for (auto& x : j) test.push_back(x);
      } else {
        test = {"CMD-SHELL", cmd};
      }
      hc = {{"Test", test}};
      for (auto& [name, key] :
           std::vector<std::pair<std::string, std::string>>{{"interval", "Interval"},
                                                            {"timeout", "Timeout"},
                                                            {"start-period", "StartPeriod"},
                                                            {"start-interval", "StartInterval"}}) {
        std::string v = flag_value(ins, name);
        if (!v.empty()) hc[key] = parse_duration(ins, name, v);
      }
      std::string retries = flag_value(ins, "retries");
      if (!retries.empty()) hc["Retries"] = std::stoi(retries);
    } else {
      fail(ins, "Unknown type \"" + first + "\" in HEALTHCHECK (try CMD)");
    }
    cfg["Healthcheck"] = hc;
    std::vector<std::string> test;
    for (auto& t : hc["Test"]) test.push_back(t.get<std::string>());
    p.created_by = nop("HEALTHCHECK &{" + go_quoted(test) + " \"" +
                       go_duration(hc.value("Interval", int64_t{0})) + "\" \"" +
                       go_duration(hc.value("Timeout", int64_t{0})) + "\" \"" +
                       go_duration(hc.value("StartPeriod", int64_t{0})) + "\" \"" +
                       go_duration(hc.value("StartInterval", int64_t{0})) + "\" '\\x" +
                       (hc.value("Retries", 0) < 16 ? "0" : "") +
                       [&] {
                         char b[8];
                         snprintf(b, sizeof b, "%x", hc.value("Retries", 0));
                         return std::string(b);
                       }() +
                       "'}");
    return p;
  }
  if (k == "run") {
    only_flags(ins, {"network", "mount"});
    for (auto& [name, v] : ins.flags)
      if (name == "mount") p.mounts.push_back(parse_mount(ins, v, cfg.value("WorkingDir", "/")));
    std::string network = flag_value(ins, "network");
    p.network = network.empty() ? c.opts.network : network;
    if (p.network != "default" && p.network != "none" && p.network != "host" &&
        p.network != "bridge")
      fail(ins, "unsupported network mode for RUN: " + p.network);
    std::vector<std::string> cmd = ins.args;
    if (!ins.json_form) {
      cmd = shell_of(cfg);
      cmd.push_back(heredoc_command(p, ins));
    }
    std::vector<std::string> args = run_args(st);
    json env = env_of(cfg);
    for (auto& a : args) env.push_back(a);
    p.run_config = cfg;
    p.run_config["Cmd"] = cmd;
    p.run_config["Entrypoint"] = json::array();
    p.run_config["Env"] = env;
    p.run_config.erase("Healthcheck");
    p.run_config.erase("OnBuild");
    std::vector<std::string> saved;
    if (!args.empty()) {
      saved.push_back("|" + std::to_string(args.size()));
      for (auto& a : args) saved.push_back(a);
    }
    for (auto& a : cmd) saved.push_back(a);
    p.created_by = join(saved);
    p.kind = StepPlan::Kind::kRun;
    return p;
  }
  if (k == "copy" || k == "add") {
    only_flags(ins, k == "copy" ? std::set<std::string>{"from", "chown", "chmod", "exclude",
                                                        "parents", "link"}
                                : std::set<std::string>{"chown", "chmod", "exclude", "link"});
    p.kind = StepPlan::Kind::kCopy;
    CopyRequest& r = p.copy.req;
    r.keyword = upper(k);
    std::vector<std::string> words;
    size_t doc = 0;
    for (size_t i = 0; i < ins.args.size(); i++) {
      if (i + 1 < ins.args.size() && !ins.json_form && heredoc_marker(ins.args[i])) {
        // A here-document is a file of its own name with its text (expanded unless quoted).
        const Heredoc& h = ins.heredocs.at(doc++);
        r.inline_files.emplace_back(
            h.name, h.expand ? expand_heredoc(h.content, lookup, c.escape) : h.content);
        continue;
      }
      words.push_back(word(ins.args[i]));
    }
    r.dest = words.back();
    words.pop_back();
    r.sources = words;
    std::string wd = cfg.value("WorkingDir", "");
    bool dir_form = r.dest.back() == '/' || r.dest == "." ||
                    (r.dest.size() >= 2 && r.dest.substr(r.dest.size() - 2) == "/.");
    if (r.dest[0] != '/') r.dest = (wd.empty() ? "/" : wd) + "/" + r.dest;
    r.dest = clean_path(r.dest);
    if (dir_form && r.dest != "/") r.dest += "/";
    if (dir_form && r.dest == "/") r.dest = "/";
    r.chown = word(flag_value(ins, "chown"));
    std::string mode = flag_value(ins, "chmod");
    if (!mode.empty()) {
      if (mode.find_first_not_of("01234567") != std::string::npos || mode.size() > 4)
        fail(ins, "invalid chmod parameter " + mode + ": only octal modes are supported");
      r.chmod = static_cast<uint32_t>(std::stoul(mode, nullptr, 8));
    }
    std::string patterns;
    for (auto& [name, v] : ins.flags)
      if (name == "exclude") {
        if (v.empty()) fail(ins, "--exclude needs a pattern");
        patterns += word(v) + "\n";
      }
    r.exclude = DockerIgnore(patterns);
    r.parents = bool_flag(ins, "parents");
    p.copy.link = bool_flag(ins, "link");
    p.copy.from_stage = word(flag_value(ins, "from"));
    r.from_context = p.copy.from_stage.empty();
    r.ignore = &c.ignore;
    r.unpack_archives = k == "add";
    return p;
  }
  fail(ins, "unknown instruction: " + upper(k));
}

}  // namespace berth::build
