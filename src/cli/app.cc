#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <set>

#include "base/fs.h"
#include "cli/cli.h"
#include "cli/command.h"
#include "cli/config.h"

namespace berth::cli {

ApiClient& Context::api() {
  if (!api_) api_ = std::make_unique<ApiClient>(host());
  return *api_;
}

std::string Context::host() {
  return client::resolve_host(globals.host);
}

const nlohmann::json& Context::config() {
  if (!config_) {
    config_ = std::make_unique<nlohmann::json>(load_config(resolve_config_dir(globals.config_dir)));
  }
  return *config_;
}

void print_out(const std::string& s) {
  write_all(STDOUT_FILENO, s);
}

bool stdout_is_terminal() {
  return ::isatty(STDOUT_FILENO) == 1;
}

bool confirm(const std::string& warning) {
  print_out(warning + "\nAre you sure you want to continue? [y/N] ");
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y";
}

void add_format_flag(CLI::App& app, std::string& target, const std::string& extra_help) {
  std::string help = extra_help.empty() ? "Format output using a custom template:\n"
                                          "'table':            Print output in table format "
                                          "with column headers (default)\n"
                                          "'table TEMPLATE':   Print output in table format "
                                          "using the given Go template\n"
                                          "'json':             Print in JSON format\n"
                                          "'TEMPLATE':         Print output using the given Go "
                                          "template"
                                        : extra_help;
  app.add_option("--format", target, help)->type_name("string");
}

namespace {

std::vector<std::string> words(const std::string& path) {
  return split(path, ' ');
}

}  // namespace

void Registry::group(const std::string& name, const std::string& summary) {
  Group g;
  g.app = root_.add_subcommand(name, summary);
  g.app->set_help_flag();
  g.app->allow_extras();
  g.app->require_subcommand(0, 1);
  g.summary = summary;
  groups_.push_back(g);
  groups_.back().app->add_flag("-h,--help", groups_.back().help);
}

void Registry::add(CommandSpec spec, const Setup& setup) {
  specs_.push_back(std::move(spec));
  const CommandSpec& s = specs_.back();
  for (const auto& path : s.paths) {
    std::vector<std::string> w = words(path);
    CLI::App* parent = &root_;
    if (w.size() == 2) parent = root_.get_subcommand(w[0]);
    Leaf& leaf = leaves_.emplace_back();
    leaf.path = path;
    leaf.spec = &s;
    leaf.app = parent->add_subcommand(w.back(), s.summary);
    leaf.app->set_help_flag();
    leaf.app->allow_extras();
    leaf.setup = setup;
  }
}

void Registry::prepare(Leaf& leaf) {
  if (leaf.run) return;
  leaf.run = leaf.setup(*leaf.app, leaf.args);
  // run and create use -h for --hostname, so help is then --help alone, as in docker.
  bool h_taken = leaf.app->get_option_no_throw("-h") != nullptr;
  leaf.app->add_flag(h_taken ? "--help" : "-h,--help", leaf.help, "Print usage");
  leaf.app->add_option("args", leaf.args);
}

const Registry::Leaf* Registry::find_leaf(const CLI::App* app) const {
  for (const auto& l : leaves_)
    if (l.app == app) return &l;
  return nullptr;
}

Registry::Leaf* Registry::find_leaf(const CLI::App* app) {
  for (auto& l : leaves_)
    if (l.app == app) return &l;
  return nullptr;
}

const Registry::Leaf* Registry::find_path(const std::string& path) const {
  for (const auto& l : leaves_)
    if (l.path == path) return &l;
  return nullptr;
}

Registry::Leaf* Registry::find_path(const std::string& path) {
  for (auto& l : leaves_)
    if (l.path == path) return &l;
  return nullptr;
}

namespace {

constexpr const char* kBin = "berth";

std::string option_usages(const CLI::App& app) {
  struct Row {
    std::string flags, help;
  };
  std::vector<Row> rows;
  size_t width = 0;
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_positional() || o->get_lnames() == std::vector<std::string>{"help"}) continue;
    std::string f = o->get_snames().empty() ? "    " : "-" + o->get_snames()[0] + ", ";
    f += "--" + o->get_lnames()[0];
    if (o->get_expected_min() > 0) f += " " + o->get_type_name();
    width = std::max(width, f.size());
    rows.push_back({f, o->get_description()});
  }
  std::string out;
  for (const auto& r : rows) {
    std::string pad(width - r.flags.size() + 3, ' ');
    std::string indent(2 + width + 3, ' ');
    std::string help;
    for (char c : r.help) help += c == '\n' ? "\n" + indent : std::string(1, c);
    out += "  " + r.flags + pad + help + "\n";
  }
  return out;
}

std::string leaf_usage_line(const Registry::Leaf& l) {
  return std::string(kBin) + " " + l.path + (l.spec->usage.empty() ? "" : " " + l.spec->usage);
}

std::string leaf_help(const Registry::Leaf& l) {
  std::string out = "Usage:  " + leaf_usage_line(l) + "\n\n" + l.spec->summary + "\n";
  if (l.spec->paths.size() > 1) {
    out += "\nAliases:\n  ";
    for (size_t i = 0; i < l.spec->paths.size(); ++i)
      out += (i ? ", " : "") + std::string(kBin) + " " + l.spec->paths[i];
    out += "\n";
  }
  out += "\nOptions:\n" + option_usages(*l.app);
  return out;
}

std::string command_list(const std::vector<std::pair<std::string, std::string>>& cmds) {
  size_t width = 0;
  for (const auto& c : cmds) width = std::max(width, c.first.size());
  std::string out;
  for (const auto& [name, summary] : cmds)
    out += "  " + name + std::string(width - name.size() + 2, ' ') + summary + "\n";
  return out;
}

std::string group_help(const Registry& reg, const Registry::Group& g) {
  std::string name = g.app->get_name();
  std::string out =
      "Usage:  " + std::string(kBin) + " " + name + " COMMAND\n\n" + g.summary + "\n\nCommands:\n";
  std::vector<std::pair<std::string, std::string>> cmds;
  for (const auto& l : reg.leaves())
    if (l.path.rfind(name + " ", 0) == 0 && l.path == name + " " + words(l.spec->paths[0]).back())
      cmds.emplace_back(words(l.path).back(), l.spec->summary);
  std::sort(cmds.begin(), cmds.end());
  out += command_list(cmds);
  out += "\nRun '" + std::string(kBin) + " " + name +
         " COMMAND --help' for more information on a command.\n";
  return out;
}

std::string root_help(const Registry& reg) {
  std::string out = "Usage:  berth [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n";
  std::vector<std::pair<std::string, std::string>> groups, cmds;
  for (const auto& g : reg.groups()) groups.emplace_back(g.app->get_name(), g.summary);
  for (const auto& l : reg.leaves())
    if (words(l.path).size() == 1) cmds.emplace_back(l.path, l.spec->summary);
  std::sort(cmds.begin(), cmds.end());
  std::sort(groups.begin(), groups.end());
  out += "\nManagement Commands:\n" + command_list(groups);
  out += "\nCommands:\n" + command_list(cmds);
  out += "\nGlobal Options:\n" + option_usages(const_cast<Registry&>(reg).root());
  out += "\nRun 'berth COMMAND --help' for more information on a command.\n";
  return out;
}

// docker's flag errors: the message, the usage line, a pointer to --help; exit status 125.
int flag_error(const std::string& msg, const std::string& usage, const std::string& cmd) {
  std::fprintf(stderr, "%s\n\nUsage:  %s\n\nRun '%s --help' for more information\n", msg.c_str(),
               usage.c_str(), cmd.c_str());
  return 125;
}

std::string unknown_flag_message(const std::string& arg) {
  if (arg.rfind("--", 0) == 0) return "unknown flag: " + arg.substr(0, arg.find('='));
  return "unknown shorthand flag: '" + arg.substr(1, 1) + "' in " + arg;
}

std::string plural(size_t n) {
  return n == 1 ? "argument" : "arguments";
}

// docker's arity checks (cli/required.go), worded the same.
std::string arity_error(const Registry::Leaf& l) {
  size_t n = l.args.size(), lo = l.spec->min_args, hi = l.spec->max_args;
  std::string cmd = "'" + std::string(kBin) + " " + l.path + "'";
  if (n >= lo && n <= hi) return "";
  if (hi == 0) return cmd + " accepts no arguments";
  if (lo == hi) return cmd + " requires " + std::to_string(lo) + " " + plural(lo);
  if (n < lo) {
    if (hi != std::numeric_limits<size_t>::max())
      return cmd + " requires at least " + std::to_string(lo) + " and at most " +
             std::to_string(hi) + " " + plural(hi);
    return cmd + " requires at least " + std::to_string(lo) + " " + plural(lo);
  }
  return cmd + " requires at most " + std::to_string(hi) + " " + plural(hi);
}

const CLI::App* chosen(const CLI::App* app) {
  auto subs = app->get_subcommands();
  return subs.empty() ? app : chosen(subs[0]);
}

// `berth help [COMMAND...]`, docker's help command.
int help_topic(Registry& reg, const std::vector<std::string>& topic) {
  std::string path;
  for (const auto& w : topic) path += (path.empty() ? "" : " ") + w;
  if (path.empty()) {
    print_out(root_help(reg));
    return 0;
  }
  if (auto* l = reg.find_path(path)) {
    reg.prepare(*l);
    print_out(leaf_help(*l));
    return 0;
  }
  for (const auto& g : reg.groups())
    if (g.app->get_name() == path) {
      print_out(group_help(reg, g));
      return 0;
    }
  std::fprintf(stderr, "Unknown help topic: %s\n", path.c_str());
  return 1;
}

int dispatch(Registry& reg, const CLI::App* leaf_app) {
  const Registry::Leaf* leaf = reg.find_leaf(leaf_app);
  if (!leaf) {
    // The root or a group, without a (known) command after it.
    const Registry::Group* group = nullptr;
    for (const auto& g : reg.groups())
      if (g.app == leaf_app) group = &g;
    std::vector<std::string> extra = leaf_app->remaining();
    std::string where = group ? std::string(kBin) + " " + group->app->get_name() : kBin;
    if (!extra.empty() && extra[0].rfind("-", 0) == 0)
      return flag_error(unknown_flag_message(extra[0]),
                        where + (group ? " COMMAND" : " [OPTIONS] COMMAND"), where);
    if (!extra.empty()) {
      std::fprintf(stderr, "%s: unknown command: %s %s\n\nRun '%s --help' for more information\n",
                   kBin, where.c_str(), extra[0].c_str(), where.c_str());
      return 1;
    }
    print_out(group ? group_help(reg, *group) : root_help(reg));
    return 0;
  }
  std::string cmd = std::string(kBin) + " " + leaf->path;
  for (const auto& extra : leaf_app->remaining()) {
    // CLI11 keeps the "--" that ends the flags among the extras; it is no flag.
    if (extra.size() > 1 && extra[0] == '-' && extra != "--")
      return flag_error(unknown_flag_message(extra), leaf_usage_line(*leaf), cmd);
  }
  if (leaf->help) {
    print_out(leaf_help(*leaf));
    return 0;
  }
  if (std::string err = arity_error(*leaf); !err.empty()) {
    std::fprintf(stderr, "%s: %s\n\nUsage:  %s\n\nRun '%s --help' for more information\n", kBin,
                 err.c_str(), leaf_usage_line(*leaf).c_str(), cmd.c_str());
    return 1;
  }
  return leaf->run();
}

// Whether `token` (a flag of `app`) consumes the next argument as its value.
bool takes_value(CLI::App& app, const std::string& token) {
  if (token.find('=') != std::string::npos) return false;
  if (token.rfind("--", 0) == 0) {
    const CLI::Option* o = app.get_option_no_throw(token);
    return o && o->get_expected_min() > 0;
  }
  for (size_t i = 1; i < token.size(); ++i) {  // a cluster such as -it or -dp80:80
    const CLI::Option* o = app.get_option_no_throw(std::string("-") + token[i]);
    if (!o) return false;
    if (o->get_expected_min() > 0) return i + 1 == token.size();
  }
  return false;
}

// docker stops parsing flags at the first argument of run, create, exec and top: the rest is
// the container's command line. CLI11 has no such mode, so a "--" goes in there.
void end_flags_at_command(Registry& reg, std::vector<std::string>& args) {
  CLI::App* app = &reg.root();
  Registry::Leaf* leaf = nullptr;
  std::string path;
  for (size_t i = 1; i < args.size(); ++i) {  // args[0] is the program
    const std::string& a = args[i];
    if (a == "--") return;
    if (a.size() > 1 && a[0] == '-') {
      if (takes_value(*app, a)) ++i;
      continue;
    }
    if (leaf) {
      if (!leaf->spec->interspersed) args.insert(args.begin() + static_cast<long>(i), "--");
      return;
    }
    path += (path.empty() ? "" : " ") + a;
    if ((leaf = reg.find_path(path))) {
      reg.prepare(*leaf);
      app = leaf->app;
      continue;
    }
    auto g = std::find_if(reg.groups().begin(), reg.groups().end(),
                          [&](const Registry::Group& g) { return g.app->get_name() == path; });
    if (g == reg.groups().end()) return;
    app = g->app;
  }
}

}  // namespace

int run(int argc, char** argv) {
  // A daemon that hangs up mid-upload must surface as an error, not kill the client.
  ::signal(SIGPIPE, SIG_IGN);
  Context ctx;
  CLI::App root("A self-sufficient runtime for containers", kBin);
  root.set_help_flag();
  root.allow_extras();
  root.require_subcommand(0, 1);
  bool help = false, version = false;
  root.add_option("--config", ctx.globals.config_dir,
                  "Location of client config files (default \"~/.berth\")")
      ->type_name("string");
  root.add_flag("-D,--debug", ctx.globals.debug, "Enable debug mode");
  root.add_option("-H,--host", ctx.globals.host, "Daemon socket to connect to")
      ->type_name("string");
  root.add_option("-l,--log-level", ctx.globals.log_level,
                  "Set the logging level (\"debug\", \"info\", \"warn\", \"error\", \"fatal\") "
                  "(default \"info\")")
      ->type_name("string");
  root.add_flag("-v,--version", version, "Print version information and quit");
  root.add_flag("-h,--help", help, "Print usage");

  std::vector<std::string> help_args;
  CLI::App* help_cmd = root.add_subcommand("help", "Help about any command");
  help_cmd->add_option("topic", help_args);
  help_cmd->allow_extras();
  help_cmd->group("");  // not listed, as in docker

  Registry reg(root, ctx);
  reg.group("container", "Manage containers");
  reg.group("image", "Manage images");
  reg.group("network", "Manage networks");
  reg.group("system", "Manage berth");
  reg.group("volume", "Manage volumes");
  register_image_list(reg);
  register_image_commands(reg);
  register_image_transfer(reg);
  register_system_commands(reg);
  register_container_run(reg);
  register_container_commands(reg);
  register_container_list(reg);
  register_container_logs(reg);
  register_container_cp(reg);
  register_container_stats(reg);
  register_network_commands(reg);
  register_volume_commands(reg);
  register_build_command(reg);

  std::vector<std::string> args(argv, argv + argc);
  end_flags_at_command(reg, args);
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  try {
    root.parse(static_cast<int>(argp.size()), argp.data());
    // A command end_flags_at_command did not find (after a "--", say) gets its flags now.
    if (auto* l = reg.find_leaf(chosen(&root)); l && !l->run) {
      reg.prepare(*l);
      root.clear();
      root.parse(static_cast<int>(argp.size()), argp.data());
    }
  } catch (const CLI::ParseError& e) {
    const CLI::App* at = chosen(&root);
    const Registry::Leaf* leaf = reg.find_leaf(at);
    std::string cmd = leaf ? std::string(kBin) + " " + leaf->path : kBin;
    return flag_error(e.what(), leaf ? leaf_usage_line(*leaf) : "berth [OPTIONS] COMMAND", cmd);
  }
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "error", "fatal"};
  if (!kLevels.count(ctx.globals.log_level)) {
    std::fprintf(stderr, "Unable to parse logging level: %s\n", ctx.globals.log_level.c_str());
    return 1;
  }
  if (version) {
    print_out(std::string(kBin) + " version " + BERTH_VERSION + ", build " + BERTH_GIT_COMMIT +
              "\n");
    return 0;
  }
  const CLI::App* leaf_app = chosen(&root);
  if (help && leaf_app == &root) {
    print_out(root_help(reg));
    return 0;
  }
  if (leaf_app == help_cmd) return help_topic(reg, help_args);
  try {
    return dispatch(reg, leaf_app);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

}  // namespace berth::cli
