// Help in urfave/cli's layout, as runc prints it: NAME:, USAGE:, VERSION:, COMMANDS:,
// GLOBAL OPTIONS: (OPTIONS: for a command). Scripts read these sections.
#include <algorithm>
#include <sstream>

#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {
namespace {

// "--env value, -e value": long names first, then short ones, as urfave lists them.
std::string option_names(const CLI::Option* opt) {
  std::string out;
  bool takes_value = opt->get_expected_min() > 0;
  auto add = [&](const std::string& name) {
    if (!out.empty()) out += ", ";
    out += name;
    if (takes_value) out += " value";
  };
  for (auto& l : opt->get_lnames()) add("--" + l);
  for (auto& s : opt->get_snames()) add("-" + s);
  return out;
}

void table(std::ostringstream& out, const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (auto& [left, right] : rows) width = std::max(width, left.size());
  for (auto& [left, right] : rows)
    out << "   " << left << std::string(width - left.size() + 2, ' ') << right << "\n";
}

class UrfaveFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const override {
    const CLI::App* root = app;
    while (root->get_parent()) root = root->get_parent();
    std::string prog = "berth-runtime";
    bool top = app == root;
    std::ostringstream out;
    out << "NAME:\n   " << prog << (top ? "" : " " + app->get_name()) << " - "
        << app->get_description() << "\n\nUSAGE:\n   " << prog;
    if (top)
      out << " [global options] command [command options] [arguments...]\n\nVERSION:\n   "
          << BERTH_VERSION << "\nspec: " << kSpecVersion << "\n";
    else
      out << " " << app->get_name() << " [command options] <container-id>\n";
    std::vector<std::pair<std::string, std::string>> rows;
    if (top) {
      for (auto* sub : app->get_subcommands([](const CLI::App*) { return true; }))
        rows.emplace_back(sub->get_name(), sub->get_description());
      out << "\nCOMMANDS:\n";
      table(out, rows);
      rows.clear();
    }
    for (auto* opt : app->get_options([](const CLI::Option* o) { return o->nonpositional(); }))
      rows.emplace_back(option_names(opt), opt->get_description());
    out << "\n" << (top ? "GLOBAL OPTIONS" : "OPTIONS") << ":\n";
    table(out, rows);
    return out.str();
  }
};

}  // namespace

void use_urfave_help(CLI::App& app) {
  app.formatter(std::make_shared<UrfaveFormatter>());
}

}  // namespace berth::runtime_cli
