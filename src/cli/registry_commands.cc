#include "cli/registry_commands.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "base/fs.h"
#include "cli/config.h"
#include "cli/json_message.h"
#include "oci/reference.h"

namespace berth::cli {
namespace {

using nlohmann::json;

constexpr const char* kDockerHubServer = "https://index.docker.io/v1/";

std::string base64(std::string_view in, bool url) {
  const char* table = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16 | static_cast<uint8_t>(in[i + 1]) << 8 |
                 static_cast<uint8_t>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += table[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(const std::string& in) {
  std::string out;
  uint32_t v = 0;
  int bits = 0;
  for (char c : in) {
    int d = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+' || c == '-' ? 62
            : c == '/' || c == '_' ? 63
                                   : -1;
    if (d < 0) continue;
    v = v << 6 | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

// The config.json key of a registry: docker's for Docker Hub, else the host as given.
std::string server_key(const std::string& server) {
  if (server.empty() || server == "docker.io" || server == "index.docker.io" ||
      server == "registry-1.docker.io" || server == kDockerHubServer)
    return kDockerHubServer;
  std::string host = server;
  for (std::string scheme : {"https://", "http://"})
    if (host.rfind(scheme, 0) == 0) host = host.substr(scheme.size());
  if (auto slash = host.find('/'); slash != std::string::npos) host = host.substr(0, slash);
  return host;
}

std::string config_path(Context& ctx) {
  return resolve_config_dir(ctx.globals.config_dir) + "/config.json";
}

void save_config(Context& ctx, const json& cfg) {
  std::string dir = resolve_config_dir(ctx.globals.config_dir);
  mkdir_p(dir, 0700);
  write_file_atomic(config_path(ctx), cfg.dump(1, '\t') + "\n", 0600);
}

}  // namespace

// base64url of the JSON docker sends.
std::string registry_auth_header(Context& ctx, const std::string& domain) {
  std::string key = server_key(domain);
  const json& cfg = ctx.config();
  json auth = json::object();
  if (cfg.contains("auths") && cfg["auths"].is_object() && cfg["auths"].contains(key)) {
    const json& entry = cfg["auths"][key];
    std::string up = base64_decode(entry.value("auth", std::string()));
    auto colon = up.find(':');
    if (colon != std::string::npos) {
      auth["username"] = up.substr(0, colon);
      auth["password"] = up.substr(colon + 1);
    }
    if (entry.contains("identitytoken")) auth["identitytoken"] = entry["identitytoken"];
    auth["serveraddress"] = key;
  }
  return base64(auth.dump(), true);
}

namespace {

std::string prompt(const std::string& what, bool secret) {
  std::fprintf(stderr, "%s", what.c_str());
  std::fflush(stderr);
  termios saved{};
  bool restore = secret && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (restore) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fputc('\n', stderr);
  }
  return line;
}

// Streams a pull or push with docker's display on stdout; -q shows only an error.
void transfer(Context& ctx, const std::string& path, const Query& q, const std::string& domain,
              bool quiet) {
  HttpRequest req;
  req.method = "POST";
  req.headers.emplace_back("X-Registry-Auth", registry_auth_header(ctx, domain));
  JsonMessagePrinter printer(stdout, stdout_is_terminal());
  JsonSplitter splitter([&](const json& msg) {
    if (quiet) {
      // Only errors matter.
      if (msg.contains("errorDetail") || msg.contains("error")) printer.print(msg);
      return;
    }
    printer.print(msg);
  });
  try {
    ctx.api().stream(std::move(req), path, q, [&](std::string_view d) { splitter.feed(d); });
  } catch (...) {
    printer.finish();
    throw;
  }
  printer.finish();
}

void register_login(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string username, password;
    bool password_stdin = false;
  };
  r.add({.paths = {"login"},
         .usage = "[OPTIONS] [SERVER]",
         .summary = "Log in to a registry",
         .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-u,--username", o->username, "Username")->type_name("string");
          app.add_option("-p,--password", o->password, "Password")->type_name("string");
          app.add_flag("--password-stdin", o->password_stdin, "Take the password from stdin");
          return [&ctx, o, &args] {
            std::string server = args.empty() ? kDockerHubServer : args[0];
            if (!o->password.empty()) {
              std::fprintf(stderr,
                           "WARNING! Using --password via the CLI is insecure. Use "
                           "--password-stdin.\n");
              if (o->password_stdin)
                throw Error("--password and --password-stdin are mutually exclusive");
            }
            if (o->password_stdin) {
              if (o->username.empty()) throw Error("Must provide --username with --password-stdin");
              std::string all((std::istreambuf_iterator<char>(std::cin)),
                              std::istreambuf_iterator<char>());
              while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
              o->password = all;
            }
            if (o->username.empty()) o->username = prompt("Username: ", false);
            if (o->password.empty()) o->password = prompt("Password: ", true);
            if (o->username.empty()) throw Error("Error: Non-null Username Required");
            if (o->password.empty()) throw Error("Error: Password Required");
            json body{{"username", o->username},
                      {"password", o->password},
                      {"serveraddress", server_key(server)}};
            json answer = ctx.api().call("POST", "/auth", {}, &body);
            json cfg = ctx.config();
            if (!cfg.is_object()) cfg = json::object();
            if (!cfg.contains("auths") || !cfg["auths"].is_object()) cfg["auths"] = json::object();
            cfg["auths"][server_key(server)] = {
                {"auth", base64(o->username + ":" + o->password, false)}};
            save_config(ctx, cfg);
            print_out(answer.value("Status", std::string("Login Succeeded")) + "\n");
            return 0;
          };
        });
}

void register_logout(Registry& r) {
  Context& ctx = r.context();
  r.add(
      {.paths = {"logout"},
       .usage = "[SERVER]",
       .summary = "Log out from a registry",
       .max_args = 1},
      [&ctx](CLI::App&, const Args& args) -> Run {
        return [&ctx, &args] {
          std::string key = server_key(args.empty() ? "" : args[0]);
          json cfg = ctx.config();
          if (!cfg.contains("auths") || !cfg["auths"].is_object() || !cfg["auths"].contains(key)) {
            print_out("Not logged in to " + key + "\n");
            return 0;
          }
          print_out("Removing login credentials for " + key + "\n");
          cfg["auths"].erase(key);
          save_config(ctx, cfg);
          return 0;
        };
      });
}

void register_pull(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    bool all_tags = false, quiet = false;
    std::string platform;
  };
  r.add({.paths = {"image pull", "pull"},
         .usage = "[OPTIONS] NAME[:TAG|@DIGEST]",
         .summary = "Download an image from a registry",
         .min_args = 1,
         .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_flag("-a,--all-tags", o->all_tags,
                       "Download all tagged images in the repository");
          app.add_flag("-q,--quiet", o->quiet, "Suppress verbose output");
          app.add_option("--platform", o->platform,
                         "Set platform if server is multi-platform capable")
              ->type_name("string");
          return [&ctx, o, &args] {
            auto ref = oci::parse_reference(args[0]);
            if (o->all_tags && (!ref.tag.empty() || !ref.digest.empty()))
              throw Error("tag can't be used with --all-tags/-a");
            if (!o->all_tags && ref.tag.empty() && ref.digest.empty()) {
              ref.tag = "latest";
              if (!o->quiet) print_out("Using default tag: latest\n");
            }
            Query q;
            q.add("fromImage", ref.name());
            if (!ref.digest.empty())
              q.add("tag", ref.digest);
            else if (!ref.tag.empty())
              q.add("tag", ref.tag);
            if (!o->platform.empty()) q.add("platform", o->platform);
            transfer(ctx, "/images/create", q, ref.domain, o->quiet);
            if (!o->all_tags) print_out(ref.string() + "\n");
            return 0;
          };
        });
}

void register_push(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    bool all_tags = false, quiet = false;
  };
  r.add({.paths = {"image push", "push"},
         .usage = "[OPTIONS] NAME[:TAG]",
         .summary = "Upload an image to a registry",
         .min_args = 1,
         .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_flag("-a,--all-tags", o->all_tags, "Push all tags of an image to the repository");
          app.add_flag("-q,--quiet", o->quiet, "Suppress verbose output");
          return [&ctx, o, &args] {
            auto ref = oci::parse_reference(args[0]);
            if (!ref.digest.empty()) throw Error("cannot push a digest reference");
            if (o->all_tags && !ref.tag.empty())
              throw Error("tag can't be used with --all-tags/-a");
            if (!o->all_tags && ref.tag.empty()) {
              ref.tag = "latest";
              if (!o->quiet) print_out("Using default tag: latest\n");
            }
            Query q;
            if (!ref.tag.empty()) q.add("tag", ref.tag);
            transfer(ctx, "/images/" + path_escape(ref.name()) + "/push", q, ref.domain, o->quiet);
            if (o->quiet) print_out(ref.string() + "\n");
            return 0;
          };
        });
}

}  // namespace

void register_registry_commands(Registry& r) {
  register_login(r);
  register_logout(r);
  register_pull(r);
  register_push(r);
}

}  // namespace berth::cli
