// list: the containers under the state root, as a table, their ids, or JSON.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {
namespace {

// Columns padded to their widest cell and three spaces apart, as runc's tabwriter prints.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& r : rows)
    for (size_t i = 0; i < r.size(); i++) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); i++) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 3, ' ');
    }
    std::cout << line << "\n";
  }
}

}  // namespace

Verb add_list(CLI::App& app) {
  struct Args {
    bool quiet = false;
    std::string format = "table";
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("list", "list containers");
  cmd->add_flag("-q,--quiet", a->quiet, "print ids only");
  cmd->add_option("-f,--format", a->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  return {cmd, [a](runtime::Runtime& rt) {
            auto all = rt.list();
            if (a->format == "json") {
              auto arr = nlohmann::ordered_json::array();
              for (auto& s : all) arr.push_back(s.to_json());
              std::cout << arr.dump() << "\n";
            } else if (a->quiet) {
              for (auto& s : all) std::cout << s.id << "\n";
            } else {
              std::vector<std::vector<std::string>> rows = {
                  {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
              for (auto& s : all)
                rows.push_back({s.id, std::to_string(s.pid), runtime::status_name(s.status),
                                s.bundle, s.created, s.owner.empty() ? "root" : s.owner});
              print_table(rows);
            }
            return 0;
          }};
}

}  // namespace berth::runtime_cli
