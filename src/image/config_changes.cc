#include "image/config_changes.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "base/error.h"
#include "base/fs.h"

namespace berth::image {
namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A JSON array of strings ("exec form"), or nullopt when the text is the shell form.
std::optional<std::vector<std::string>> exec_form(const std::string& args) {
  if (args.empty() || args[0] != '[') return std::nullopt;
  try {
    auto j = nlohmann::json::parse(args);
    if (!j.is_array()) return std::nullopt;
    std::vector<std::string> out;
    for (auto& v : j) {
      if (!v.is_string()) return std::nullopt;
      out.push_back(v.get<std::string>());
    }
    return out;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> command(const std::string& args) {
  if (auto e = exec_form(args)) return *e;
  return {"/bin/sh", "-c", args};
}

std::string unquote(const std::string& s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

// Splits "a=b c=\"d e\"" into pairs; the legacy "KEY value" form when there is no '='.
std::vector<std::pair<std::string, std::string>> key_values(const std::string& instr,
                                                            const std::string& args) {
  std::vector<std::pair<std::string, std::string>> out;
  auto first_space = args.find_first_of(" \t");
  auto eq = args.find('=');
  if (eq == std::string::npos || (first_space != std::string::npos && first_space < eq)) {
    if (first_space == std::string::npos)
      throw InvalidArgument(instr + " requires at least one argument");
    out.emplace_back(args.substr(0, first_space), trim(args.substr(first_space + 1)));
    return out;
  }
  size_t i = 0;
  while (i < args.size()) {
    while (i < args.size() && std::isspace(static_cast<unsigned char>(args[i]))) i++;
    if (i >= args.size()) break;
    std::string word;
    char quote = 0;
    for (; i < args.size(); i++) {
      char c = args[i];
      if (quote) {
        if (c == quote) {
          quote = 0;
        } else if (c == '\\' && quote == '"' && i + 1 < args.size()) {
          word.push_back(args[++i]);
        } else {
          word.push_back(c);
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        break;
      } else {
        word.push_back(c);
      }
    }
    auto weq = word.find('=');
    if (weq == std::string::npos || weq == 0)
      throw InvalidArgument(instr + " names must be followed by '=': " + word);
    out.emplace_back(word.substr(0, weq), word.substr(weq + 1));
  }
  return out;
}

void set_env(nlohmann::json& config, const std::string& key, const std::string& value) {
  auto& env = config["Env"];
  if (!env.is_array()) env = nlohmann::json::array();
  for (auto& e : env) {
    std::string s = e.get<std::string>();
    if (s.substr(0, s.find('=')) == key) {
      e = key + "=" + value;
      return;
    }
  }
  env.push_back(key + "=" + value);
}

std::vector<std::string> words(const std::string& args) {
  if (auto e = exec_form(args)) return *e;
  std::vector<std::string> out;
  for (auto& w : split(args, ' '))
    if (!trim(w).empty()) out.push_back(unquote(trim(w)));
  return out;
}

}  // namespace

void apply_config_changes(nlohmann::json& config, const std::vector<std::string>& changes) {
  if (!config.is_object()) config = nlohmann::json::object();
  for (auto& change : changes) {
    std::string line = trim(change);
    if (line.empty()) continue;
    auto sp = line.find_first_of(" \t");
    std::string instr = upper(line.substr(0, sp));
    std::string args = sp == std::string::npos ? "" : trim(line.substr(sp + 1));
    static const std::vector<std::string> kAllowed = {
        "CMD",     "ENTRYPOINT", "ENV",  "EXPOSE", "HEALTHCHECK", "LABEL",
        "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};
    if (std::find(kAllowed.begin(), kAllowed.end(), instr) == kAllowed.end())
      throw InvalidArgument(lower(instr) + " is not a valid change command");
    if (args.empty() && instr != "CMD" && instr != "ENTRYPOINT")
      throw InvalidArgument(instr + " requires at least one argument");
    if (instr == "CMD") {
      config["Cmd"] = command(args);
    } else if (instr == "ENTRYPOINT") {
      config["Entrypoint"] = args.empty() ? nlohmann::json(nullptr) : nlohmann::json(command(args));
    } else if (instr == "ENV") {
      for (auto& [k, v] : key_values(instr, args)) set_env(config, k, v);
    } else if (instr == "LABEL") {
      auto& labels = config["Labels"];
      if (!labels.is_object()) labels = nlohmann::json::object();
      for (auto& [k, v] : key_values(instr, args)) labels[unquote(k)] = v;
    } else if (instr == "EXPOSE") {
      auto& ports = config["ExposedPorts"];
      if (!ports.is_object()) ports = nlohmann::json::object();
      for (auto& p : words(args)) {
        std::string port = p.find('/') == std::string::npos ? p + "/tcp" : p;
        auto num = port.substr(0, port.find('/'));
        auto proto = port.substr(port.find('/') + 1);
        if (num.empty() || !std::all_of(num.begin(), num.end(), ::isdigit) ||
            (proto != "tcp" && proto != "udp" && proto != "sctp"))
          throw InvalidArgument("invalid containerPort: " + p);
        ports[port] = nlohmann::json::object();
      }
    } else if (instr == "VOLUME") {
      auto& vols = config["Volumes"];
      if (!vols.is_object()) vols = nlohmann::json::object();
      for (auto& v : words(args)) vols[v] = nlohmann::json::object();
    } else if (instr == "ONBUILD") {
      auto& ob = config["OnBuild"];
      if (!ob.is_array()) ob = nlohmann::json::array();
      ob.push_back(args);
    } else if (instr == "STOPSIGNAL") {
      config["StopSignal"] = args;
    } else if (instr == "USER") {
      config["User"] = args;
    } else if (instr == "WORKDIR") {
      std::string wd = unquote(args);
      std::string cur = config.value("WorkingDir", "");
      // As Docker's normalizeWorkdir: a relative one is joined and cleaned (filepath.Join).
      std::string joined =
          std::filesystem::path(path_join(cur.empty() ? "/" : cur, wd)).lexically_normal().string();
      if (joined.size() > 1 && joined.back() == '/') joined.pop_back();
      config["WorkingDir"] = wd[0] == '/' ? wd : joined;
    } else if (instr == "HEALTHCHECK") {
      auto e = exec_form(args.rfind("CMD ", 0) == 0 ? trim(args.substr(4)) : "");
      if (upper(args) == "NONE") {
        config["Healthcheck"] = {{"Test", {"NONE"}}};
      } else if (args.rfind("CMD ", 0) == 0) {
        std::vector<std::string> test = {"CMD"};
        if (e) {
          test.insert(test.end(), e->begin(), e->end());
        } else {
          test = {"CMD-SHELL", trim(args.substr(4))};
        }
        config["Healthcheck"] = {{"Test", test}};
      } else {
        throw InvalidArgument("HEALTHCHECK: expected NONE or CMD, got " + args);
      }
    }
  }
}

}  // namespace berth::image
